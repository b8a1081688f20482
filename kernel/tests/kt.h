/*
 * kt.h - helpers shared by the kernel tests: booting the pieces of the
 * kernel a test needs, making tasks and connected channels, running a
 * system call as a given task, and building initfs bundles and ELF images.
 */
#ifndef NAGI_KT_H
#define NAGI_KT_H

#include <setjmp.h>
#include <string.h>
#include "channel.h"
#include "test.h"

/* Give the kernel the host page pool and set up the scheduler. */
void kt_boot(void);

/* A task made by task_create, marked runnable but not queued. */
struct task *kt_task(const char *name, int prio, unsigned caps);

/* Make t the running task (what a system call from t would see). */
void kt_run(struct task *t);

/* Two linked channels: *ca in a, *cb in b (opened in a, one moved to b). */
void kt_connect(struct task *a, long *ca, struct task *b, long *cb);

/* The channel object behind t's cid (REQUIREs it exists). */
struct channel *kt_ch(struct task *t, long cid);

/* Run a system call as t. */
long kt_syscall(struct task *t, long nr, long a0, long a1);
long kt_syscall3(struct task *t, long nr, long a0, long a1, long a2);
long kt_ipc(struct task *t, long cid, long flags);

/* Fill t's message buffer: label, inline data, no payloads. */
void kt_msg(struct task *t, uint16_t label, const void *data, uint16_t len);

/* An IPC_CALL to the kernel server as t with the given request data; the
 * reply's .arg (result or -error). */
long kt_kcall(struct task *t, uint16_t label, const void *data, uint16_t len);

/* Kernel pointer to t's byte at user address vaddr, or NULL if unmapped. */
void *kt_uptr(struct task *t, uintptr_t vaddr);

/* initfs bundles. */
struct kt_file {
    const char *name;
    const void *data;
    size_t size;
};
extern uint8_t initfs_start[], initfs_end[];
int initfs_find(const char *name, const uint8_t **data, size_t *size,
                const char **stored_name);
void kt_initfs(const struct kt_file *files, unsigned n);

/* ELF64 images: segments become PT_LOAD headers; data (filesz bytes) is
 * appended after the headers. Returns the image size. */
struct kt_seg {
    uint32_t flags;       /* PF_X 1, PF_W 2, PF_R 4 */
    uint64_t vaddr, memsz;
    const void *data;
    uint64_t filesz;
};
size_t kt_elf(uint8_t *buf, size_t cap, uint64_t entry,
              const struct kt_seg *segs, unsigned n);
/* A valid one-segment program "int 3; ret" at ARCH_IMAGE_BASE + 0x1000. */
size_t kt_elf_simple(uint8_t *buf, size_t cap);
#define KT_ENTRY (ARCH_IMAGE_BASE + 0x1000)

/* ELF header field offsets, for corrupting images. */
#define ELF_OFF_ENTRY 24
#define ELF_OFF_PHOFF 32
#define ELF_OFF_PHNUM 56
#define ELF_PH0 64             /* first program header */
#define PH_OFF_OFFSET 8
#define PH_OFF_VADDR 16
#define PH_OFF_FILESZ 32
#define PH_OFF_MEMSZ 40

#endif
