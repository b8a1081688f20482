/*
 * tasktable.c - programs placed at build time (boards without an MMU).
 * tools/layout.py writes a table into flash (format: docs/mcu-port.md):
 * for each program its flash region (code, read-only data, the image of
 * .data) and its RAM region (the task's kernel stack in the lowest eighth,
 * then its user stack, message buffer, .data, .bss and heap). Every field
 * is checked before it is used: a bad table entry is refused with -E_INVAL,
 * never trusted. Creating a task copies .data and clears .bss again, so a
 * program can be started anew after it died; one instance at a time.
 */
#include "task.h"

#define TABLE_MAGIC "NAGITASK"
#define TABLE_MAX 64
#define MSGBUF_BYTES (BOOTINFO_OFFSET + sizeof(struct nagi_bootinfo))

struct table_entry {
    char name[32];
    uint32_t flash_base, flash_size;
    uint32_t ram_base, ram_size;
    uint32_t entry;
    uint32_t data_load, data_start, data_size;
    uint32_t bss_start, bss_size;
    uint32_t stack_top;
    uint32_t msgbuf;
    uint32_t heap_base, heap_size;
};
_Static_assert(sizeof(struct table_entry) == 88, "task table entry layout");

const void *task_table = (const void *)ARCH_TASK_TABLE;

/* [a, a+n) lies inside [base, base+size) (no overflow anywhere). */
static bool inside(uint32_t a, uint32_t n, uint32_t base, uint32_t size) {
    return a >= base && a - base <= size && n <= size - (a - base);
}

/* The table's entries and their number, or NULL if there is no valid
 * table header. */
static const struct table_entry *entries(uint32_t *count) {
    const uint8_t *t = task_table;
    uint32_t hsize;
    if (!t || memcmp(t, TABLE_MAGIC, 8) != 0)
        return NULL;
    memcpy(count, t + 8, 4);
    memcpy(&hsize, t + 12, 4);
    if (*count > TABLE_MAX || hsize != 16)
        return NULL;
    return (const void *)(t + 16);
}

static const struct table_entry *find(const char *name, const struct table_entry **all,
                                      uint32_t *count_out) {
    uint32_t count;
    const struct table_entry *table = entries(&count);
    if (!table)
        return NULL;
    *all = table;
    *count_out = count;
    size_t len = strnlen(name, TASK_NAME_MAX);
    for (uint32_t i = 0; i < count; i++) {
        const struct table_entry *e = &table[i];
        if (strnlen(e->name, sizeof(e->name)) == len && len < sizeof(e->name) &&
            memcmp(e->name, name, len) == 0)
            return e;
    }
    return NULL;
}

static bool entry_valid(const struct table_entry *e) {
    uint32_t kstack = e->ram_size / 8;
    uint32_t user_base = e->ram_base + kstack, user_size = e->ram_size - kstack;
    return e->ram_size >= 4096 &&
        (e->entry & 1) && inside(e->entry & ~1u, 2, e->flash_base, e->flash_size) &&
        inside(e->data_load, e->data_size, e->flash_base, e->flash_size) &&
        inside(e->data_start, e->data_size, user_base, user_size) &&
        inside(e->bss_start, e->bss_size, user_base, user_size) &&
        inside(e->heap_base, e->heap_size, user_base, user_size) &&
        e->stack_top > user_base && inside(e->stack_top, 0, user_base, user_size) &&
        (e->stack_top & 7) == 0 && (e->msgbuf & 7) == 0 &&
        inside(e->msgbuf, MSGBUF_BYTES, user_base, user_size);
}

/* [a, a+n) and [b, b+m) share a byte (both non-empty, no wrap-around:
 * entry_valid has checked the regions' shapes). */
static bool overlap(uint32_t a, uint32_t n, uint32_t b, uint32_t m) {
    return n && m && a < b + m && b < a + n;
}

/* Why entry e of the table may not run, in a phrase for the console, or
 * NULL. Beyond its own fields (entry_valid): its regions are MPU-shaped
 * (power of two, aligned to their size, so the kernel stack is exactly
 * the lowest subregion), its flash does not cover the table itself, and
 * neither region overlaps that of a program EARLIER in the table: of two
 * overlapping entries the later is refused, so no two tasks ever share
 * memory, whatever order they start in, and the earlier (init comes
 * first) still runs. The arch refuses regions
 * outside task memory (the kernel's own flash and RAM included). */
