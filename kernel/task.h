/*
 * task.h - a task: one thread of control in its own address space, with
 * its channel table. The arch port may read t->arch, t->vm and t->kstack.
 */
#ifndef NAGI_TASK_H
#define NAGI_TASK_H

#include "kernel.h"

struct channel;

struct task {
    struct arch_task arch;
    struct arch_vm vm;
    uint8_t *kstack;            /* kstack_size bytes; canary at [0] */
    uint32_t kstack_size;
    int tid;                    /* TID_SLOT bits: index + 1 in the task
                                   table; above them the slot's generation,
                                   so a dead task's tid never names the
                                   slot's next task (task_lookup) */
    int creator;                /* tid of the task that created it (0: the
                                   kernel); never started when the creator
                                   dies, it dies too */
    int8_t state;               /* TASK_STATE_* from abi.toml, 0 = free slot */
    int8_t prio;                /* 0 (highest) .. NUM_PRIORITIES-1 */
    unsigned caps;              /* CAP_* */
    const char *name;           /* NUL-terminated, lives as long as the
                                   program image (initfs or task table) */

    /* IPC */
    struct nagi_msg *msgbuf;    /* kernel view of the user message buffer */
    struct nagi_msg *ipc_buf;   /* buffer used by the current IPC */
    struct channel *channels[CONFIG_TASK_CHANNELS];
    struct channel *pager;      /* where page faults go, or NULL */
    struct channel *recv_on;    /* blocked receiving on this target */
    struct channel *send_to;    /* queued as a sender on this target */
    struct channel *send_via;   /* ...through this (receiver-side) channel */
    struct task *next_sender;   /* sender queue link */
    struct channel *call_via;   /* the channel a call went out on */
    unsigned ipc_flags;         /* flags of the IPC in progress */
    bool awaiting_reply;        /* blocked in the receive half of a call */
    long ipc_result;            /* result handed over by the waking side */
    uintptr_t fault_addr;       /* != 0 while a page fault is being served */
    uintptr_t page_recv_next;   /* next address for an incoming page */
#if ARCH_HAS_PAGING
    struct nagi_msg fault_msg;  /* buffer for kernel-made page fault calls */
#endif

    /* scheduling */
    struct task *rq_next;
    bool on_runqueue;
    int slice;                  /* ticks left in this time slice */
    uint64_t cpu_ticks;
    uint64_t pages;             /* user pages mapped */
    uint32_t dma_pages;         /* of which DMA pages (KS_DMA_ALLOC) */
};

extern struct task *current;
extern struct task tasks[CONFIG_MAX_TASKS];

/* A tid: slot (index + 1, 1..CONFIG_MAX_TASKS) | generation << TID_SLOT_BITS. */
#define TID_SLOT_BITS 10
#define TID_SLOT_MASK ((1 << TID_SLOT_BITS) - 1)
#define TID_GEN_MAX   ((1 << (30 - TID_SLOT_BITS)) - 1)   /* tids stay positive */
_Static_assert(CONFIG_MAX_TASKS <= TID_SLOT_MASK, "task slots fit in TID_SLOT_BITS");

struct task *task_lookup(int tid);
static inline int task_slot(const struct task *t) { return (t->tid & TID_SLOT_MASK) - 1; }
void task_destroy(struct task *t);
struct task *task_create(const char *name, int prio, unsigned caps);
void task_kill(struct task *t, int state, const char *why);
int task_map_new_page(struct task *t, uintptr_t vaddr, unsigned attrs);
int task_load(struct task *t, const char *file, uint64_t arg);
void task_start(struct task *t);

/* The program loaders (task_load picks by ARCH_HAS_PAGING): elf.c maps an
 * ELF file of the initfs page by page; tasktable.c sets up a program
 * placed at build time (MPU boards). Each gives t its message buffer,
 * bootinfo, kernel stack, persistent name and first entry. */
int image_load_elf(struct task *t, const char *file, uint64_t arg);
int image_load_table(struct task *t, const char *file, uint64_t arg);
int elf_prepare_task(struct task *t, const char *name);  /* elf.c, tests */
size_t image_table_ram_in_use(void);                     /* tasktable.c */
extern const void *task_table;   /* ARCH_TASK_TABLE; tests may point it elsewhere */

/* fault.c */
extern struct channel *supervisor;

/* sched.c */
void sched_init(void);
void sched_enqueue(struct task *t);
void sched_dequeue(struct task *t);
void sched_block(int state);          /* current stops; switch away */
void sched_wake(struct task *t, long result);
void sched_switch_to(struct task *next, int state); /* IPC hand-off */
void sched_yield(void);
void sched_tick(void);
void sched_preempt_check(void);
_Noreturn void sched_start(void);
void sched_check_canary(struct task *t);
void sched_init_stack(struct task *t);

#endif
