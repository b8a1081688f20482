/*
 * elf.c - the initfs bundled with the kernel and the loader that puts one
 * of its ELF programs into a task's address space (every segment mapped
 * at once; only the heap is demand-paged).
 */
#include "task.h"

extern const uint8_t initfs_start[], initfs_end[];

struct initfs_entry {
    char name[INITFS_NAME_MAX];
    uint32_t offset, size;
};

struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define IMAGE_LIMIT (256ul << 20)

/* Find file name in the initfs: 0, its bytes and its name as stored in the
 * initfs (NUL-terminated, lives as long as the kernel), or -E_NOENT. */
int initfs_find(const char *name, const uint8_t **data, size_t *size,
                const char **stored_name) {
    size_t total = (size_t)(initfs_end - initfs_start);
    uint32_t count;

    if (total < 16 || memcmp(initfs_start, INITFS_MAGIC, 8) != 0)
        return -E_NOENT;
    memcpy(&count, initfs_start + 8, 4);
    if (count > (total - 16) / sizeof(struct initfs_entry))
        return -E_NOENT;
    for (uint32_t i = 0; i < count; i++) {
        struct initfs_entry e;
        memcpy(&e, initfs_start + 16 + i * sizeof(e), sizeof(e));
        if (strnlen(e.name, INITFS_NAME_MAX) == INITFS_NAME_MAX ||
            strnlen(name, INITFS_NAME_MAX) != strnlen(e.name, INITFS_NAME_MAX) ||
            memcmp(e.name, name, strnlen(e.name, INITFS_NAME_MAX)) != 0)
            continue;
        if (e.offset > total || e.size > total - e.offset)
            return -E_NOENT;
        *data = initfs_start + e.offset;
        *size = e.size;
        *stored_name = (const char *)initfs_start + 16 + i * sizeof(e);
        return 0;
    }
    return -E_NOENT;
}

/* Map (or widen) the page at vaddr and copy len bytes of src to vaddr. */
static int load_page(struct task *t, uintptr_t page, unsigned attrs) {
    uintptr_t paddr;
    unsigned old;
    if (arch_vm_lookup(&t->vm, page, &paddr, &old) == 0) {
        if ((old | attrs | VM_USER) == old)
            return 0;
        paddr = arch_vm_unmap(&t->vm, page);
        return arch_vm_map(&t->vm, page, paddr, old | attrs | VM_USER);
    }
    return task_map_new_page(t, page, attrs);
}