static const char *entry_problem(const struct table_entry *table, uint32_t count,
                                 const struct table_entry *e, const char **other) {
    uint32_t table_bytes = 16 + count * (uint32_t)sizeof(*e);
    uint32_t table_addr = (uint32_t)(uintptr_t)task_table;
    *other = NULL;
    if ((e->ram_size & (e->ram_size - 1)) || (e->ram_base & (e->ram_size - 1)))
        return "RAM region is not a power of two aligned to its size "
               "(its kernel stack would not be the MPU's lowest subregion)";
    if (!e->flash_size || (e->flash_size & (e->flash_size - 1)) ||
        (e->flash_base & (e->flash_size - 1)))
        return "flash region is not a power of two aligned to its size";
    if (!entry_valid(e))
        return "a field points outside its regions";
    if (overlap(e->flash_base, e->flash_size, table_addr, table_bytes))
        return "flash region overlaps the task table";
    for (const struct table_entry *o = table; o < e; o++) {
        *other = o->name;
        if (overlap(e->flash_base, e->flash_size, o->flash_base, o->flash_size))
            return "flash region overlaps that of";
        if (overlap(e->ram_base, e->ram_size, o->ram_base, o->ram_size))
            return "RAM region overlaps that of";
    }
    *other = NULL;
    return NULL;
}

/* Refuse table entry e with one console line naming the program. */
static int refuse(const struct table_entry *e, const char *why, const char *other) {
    char name[sizeof(e->name) + 1], with[sizeof(e->name) + 1] = "";
    strlcpy_k(name, e->name, sizeof(name));      /* a bad table may not end its names */
    if (other)
        strlcpy_k(with, other, sizeof(with));
    printk("nagi: task table: '%s' refused: %s%s%s%s\n", name, why,
           other ? " '" : "", with, other ? "'" : "");
    return -E_INVAL;
}

/* Another live task runs this program (its RAM region is in use). */
static bool in_use(const struct table_entry *e, struct task *self) {
    for (int i = 0; i < CONFIG_MAX_TASKS; i++) {
        struct task *o = &tasks[i];
        if (o != self && o->name == e->name && o->state &&
            o->state != TASK_STATE_KILLED && o->state != TASK_STATE_EXITED)
            return true;
    }
    return false;
}

/* Bytes of RAM in the regions of programs that run now. */
size_t image_table_ram_in_use(void) {
    uint32_t count;
    const struct table_entry *table = entries(&count);
    size_t used = 0;
    for (uint32_t i = 0; table && i < count; i++)
        if (in_use(&table[i], NULL))
            used += table[i].ram_size;
    return used;
}

int image_load_table(struct task *t, const char *name, uint64_t arg) {
    const struct table_entry *table = NULL, *e;
    const char *why, *other;
    uint32_t count = 0;
    if (!(e = find(name, &table, &count)))
        return -E_NOENT;
    if ((why = entry_problem(table, count, e, &other)))
        return refuse(e, why, other);
    if (in_use(e, t))
        return -E_BUSY;
    if (arch_vm_add_region(&t->vm, e->flash_base, e->flash_size, VM_EXEC) < 0)
        return refuse(e, "flash region is outside task flash (or in the kernel's)", NULL);
    if (arch_vm_add_region(&t->vm, e->ram_base, e->ram_size, VM_WRITE | VM_KSTACK_LOW) < 0)
        return refuse(e, "RAM region is outside task RAM (or in the kernel's)", NULL);
    t->name = e->name;
    t->kstack = arch_phys_to_virt(e->ram_base);
    t->kstack_size = e->ram_size / 8;

    memcpy(arch_phys_to_virt(e->data_start), arch_phys_to_virt(e->data_load), e->data_size);
    memset(arch_phys_to_virt(e->bss_start), 0, e->bss_size);
    t->msgbuf = arch_phys_to_virt(e->msgbuf);
    t->ipc_buf = t->msgbuf;
    memset(t->msgbuf, 0, MSGBUF_BYTES);
    struct nagi_bootinfo *bi =
        (struct nagi_bootinfo *)((uint8_t *)t->msgbuf + BOOTINFO_OFFSET);
    bi->tid = (uint64_t)t->tid;
    bi->heap_base = e->heap_base;
    bi->heap_size = e->heap_size;
    bi->stack_top = e->stack_top;
    bi->image_base = e->flash_base;
    bi->scratch = 0;                 /* no page payloads without paging */
    strlcpy_k(bi->name, e->name, sizeof(bi->name));
    arch_task_init(t, e->entry, arg, e->msgbuf, e->stack_top);
    return 0;
}
