/*
 * kt.c - helpers for the kernel tests (see kt.h).
 */
#include <stdio.h>
#include "kt.h"

void kt_boot(void) {
    arch_memory_ranges(page_add_range);
    sched_init();
    host_console_clear();
}

struct task *kt_task(const char *name, int prio, unsigned caps) {
    struct task *t = task_create(name, prio, caps);
    REQUIRE(t != NULL);
    REQUIRE(elf_prepare_task(t, name) == 0);
    sched_init_stack(t);
    t->state = TASK_STATE_RUNNABLE;
    return t;
}

void kt_run(struct task *t) {
    sched_dequeue(t);
    t->state = TASK_STATE_RUNNABLE;
    current = t;
}

struct channel *kt_ch(struct task *t, long cid) {
    struct channel *ch = channel_get(t, cid);
    REQUIRE(ch != NULL);
    return ch;
}

void kt_connect(struct task *a, long *ca, struct task *b, long *cb) {
    long x = channel_open(a), y = channel_open(a);
    REQUIRE(x >= 2 && y >= 2);
    REQUIRE(channel_link(a, x, y) == 0);
    if (a == b) {
        *ca = x;
        *cb = y;
        return;
    }
    *ca = x;
    *cb = channel_move(kt_ch(a, y), b);
    REQUIRE(*cb >= 2);
}

long kt_syscall(struct task *t, long nr, long a0, long a1) {
    kt_run(t);
    return kernel_syscall(a0, a1, 0, 0, 0, nr);
}

long kt_syscall3(struct task *t, long nr, long a0, long a1, long a2) {
    kt_run(t);
    return kernel_syscall(a0, a1, a2, 0, 0, nr);
}

long kt_ipc(struct task *t, long cid, long flags) {
    return kt_syscall(t, SYS_IPC, cid, flags);
}

void kt_msg(struct task *t, uint16_t label, const void *data, uint16_t len) {
    struct nagi_msg *m = t->msgbuf;
    memset(m, 0, MSG_HEADER_SIZE);
    m->label = label;
    m->len = len;
    if (data && len)
        memcpy(m->data, data, len);
}

long kt_kcall(struct task *t, uint16_t label, const void *data, uint16_t len) {
    kt_msg(t, label, data, len);
    long r = kt_ipc(t, KERNEL_CID, IPC_CALL);
    REQUIRE(r == 0);
    CHECK_EQ(t->msgbuf->from, KERNEL_CID);
    return (long)t->msgbuf->arg;
}

void *kt_uptr(struct task *t, uintptr_t vaddr) {
    uintptr_t paddr;
    unsigned attrs;
    if (arch_vm_lookup(&t->vm, vaddr, &paddr, &attrs) < 0)
        return NULL;
    return arch_phys_to_virt(paddr);
}

void kt_initfs(const struct kt_file *files, unsigned n) {
    size_t total = (size_t)(initfs_end - initfs_start);
    memset(initfs_start, 0, total);
    memcpy(initfs_start, INITFS_MAGIC, 8);
    memcpy(initfs_start + 8, &n, 4);
    size_t off = 16 + n * 40;
    for (unsigned i = 0; i < n; i++) {
        off = (off + 15) & ~(size_t)15;
        REQUIRE(off + files[i].size <= total);
        uint8_t *e = initfs_start + 16 + i * 40;
        strncpy((char *)e, files[i].name, INITFS_NAME_MAX);
        uint32_t o = (uint32_t)off, s = (uint32_t)files[i].size;
        memcpy(e + 32, &o, 4);
        memcpy(e + 36, &s, 4);
        memcpy(initfs_start + off, files[i].data, files[i].size);
        off += files[i].size;
    }
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

size_t kt_elf(uint8_t *buf, size_t cap, uint64_t entry,
              const struct kt_seg *segs, unsigned n) {
    size_t off = 64 + 56 * n;
    memset(buf, 0, off);
    memcpy(buf, "\177ELF\2\1\1", 7);
    put16(buf + 16, 2);             /* ET_EXEC */
    put16(buf + 18, ARCH_ELF_MACHINE);
    put32(buf + 20, 1);
    put64(buf + ELF_OFF_ENTRY, entry);
    put64(buf + ELF_OFF_PHOFF, 64);
    put16(buf + 52, 64);
    put16(buf + 54, 56);
    put16(buf + ELF_OFF_PHNUM, (uint16_t)n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *ph = buf + ELF_PH0 + 56 * i;
        REQUIRE(off + segs[i].filesz <= cap);
        put32(ph, 1);               /* PT_LOAD */
        put32(ph + 4, segs[i].flags);
        put64(ph + PH_OFF_OFFSET, off);
        put64(ph + PH_OFF_VADDR, segs[i].vaddr);
        put64(ph + 24, segs[i].vaddr);
        put64(ph + PH_OFF_FILESZ, segs[i].filesz);
        put64(ph + PH_OFF_MEMSZ, segs[i].memsz);
        put64(ph + 48, 4096);
        if (segs[i].filesz)
            memcpy(buf + off, segs[i].data, segs[i].filesz);
        off += segs[i].filesz;
    }
    return off;
}

size_t kt_elf_simple(uint8_t *buf, size_t cap) {
    static const uint8_t code[] = { 0xcc, 0xc3 };
    struct kt_seg seg = { 5, KT_ENTRY, 0x100, code, sizeof(code) };
    return kt_elf(buf, cap, KT_ENTRY, &seg, 1);
}
