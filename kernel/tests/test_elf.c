/*
 * test_elf.c - the initfs parser and the ELF loader (kernel/elf.c), with
 * good and malformed images built here. Malformed input must give an
 * error, never a crash (ASan watches every read).
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kt.h"

static uint8_t img[16384];

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* Put img[0..n) in the initfs as "prog" and load it into a fresh task. */
static int load(size_t n, struct task **out) {
    struct kt_file f = { "prog", img, n };
    kt_initfs(&f, 1);
    struct task *t = task_create("prog", 3, 0);
    REQUIRE(t != NULL);
    if (out)
        *out = t;
    return task_load(t, "prog", 99);
}

TEST(initfs_find_finds_files) {
    struct kt_file f[] = { { "init", "abc", 3 }, { "shell", "0123456789abcdefXYZ", 19 },
                           { "empty", "", 0 } };
    kt_initfs(f, 3);
    const uint8_t *d;
    const char *nm;
    size_t n;
    CHECK_EQ(initfs_find("shell", &d, &n, &nm), 0);
    CHECK_EQ(n, 19);
    CHECK(memcmp(d, "0123456789abcdefXYZ", 19) == 0);
    CHECK_EQ(((uintptr_t)(d - initfs_start)) % 16, 0);
    CHECK_EQ(initfs_find("init", &d, &n, &nm), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(initfs_find("empty", &d, &n, &nm), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(initfs_find("ini", &d, &n, &nm), -E_NOENT);
    CHECK_EQ(initfs_find("init2", &d, &n, &nm), -E_NOENT);
    CHECK_EQ(initfs_find("", &d, &n, &nm), -E_NOENT);
}

TEST(initfs_rejects_malformed_bundles) {
    const uint8_t *d;
    const char *nm;
    size_t n;
    struct kt_file f = { "init", "abc", 3 };
    kt_initfs(&f, 1);
    initfs_start[0] = 'X';                           /* bad magic */
    CHECK_EQ(initfs_find("init", &d, &n, &nm), -E_NOENT);

    kt_initfs(&f, 1);
    uint32_t count = 0x7fffffff;                     /* entries past the end */
    memcpy(initfs_start + 8, &count, 4);
    CHECK_EQ(initfs_find("init", &d, &n, &nm), -E_NOENT);

    kt_initfs(&f, 1);
    uint32_t off = (uint32_t)(initfs_end - initfs_start) + 16;
    put32(initfs_start + 16 + 32, off);              /* offset past the end */
    CHECK_EQ(initfs_find("init", &d, &n, &nm), -E_NOENT);

    kt_initfs(&f, 1);
    put32(initfs_start + 16 + 36, 0xfffffff0);       /* size past the end */
    CHECK_EQ(initfs_find("init", &d, &n, &nm), -E_NOENT);

    kt_initfs(&f, 1);
    put32(initfs_start + 16 + 32, 0xfffffff0);       /* offset + size wraps */
    put32(initfs_start + 16 + 36, 0x20);
    CHECK_EQ(initfs_find("init", &d, &n, &nm), -E_NOENT);

    kt_initfs(&f, 1);
    memset(initfs_start + 16, 'a', INITFS_NAME_MAX); /* unterminated name */
    CHECK_EQ(initfs_find("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &d, &n, &nm), -E_NOENT);
}

TEST(elf_loads_segments_and_prepares_the_entry) {
    kt_boot();
    static const uint8_t code[] = { 0x90, 0x90, 0xcc, 0xc3 };
    static const uint8_t data[] = "initialised data";
    struct kt_seg segs[] = {
        { 5, ARCH_IMAGE_BASE + 0x1000, 0x10, code, sizeof(code) },
        /* data then bss across a page boundary */
        { 6, ARCH_IMAGE_BASE + 0x2ff8, 0x2000, data, sizeof(data) },
    };
    size_t n = kt_elf(img, sizeof(img), ARCH_IMAGE_BASE + 0x1002, segs, 2);
    struct task *t;
    CHECK_EQ(load(n, &t), 0);
    CHECK_EQ(t->arch.entry, ARCH_IMAGE_BASE + 0x1002);
    CHECK_EQ(t->arch.arg, 99);
    CHECK_EQ(t->arch.msgbuf, ARCH_MSGBUF_ADDR);
    CHECK_EQ(t->arch.stack_top, ARCH_STACK_TOP);
    CHECK_EQ(t->arch.inits, 1);
    uint8_t *p = kt_uptr(t, ARCH_IMAGE_BASE + 0x1000);
    REQUIRE(p != NULL);
    CHECK(memcmp(p, code, sizeof(code)) == 0);
    CHECK_EQ(p[4], 0);
    uint8_t *q = kt_uptr(t, ARCH_IMAGE_BASE + 0x2ff8);
    REQUIRE(q != NULL);
    CHECK(memcmp(q, data, 8) == 0);                  /* first page part */
    uint8_t *r = kt_uptr(t, ARCH_IMAGE_BASE + 0x3000);
    REQUIRE(r != NULL);
    CHECK(memcmp(r, data + 8, sizeof(data) - 8) == 0);
    CHECK_EQ(r[sizeof(data) - 8], 0);                /* bss is zero */
    CHECK(kt_uptr(t, ARCH_IMAGE_BASE + 0x4ff8) != NULL);
    CHECK(kt_uptr(t, ARCH_IMAGE_BASE + 0x5000) == NULL);
    uintptr_t pa;
    unsigned attrs;
    REQUIRE(arch_vm_lookup(&t->vm, ARCH_IMAGE_BASE + 0x1000, &pa, &attrs) == 0);
    CHECK_EQ(attrs & (VM_USER | VM_EXEC | VM_WRITE), VM_USER | VM_EXEC);
    REQUIRE(arch_vm_lookup(&t->vm, ARCH_IMAGE_BASE + 0x3000, &pa, &attrs) == 0);
    CHECK_EQ(attrs & (VM_USER | VM_EXEC | VM_WRITE), VM_USER | VM_WRITE);
}

TEST(elf_segments_sharing_a_page_widen_its_rights) {
    kt_boot();
    static const uint8_t a[] = { 1, 2, 3, 4 }, b[] = { 5, 6, 7, 8 };
    struct kt_seg segs[] = {
        { 5, ARCH_IMAGE_BASE + 0x1000, 4, a, 4 },
        { 6, ARCH_IMAGE_BASE + 0x1800, 4, b, 4 },
    };
    size_t n = kt_elf(img, sizeof(img), ARCH_IMAGE_BASE + 0x1000, segs, 2);
    struct task *t;
    CHECK_EQ(load(n, &t), 0);
    uint8_t *p = kt_uptr(t, ARCH_IMAGE_BASE + 0x1000);
    REQUIRE(p != NULL);
    CHECK_EQ(p[0], 1);
    CHECK_EQ(p[0x800], 5);
    uintptr_t pa;
    unsigned attrs;
    arch_vm_lookup(&t->vm, ARCH_IMAGE_BASE + 0x1000, &pa, &attrs);
    CHECK_EQ(attrs & (VM_EXEC | VM_WRITE), VM_EXEC | VM_WRITE);
}

TEST(elf_refuses_overlapping_segments) {
    kt_boot();
    static const uint8_t a[] = { 1, 2, 3, 4 }, b[] = { 5, 6, 7, 8 };
    /* Exactly adjacent segments are fine; one byte of overlap is not,
     * whichever comes first in the header table, and neither is one
     * segment inside another. */
    const struct { uint64_t second; uint64_t memsz; int want; } cases[] = {
        { ARCH_IMAGE_BASE + 0x1004, 4, 0 },
        { ARCH_IMAGE_BASE + 0x1003, 4, -E_INVAL },
        { ARCH_IMAGE_BASE + 0x0ffd, 4, -E_INVAL },
        { ARCH_IMAGE_BASE + 0x1001, 2, -E_INVAL },
        { ARCH_IMAGE_BASE + 0x0800, 0x1000, -E_INVAL },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kt_boot();
        struct kt_seg segs[] = {
            { 5, ARCH_IMAGE_BASE + 0x1000, 4, a, 4 },
            { 6, cases[i].second, cases[i].memsz, b, 2 },
        };
        size_t n = kt_elf(img, sizeof(img), ARCH_IMAGE_BASE + 0x1000, segs, 2);
        struct task *t;
        CHECK_EQ(load(n, &t), cases[i].want);
        if (cases[i].want < 0) {
            /* nothing of the program was mapped before the refusal */
            CHECK(kt_uptr(t, ARCH_IMAGE_BASE + 0x1000) == NULL);
        }
    }
}

/* A valid image, then one corruption; the load must fail with -E_INVAL and
 * release everything once the task is killed. */
struct corruption {
    const char *what;
    unsigned off;
    unsigned width;
    uint64_t value;
};

TEST(elf_rejects_malformed_images) {
    const struct corruption bad[] = {
        { "magic", 1, 1, 'X' },
        { "class 32", 4, 1, 1 },
        { "big endian", 5, 1, 2 },
        { "machine", 18, 2, 3 },
        { "phentsize", 54, 2, 32 },
        { "phnum > 32", ELF_OFF_PHNUM, 2, 33 },
        { "phoff past the end", ELF_OFF_PHOFF, 8, 1u << 20 },
        { "phoff huge", ELF_OFF_PHOFF, 8, ~0ull - 8 },
        { "phdrs past the end", ELF_OFF_PHNUM, 2, 30 },
        { "entry outside", ELF_OFF_ENTRY, 8, ARCH_IMAGE_BASE + 0x5000 },
        { "entry 0", ELF_OFF_ENTRY, 8, 0 },
        { "segment below the image", ELF_PH0 + PH_OFF_VADDR, 8, 0x400000 },
        { "segment in kernel space", ELF_PH0 + PH_OFF_VADDR, 8, 0xffff800000001000ull },
        { "segment past the image limit", ELF_PH0 + PH_OFF_VADDR, 8,
          ARCH_IMAGE_BASE + (256ul << 20) - 0x80 },
        { "vaddr + memsz wraps", ELF_PH0 + PH_OFF_VADDR, 8, ~0ull - 0x10 },
        { "memsz huge", ELF_PH0 + PH_OFF_MEMSZ, 8, ~0ull },
        { "filesz > memsz", ELF_PH0 + PH_OFF_FILESZ, 8, 0x200 },
        { "offset past the end", ELF_PH0 + PH_OFF_OFFSET, 8, 1u << 20 },
        { "offset huge", ELF_PH0 + PH_OFF_OFFSET, 8, ~0ull - 1 },
        { "not executable", ELF_PH0 + 4, 4, 6 },
        { "no PT_LOAD", ELF_PH0, 4, 4 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        /* Each case in its own child so one crash cannot hide the rest. */
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            kt_boot();
            size_t free0 = page_free_count();
            size_t n = kt_elf_simple(img, sizeof(img));
            uint8_t *p = img + bad[i].off;
            if (bad[i].width == 1) p[0] = (uint8_t)bad[i].value;
            if (bad[i].width == 2) put16(p, (uint16_t)bad[i].value);
            if (bad[i].width == 4) put32(p, (uint32_t)bad[i].value);
            if (bad[i].width == 8) put64(p, bad[i].value);
            struct task *t;
            int err = load(n, &t), ok = 1;
            if (err != -E_INVAL) {
                printf("  %s: error %d, want %d\n", bad[i].what, err, -E_INVAL);
                ok = 0;
            }
            task_kill(t, TASK_STATE_KILLED, NULL);
            if (page_free_count() != free0) {
                printf("  %s: pages leaked\n", bad[i].what);
                ok = 0;
            }
            fflush(stdout);
            _exit(ok ? 0 : 1);
        }
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            test_fail(__FILE__, __LINE__, "%s: wrong result or crash", bad[i].what);
    }
}

TEST(elf_rejects_short_files) {
    kt_boot();
    size_t n = kt_elf_simple(img, sizeof(img));
    CHECK_EQ(load(0, NULL), -E_INVAL);
    CHECK_EQ(load(63, NULL), -E_INVAL);
    CHECK_EQ(load(64 + 55, NULL), -E_INVAL);          /* phdr cut */
    CHECK_EQ(load(n - 1, NULL), -E_INVAL);            /* segment data cut */
    CHECK_EQ(load(n, NULL), 0);
}

TEST(elf_missing_file_is_e_noent) {
    kt_boot();
    struct kt_file f = { "other", "x", 1 };
    kt_initfs(&f, 1);
    struct task *t = kt_task("t", 3, 0);
    CHECK_EQ(task_load(t, "prog", 0), -E_NOENT);
    CHECK_EQ(t->arch.inits, 0);
}
