/*
 * abi.h - the system-call ABI shared by the kernel and user space.
 *
 * This header is the single statement of what user tasks may rely on. The
 * Rust runtime mirrors it in userland/runtime/src/abi.rs; a host test
 * (tools/tests/test_abi_sync.py) fails when the two disagree.
 * Keep it free of anything but integer constants and the message layout.
 */
#ifndef NAGI_ABI_H
#define NAGI_ABI_H

/* --- System call numbers ----------------------------------------------
 * x86_64: `syscall` with the number in rax, arguments in rdi, rsi, rdx,
 * r10, r8; the result comes back in rax.
 * arm-m: `svc #0` with the number in r12, arguments in r0, r1, r2, r3, r4;
 * the result comes back in r0 (nothing else changes).
 * A negative result is an error. */
#define SYS_NOP         0   /* ()                     -> 0 (null syscall) */
#define SYS_IPC         1   /* (cid, flags)           -> 0 or error */
#define SYS_OPEN        2   /* ()                     -> new cid */
#define SYS_CLOSE       3   /* (cid)                  -> 0 */
#define SYS_LINK        4   /* (cid1, cid2)           -> 0 */
#define SYS_TRANSFER    5   /* (src, dst)             -> 0 */
#define SYS_NOTIFY      6   /* (cid, bits)            -> 0 */
#define SYS_DEBUG_WRITE 7   /* (ptr, len)             -> len written */
#define SYS_CLOCK       8   /* ()                     -> CPU cycle counter,
                                truncated to a long (x86_64: TSC; arm-m:
                                CPU clock cycles since boot, from SysTick) */
#define SYS_MAX         8

/* --- Error codes (returned negated) -------------------------------------- */
#define E_OK        0
#define E_NOSYS     1   /* no such system call or kernel-server label */
#define E_INVAL     2   /* invalid argument */
#define E_BADCH     3   /* invalid channel id */
#define E_CLOSED    4   /* channel not linked, or its peer was closed */
#define E_FAULT     5   /* bad user pointer or page address */
#define E_TOOBIG    6   /* inline payload longer than MSG_INLINE_MAX */
#define E_LOOP      7   /* transfer or link would make a cycle */
#define E_NOCALL    8   /* reply to a task that is not waiting for one */
#define E_WOULDBLOCK 9  /* IPC_NOBLOCK given and the operation would block */
#define E_NOMEM     10  /* out of memory, channel or task slots */
#define E_PERM      11  /* the caller lacks the capability */
#define E_NOTSUP    12  /* not supported on this architecture */
#define E_NOENT     13  /* no such task, file or entry */
#define E_BUSY      14  /* resource already in use */

/* --- IPC flags (SYS_IPC second argument) ----------------------------------
 * SEND: deliver the message in the caller's buffer through cid; blocks until
 *       the receiver takes it.
 * RECV: wait for a message on cid (really on cid's transfer target).
 * CALL = SEND|RECV: send, then wait for the reply on the same channel; the
 *       receiver sees the caller as "awaiting reply".
 * REPLY: send to a caller that is awaiting a reply (never blocks);
 *       E_NOCALL otherwise. REPLY|RECV replies, then waits for the next one.
 * NOBLOCK: fail with E_WOULDBLOCK instead of blocking. */
#define IPC_SEND    0x1
#define IPC_RECV    0x2
#define IPC_CALL    (IPC_SEND | IPC_RECV)
#define IPC_REPLY   0x4
#define IPC_NOBLOCK 0x8
#define IPC_FLAGS_ALL 0xf

/* --- Message layout --------------------------------------------------------
 * Every task has one message buffer (struct nagi_msg) in its own memory; its
 * address is given to the task at entry. SYS_IPC sends from and receives into
 * that buffer. Header: 32 bytes, inline data: up to MSG_INLINE_MAX bytes. */
#define MSG_INLINE_MAX 224
#define MSG_HEADER_SIZE 32
#define MSG_SIZE 256

#define MSG_CHANNEL 0x1   /* flags: a channel payload is in .channel */
#define MSG_PAGE    0x2   /* flags: a page payload is in .page */

#ifndef __ASSEMBLER__
#include <stdint.h>
struct nagi_msg {
    uint16_t label;   /* message type; 0xf000.. are kernel labels */
    uint16_t len;     /* bytes used in data[] */
    uint16_t flags;   /* MSG_CHANNEL, MSG_PAGE */
    uint16_t reserved;
    int32_t from;     /* on receive: the cid the message came through */
    int32_t channel;  /* send: cid to move; receive: its new cid */
    uint64_t page;    /* send: page-aligned vaddr to move; receive: where mapped */
    uint64_t arg;     /* notifications: pending bits; free for users otherwise */
    uint8_t data[MSG_INLINE_MAX];
};
#endif

/* --- Kernel labels ------------------------------------------------------- */
#define LABEL_NOTIFICATION    0xf001  /* .arg = notification bits */
#define LABEL_PAGE_FAULT      0xf002  /* to a pager: struct page_fault_msg */
#define LABEL_PAGE_FAULT_REPLY 0xf003 /* pager's reply: a page payload, or
                                         none to refuse (the task is killed) */

/* data[] of LABEL_PAGE_FAULT: three little-endian u64: tid, fault address
 * (page-aligned), fault flags below. */
#define FAULT_WRITE 0x1
#define FAULT_EXEC  0x2
#define FAULT_PRESENT 0x4   /* the page was mapped but the access not allowed */

