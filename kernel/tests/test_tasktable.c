/*
 * test_tasktable.c - programs placed at build time (kernel/tasktable.c):
 * the table is found and every field checked before use, the regions the
 * task gets (from arm-m's own regions.c), .data/.bss set up on each
 * creation, one instance at a time, and the kernel stack kept out of the
 * task's reach. The "flash" and "RAM" of an MCU (mcu_memory.h) are host
 * mappings at their 32-bit addresses.
 */
#include <stdio.h>
#include <sys/mman.h>
#include "kt.h"
#include "mcu_memory.h"

#define FLASH ((uint32_t)CONFIG_FLASH_BASE)
#define RAM   ((uint32_t)CONFIG_RAM_BASE)
#define SPAN  0x10000u

struct entry {
    char name[32];
    uint32_t flash_base, flash_size, ram_base, ram_size, entry;
    uint32_t data_load, data_start, data_size, bss_start, bss_size;
    uint32_t stack_top, msgbuf, heap_base, heap_size;
};

static uint8_t *mem(uint32_t addr) {
    static int mapped;
    if (!mapped) {
        REQUIRE(mmap((void *)(uintptr_t)FLASH, SPAN, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != MAP_FAILED);
        REQUIRE(mmap((void *)(uintptr_t)RAM, SPAN, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != MAP_FAILED);
        mapped = 1;
    }
    return (uint8_t *)(uintptr_t)addr;
}

/* A table of one program "prog": flash 0x10004000 (16 KiB), RAM
 * 0x20004000 (8 KiB: kernel stack 1 KiB, stack 2 KiB, msgbuf, data 16,
 * bss 64, heap 1 KiB). */
static struct entry good(void) {
    struct entry e = { .name = "prog" };
    e.flash_base = FLASH + 0x4000; e.flash_size = 0x4000;
    e.ram_base = RAM + 0x4000; e.ram_size = 0x2000;
    e.entry = e.flash_base + 0x101;
    e.data_load = e.flash_base + 0x800; e.data_size = 16;
    e.stack_top = e.ram_base + 0x400 + 0x800;
    e.msgbuf = e.stack_top;
    e.data_start = e.msgbuf + BOOTINFO_OFFSET + sizeof(struct nagi_bootinfo);
    e.bss_start = e.data_start + 16; e.bss_size = 64;
    e.heap_base = e.bss_start + 64; e.heap_size = 1024;
    return e;
}

static void put_table(const struct entry *e, unsigned n) {
    uint8_t *t = mem(FLASH);
    uint32_t count = n, hsize = 16;
    memcpy(t, "NAGITASK", 8);
    memcpy(t + 8, &count, 4);
    memcpy(t + 12, &hsize, 4);
    memcpy(t + 16, e, n * sizeof(*e));
    task_table = t;
}

static struct task *load(const char *name, int *err) {
    struct task *t = task_create("caller's buffer", 3, 0);
    REQUIRE(t != NULL);
    *err = image_load_table(t, name, 42);
    return t;
}

TEST(tasktable_loads_a_program) {
    kt_boot();
    struct entry e = good();
    put_table(&e, 1);
    memcpy(mem(e.data_load), "initialised data", 16);
    memset(mem(e.bss_start), 0xaa, e.bss_size);
    int err;
    struct task *t = load("prog", &err);
    CHECK_EQ(err, 0);
    CHECK_STR(t->name, "prog");
    CHECK(t->name != (const char *)"caller's buffer");
    CHECK_EQ(memcmp(mem(e.data_start), "initialised data", 16), 0);
    CHECK_EQ(mem(e.bss_start)[0], 0);
    CHECK_EQ(mem(e.bss_start)[63], 0);
    CHECK_EQ((uintptr_t)t->kstack, e.ram_base);
    CHECK_EQ(t->kstack_size, e.ram_size / 8);
    CHECK_EQ((uintptr_t)t->msgbuf, e.msgbuf);
    CHECK_EQ(t->arch.entry, e.entry);
    CHECK_EQ(t->arch.arg, 42);
    CHECK_EQ(t->arch.stack_top, e.stack_top);
    struct nagi_bootinfo *bi = (void *)(mem(e.msgbuf) + BOOTINFO_OFFSET);
    CHECK_EQ(bi->heap_base, e.heap_base);
    CHECK_EQ(bi->heap_size, e.heap_size);
    CHECK_EQ(bi->stack_top, e.stack_top);
    CHECK_STR(bi->name, "prog");
    /* the regions as arm-m's regions.c encodes them for the MPU (ARMv7-M
     * ARM B3.5.8-9): flash read-only and executable, RAM read-write,
     * never executable, its lowest eighth (the kernel stack) disabled */
    CHECK_EQ(t->vm.r[0].rbar & ~0x1fu, e.flash_base);
    CHECK_EQ(2u << ((t->vm.r[0].rasr >> 1) & 0x1f), e.flash_size);
    CHECK_EQ((t->vm.r[0].rasr >> 24) & 7, 6);        /* AP: read-only */
    CHECK(!(t->vm.r[0].rasr & (1u << 28)));          /* XN clear */
    uint32_t base, size;
    REQUIRE(arm_vm_ram(&t->vm, &base, &size));
    CHECK_EQ(base, e.ram_base);
    CHECK_EQ(size, e.ram_size);
    CHECK_EQ((t->vm.r[1].rasr >> 24) & 7, 3);        /* AP: read-write */
    CHECK(t->vm.r[1].rasr & (1u << 28));             /* XN */
    CHECK_EQ((t->vm.r[1].rasr >> 8) & 0xff, 1);      /* SRD: subregion 0 off */
    for (int i = 2; i < ARM_TASK_REGIONS; i++)
        CHECK_EQ(t->vm.r[i].rasr, 0);
}

TEST(tasktable_unknown_program_or_bad_header_is_e_noent) {
    kt_boot();
    struct entry e = good();
    int err;
    put_table(&e, 1);
    load("pro", &err);
    CHECK_EQ(err, -E_NOENT);
    load("prog2", &err);
    CHECK_EQ(err, -E_NOENT);
    memcpy(mem(FLASH), "NAGIXXXX", 8);
    load("prog", &err);
    CHECK_EQ(err, -E_NOENT);
    put_table(&e, 1);
    uint32_t huge = 100000;
    memcpy(mem(FLASH) + 8, &huge, 4);
    load("prog", &err);
    CHECK_EQ(err, -E_NOENT);
    task_table = NULL;
    load("prog", &err);
    CHECK_EQ(err, -E_NOENT);
}

static const char *const bad_cases[] = {
    "entry without the Thumb bit", "entry outside flash", "data image outside flash",
    "data in the kernel stack", "bss past the region", "bss size wraps", "heap outside",
    "stack top in the kernel stack", "stack top misaligned", "msgbuf misaligned",
    "msgbuf runs out of the region", "RAM region below 4 KiB",
    "flash region not a power of two", "RAM region misaligned",
};

static void make_bad(unsigned i, struct entry *e) {
    switch (i) {
    case 0: e->entry &= ~1u; break;
    case 1: e->entry = e->flash_base + e->flash_size + 1; break;
    case 2: e->data_load = e->flash_base + e->flash_size - 8; break;
    case 3: e->data_start = e->ram_base + 16; break;
    case 4: e->bss_size = e->ram_size; break;
    case 5: e->bss_size = 0xfffffff0u; break;
    case 6: e->heap_base = e->ram_base + e->ram_size; break;
    case 7: e->stack_top = e->ram_base + 0x200; break;
    case 8: e->stack_top += 4; break;
    case 9: e->msgbuf += 4; break;
    case 10: e->msgbuf = e->ram_base + e->ram_size - 64; break;
    case 11:
        e->ram_size = 0x800; e->stack_top = e->ram_base + 0x200; e->msgbuf = e->stack_top;
        e->data_start = e->msgbuf + 576; e->data_size = 0; e->bss_start = e->data_start;
        e->bss_size = 0; e->heap_base = e->bss_start; e->heap_size = 0;
        break;
    case 12: e->flash_size = 0x3000; break;
    case 13:
        e->ram_base += 0x1000; e->stack_top += 0x1000; e->msgbuf += 0x1000;
        e->data_start += 0x1000; e->bss_start += 0x1000; e->heap_base += 0x1000;
        break;
    }
}

TEST(tasktable_refuses_every_bad_field) {
    for (unsigned i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        kt_boot();
        struct entry e = good();
        make_bad(i, &e);
        put_table(&e, 1);
        int err;
        struct task *t = load("prog", &err);
        if (err != -E_INVAL)
            printf("  %s: error %d, want %d\n", bad_cases[i], err, -E_INVAL);
        CHECK_EQ(err, -E_INVAL);
        task_kill(t, TASK_STATE_KILLED, NULL);
    }
}

TEST(tasktable_one_instance_at_a_time) {
    kt_boot();
    struct entry e = good();
    put_table(&e, 1);
    memcpy(mem(e.data_load), "0123456789abcdef", 16);
    int err;
    struct task *a = load("prog", &err);
    REQUIRE(err == 0);
    a->state = TASK_STATE_RUNNABLE;
    memcpy(mem(e.data_start), "scribbled over..", 16);
    struct task *b = load("prog", &err);
    CHECK_EQ(err, -E_BUSY);
    CHECK_EQ(memcmp(mem(e.data_start), "scribbled over..", 16), 0);   /* a's RAM untouched */
    task_kill(b, TASK_STATE_KILLED, NULL);
    task_kill(a, TASK_STATE_KILLED, "test");
    load("prog", &err);                  /* a died: the program can start again */
    CHECK_EQ(err, 0);
    CHECK_EQ(memcmp(mem(e.data_start), "0123456789abcdef", 16), 0);
}

TEST(tasktable_kernel_stack_is_not_user_memory) {
    kt_boot();
    struct entry e = good();
    put_table(&e, 1);
    int err;
    struct task *t = load("prog", &err);
    REQUIRE(err == 0);
    memcpy(mem(e.heap_base), "from the heap", 13);
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)e.heap_base, 13), 13);
    CHECK(host_console_contains("from the heap"));
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)e.ram_base + 8, 8), -E_FAULT);
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)(e.ram_base + e.ram_size / 8 - 4), 8), -E_FAULT);
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)(e.ram_base + e.ram_size - 4), 8), -E_FAULT);
    CHECK_EQ(kt_syscall(t, SYS_DEBUG_WRITE, (long)e.flash_base, 4), 4);   /* flash is readable */
}