static int load_segment(struct task *t, const uint8_t *file,
                        const struct elf64_phdr *ph) {
    unsigned attrs = ((ph->flags & PF_W) ? VM_WRITE : 0) |
                     ((ph->flags & PF_X) ? VM_EXEC : 0);
    uintptr_t start = ALIGN_DOWN(ph->vaddr, PAGE_SIZE);

    for (uintptr_t page = start; page < ph->vaddr + ph->memsz; page += PAGE_SIZE) {
        int err = load_page(t, page, attrs);
        if (err < 0)
            return err;
    }
    for (uint64_t done = 0; done < ph->filesz;) {
        uintptr_t va = ph->vaddr + done, paddr;
        unsigned a;
        arch_vm_lookup(&t->vm, va, &paddr, &a);
        uint64_t n = MIN(ph->filesz - done, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        memcpy(arch_phys_to_virt(paddr), file + ph->offset + done, n);
        done += n;
    }
    return 0;
}

_Static_assert(ARCH_HEAP_BASE + ARCH_HEAP_SIZE <= ARCH_PAGE_RECV_BASE - PAGE_SIZE,
              "the scratch page (bootinfo.scratch) must lie above the heap");

static uint8_t kstacks[CONFIG_MAX_TASKS][ARCH_KSTACK_SIZE]
    __attribute__((aligned(16)));

/* A kernel stack, the message buffer page (bootinfo inside) and the
 * eagerly mapped user stack: everything of a task but its program. */
int elf_prepare_task(struct task *t, const char *name) {
    uintptr_t addr, paddr;
    t->kstack = kstacks[task_slot(t)];
    t->kstack_size = ARCH_KSTACK_SIZE;
    unsigned attrs;
    bool ok = task_map_new_page(t, ARCH_MSGBUF_ADDR, VM_WRITE) == 0;
    for (addr = ARCH_STACK_TOP - ARCH_STACK_SIZE; ok && addr < ARCH_STACK_TOP;
         addr += PAGE_SIZE)
        ok = task_map_new_page(t, addr, VM_WRITE) == 0;
    if (!ok)
        return -E_NOMEM;
    arch_vm_lookup(&t->vm, ARCH_MSGBUF_ADDR, &paddr, &attrs);
    t->msgbuf = arch_phys_to_virt(paddr);
    t->ipc_buf = t->msgbuf;

    struct nagi_bootinfo *bi =
        (struct nagi_bootinfo *)((uint8_t *)t->msgbuf + BOOTINFO_OFFSET);
    bi->tid = (uint64_t)t->tid;
    bi->heap_base = ARCH_HEAP_BASE;
    bi->heap_size = ARCH_HEAP_SIZE;
    bi->stack_top = ARCH_STACK_TOP;
    bi->image_base = ARCH_IMAGE_BASE;
    /* The page below the page-receive area: above the heap, below the
     * pages the kernel maps for received payloads (ARCH_PAGE_RECV_BASE
     * upwards), so neither the heap nor IPC ever lands on it. */
    bi->scratch = ARCH_PAGE_RECV_BASE - PAGE_SIZE;
    strlcpy_k(bi->name, name, sizeof(bi->name));
    return 0;
}

/* PT_LOAD segment i of the file, or false if it is not one (or empty). */
static bool load_segment_at(const uint8_t *file, const struct elf64_ehdr *eh,
                            unsigned i, struct elf64_phdr *ph) {
    memcpy(ph, file + eh->phoff + i * sizeof(*ph), sizeof(*ph));
    return ph->type == PT_LOAD && ph->memsz != 0;
}

/* Every PT_LOAD segment lies in the image window, within the file, and
 * apart from every other one: overlapping segments would map one page
 * with the union of their rights and let the later copy overwrite the
 * earlier, so they are refused before anything is mapped. */
static bool segments_valid(const uint8_t *file, size_t size,
                           const struct elf64_ehdr *eh) {
    struct elf64_phdr ph, other;
    for (unsigned i = 0; i < eh->phnum; i++) {
        if (!load_segment_at(file, eh, i, &ph))
            continue;
        if (ph.vaddr < ARCH_IMAGE_BASE || ph.memsz > IMAGE_LIMIT ||
            ph.vaddr - ARCH_IMAGE_BASE > IMAGE_LIMIT - ph.memsz ||
            ph.filesz > ph.memsz || ph.offset > size || ph.filesz > size - ph.offset)
            return false;
        for (unsigned j = 0; j < i; j++)
            if (load_segment_at(file, eh, j, &other) &&
                ph.vaddr < other.vaddr + other.memsz && other.vaddr < ph.vaddr + ph.memsz)
                return false;
    }
    return true;
}

/* Load initfs file `name` into t and prepare its first entry with arg. */
int image_load_elf(struct task *t, const char *name, uint64_t arg) {
    const uint8_t *file;
    size_t size;
    struct elf64_ehdr eh;
    bool entry_ok = false;
    const char *persistent;

    if (initfs_find(name, &file, &size, &persistent) < 0)
        return -E_NOENT;
    t->name = persistent;
    int err = elf_prepare_task(t, persistent);
    if (err < 0)
        return err;
    if (size < sizeof(eh))
        return -E_INVAL;
    memcpy(&eh, file, sizeof(eh));
    if (memcmp(eh.ident, "\177ELF\2\1", 6) != 0 || eh.machine != ARCH_ELF_MACHINE ||
        eh.phentsize != sizeof(struct elf64_phdr) || eh.phnum > 32 ||
        eh.phoff > size || eh.phnum * sizeof(struct elf64_phdr) > size - eh.phoff)
        return -E_INVAL;
    if (!segments_valid(file, size, &eh))
        return -E_INVAL;
    for (unsigned i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, file + eh.phoff + i * sizeof(ph), sizeof(ph));
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        err = load_segment(t, file, &ph);
        if (err < 0)
            return err;
        if (eh.entry >= ph.vaddr && eh.entry < ph.vaddr + ph.memsz && (ph.flags & PF_X))
            entry_ok = true;
    }
    if (!entry_ok)
        return -E_INVAL;
    arch_task_init(t, eh.entry, arg, ARCH_MSGBUF_ADDR, ARCH_STACK_TOP);
    return 0;
}