/* Notification bits set by the kernel. Bits 8..63 are free for users. */
#define NOTIFY_IRQ     (1ull << 0)
#define NOTIFY_TIMER   (1ull << 1)
#define NOTIFY_TASK_DIED (1ull << 2)  /* to the supervisor (KS_SUPERVISE) */
#define NOTIFY_USER_FIRST 8

/* --- The kernel server ----------------------------------------------------
 * cid KERNEL_CID is valid in every task and reaches the kernel itself: an
 * IPC_CALL on it is served at once; the reply replaces the message. The
 * reply's .arg holds the result (>= 0) or a negated error code; replies
 * with data say so below. Integers in data[] are little-endian. */
#define KERNEL_CID     1
#define BOOTSTRAP_CID  2   /* channel payload given to KS_CREATE_TASK */

#define KS_CREATE_TASK 0x0101 /* data: u32 caps, u32 prio, u64 arg, char name[32]
                                 (a file of the initfs); optional channel
                                 payload becomes BOOTSTRAP_CID in the child.
                                 The task is created stopped. arg = tid. */
#define KS_SET_PAGER   0x0102 /* data: u32 tid; channel payload = the child's
                                 end of its pager channel. arg = 0 */
#define KS_START_TASK  0x0103 /* data: u32 tid. arg = 0 */
#define KS_EXIT        0x0104 /* data: i32 code. Does not return. */
#define KS_KILL        0x0105 /* data: u32 tid (needs CAP_TASK) */
#define KS_ALLOC_PAGE  0x0106 /* data: u64 vaddr: map a zeroed page there
                                 (needs CAP_MEMORY). arg = 0. -E_NOTSUP
                                 without paging (as KS_SET_PAGER) */
#define KS_LISTEN_IRQ  0x0107 /* data: u32 irq, i32 cid: IRQs become
                                 NOTIFY_IRQ on cid (needs CAP_IRQ) */
#define KS_IOPORT      0x0108 /* data: u16 base, u16 count (needs CAP_IO;
                                 E_NOTSUP where there are no I/O ports) */
#define KS_TIMER       0x0109 /* data: i32 cid, u32 ms: NOTIFY_TIMER on cid
                                 after ms (one-shot; 0 cancels) */
#define KS_UPTIME      0x010a /* arg = milliseconds since boot */
#define KS_TASK_INFO   0x010b /* data: u32 index. arg = 0, data =
                                 struct ks_task_info; E_NOENT past the end */
#define KS_MEM_INFO    0x010c /* data = u64 total_pages, u64 free_pages,
                                 u64 kernel_pages, u64 page_size */
#define KS_PANIC       0x010d /* debug kernels only: panic on purpose */
#define KS_YIELD       0x010e /* give up the rest of the time slice */
#define KS_MMIO        0x010f /* data: u32 base, u32 size (needs CAP_IO): let
                                 the caller access device registers there.
                                 MPU ports: size a power of two >= 32, base
                                 aligned to it, device memory only, a few
                                 per task (-E_INVAL, -E_PERM, -E_NOMEM);
                                 -E_NOTSUP where devices sit behind I/O
                                 ports (x86_64) */
#define KS_SUPERVISE   0x0110 /* data: i32 cid (needs CAP_TASK): the kernel
                                 notifies NOTIFY_TASK_DIED on cid whenever
                                 a task dies (a fault, KS_KILL, KS_EXIT) */
#define KS_HALT        0x0111 /* data: reason text, up to 64 bytes (needs
                                 CAP_TASK): print it and stop the system
                                 (the supervisor's answer to the death of
                                 a critical task). Does not return. */

/* Capabilities (KS_CREATE_TASK caps; a child gets at most its parent's) */
#define CAP_TASK   0x1
#define CAP_MEMORY 0x2
#define CAP_IRQ    0x4
#define CAP_IO     0x8
#define CAP_ALL    0xf

/* Task states reported by KS_TASK_INFO */
#define TASK_STATE_RUNNABLE 1
#define TASK_STATE_BLOCKED_SEND 2
#define TASK_STATE_BLOCKED_RECV 3
#define TASK_STATE_STOPPED 4
#define TASK_STATE_KILLED 5
#define TASK_STATE_EXITED 6

/* data[] of a KS_TASK_INFO reply */
#ifndef __ASSEMBLER__
struct ks_task_info {
    uint32_t tid;
    uint32_t state;
    uint32_t prio;
    uint32_t channels;   /* open channels */
    uint64_t pages;      /* user pages mapped */
    uint64_t cpu_ticks;  /* timer ticks spent running */
    char name[32];
};
#endif

#define TASK_NAME_MAX 32
#define NUM_PRIORITIES 8   /* 0 = highest */

/* --- Task entry --------------------------------------------------------------
 * A task starts at its ELF entry with: first argument register = the u64 arg
 * of KS_CREATE_TASK; second = the address of its message buffer. At
 * buffer + 512 lies struct nagi_bootinfo. */
#define BOOTINFO_OFFSET 512
#ifndef __ASSEMBLER__
struct nagi_bootinfo {
    uint64_t tid;
    uint64_t heap_base;   /* demand-paged through the pager */
    uint64_t heap_size;
    uint64_t stack_top;
    char name[32];
};
#endif

/* --- initfs -------------------------------------------------------------------
 * The bundle of user programs linked into the kernel image:
 *   header: char magic[8] = "NAGIINIT", u32 count, u32 reserved
 *   then count entries of: char name[32], u32 offset, u32 size (from the
 *   start of the bundle), then the files, each 16-byte aligned. */
#define INITFS_MAGIC "NAGIINIT"
#define INITFS_NAME_MAX 32

#endif /* NAGI_ABI_H */