/* A second program "peer" placed apart from good(): flash 0x10008000
 * (16 KiB), RAM 0x20008000 (8 KiB). */
static struct entry peer(void) {
    struct entry e = good();
    uint32_t df = 0x4000, dr = 0x4000;
    memcpy(e.name, "peer", 5);
    e.flash_base += df; e.entry += df; e.data_load += df;
    e.ram_base += dr; e.stack_top += dr; e.msgbuf += dr;
    e.data_start += dr; e.bss_start += dr; e.heap_base += dr;
    return e;
}

/* Move a whole entry's RAM region (and everything in it) by delta. */
static void move_ram(struct entry *e, int32_t delta) {
    e->ram_base += delta; e->stack_top += delta; e->msgbuf += delta;
    e->data_start += delta; e->bss_start += delta; e->heap_base += delta;
}

TEST(tasktable_refuses_overlaps_with_a_line_naming_both) {
    static const struct {
        const char *what, *line;
    } cases[] = {
        { "RAM overlaps another program's",
          "'peer' refused: RAM region overlaps that of 'prog'" },
        { "flash overlaps another program's",
          "'peer' refused: flash region overlaps that of 'prog'" },
        { "flash covers the table itself",
          "'peer' refused: flash region overlaps the task table" },
        { "RAM region not a power of two (kernel stack not a subregion)",
          "'peer' refused: RAM region is not a power of two" },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        kt_boot();
        host_console_clear();
        struct entry e[2] = { good(), peer() };
        switch (i) {
        case 0: move_ram(&e[1], -0x4000); break;             /* onto prog's RAM */
        case 1: e[1].flash_base -= 0x4000; e[1].entry -= 0x4000;   /* onto prog's flash */
                e[1].data_load -= 0x4000; break;
        case 2: e[1].flash_base = FLASH; e[1].flash_size = 0x4000;
                e[1].entry = FLASH + 0x101; e[1].data_load = FLASH + 0x800; break;
        case 3: e[1].ram_size = 0x1800; break;
        }
        put_table(e, 2);
        int err;
        struct task *t = load("peer", &err);
        if (err != -E_INVAL || !host_console_contains(cases[i].line))
            printf("  %s: error %d, console: %s\n", cases[i].what, err, host_console);
        CHECK_EQ(err, -E_INVAL);
        CHECK(host_console_contains(cases[i].line));
        task_kill(t, TASK_STATE_KILLED, NULL);
        /* of two overlapping entries only the later is refused: prog,
         * first in the table, still loads */
        {
            t = load("prog", &err);
            if (err)
                printf("  %s: prog: error %d\n", cases[i].what, err);
            CHECK_EQ(err, 0);
            task_kill(t, TASK_STATE_KILLED, NULL);
        }
    }
}

TEST(tasktable_unterminated_names_print_safely) {
    kt_boot();
    host_console_clear();
    struct entry e[2] = { peer(), good() };
    memset(e[0].name, 'x', sizeof(e[0].name));            /* no NUL */
    move_ram(&e[0], -0x4000);
    put_table(e, 2);
    int err;
    load("prog", &err);                                    /* prog comes after 'xxx…' */
    CHECK_EQ(err, -E_INVAL);
    CHECK(host_console_contains("'prog' refused: RAM region overlaps that of "
                                "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"));
}
