//! abi.rs - the system-call ABI, mirrored from kernel/abi.h (the single
//! source of truth). Constant names are the C names; a host test
//! (tools/tests/test_abi_sync.py) compares the two by name and value, so
//! every value here is a plain literal.

// --- System call numbers -------------------------------------------------
pub const SYS_NOP: u64 = 0;
pub const SYS_IPC: u64 = 1;
pub const SYS_OPEN: u64 = 2;
pub const SYS_CLOSE: u64 = 3;
pub const SYS_LINK: u64 = 4;
pub const SYS_TRANSFER: u64 = 5;
pub const SYS_NOTIFY: u64 = 6;
pub const SYS_DEBUG_WRITE: u64 = 7;
pub const SYS_CLOCK: u64 = 8;
pub const SYS_MAX: u64 = 8;

// --- Error codes (returned negated) ---------------------------------------
pub const E_OK: i64 = 0;
pub const E_NOSYS: i64 = 1;
pub const E_INVAL: i64 = 2;
pub const E_BADCH: i64 = 3;
pub const E_CLOSED: i64 = 4;
pub const E_FAULT: i64 = 5;
pub const E_TOOBIG: i64 = 6;
pub const E_LOOP: i64 = 7;
pub const E_NOCALL: i64 = 8;
pub const E_WOULDBLOCK: i64 = 9;
pub const E_NOMEM: i64 = 10;
pub const E_PERM: i64 = 11;
pub const E_NOTSUP: i64 = 12;
pub const E_NOENT: i64 = 13;
pub const E_BUSY: i64 = 14;

// --- IPC flags (SYS_IPC second argument) ----------------------------------
pub const IPC_SEND: u64 = 0x1;
pub const IPC_RECV: u64 = 0x2;
pub const IPC_CALL: u64 = 0x3;
pub const IPC_REPLY: u64 = 0x4;
pub const IPC_NOBLOCK: u64 = 0x8;
pub const IPC_FLAGS_ALL: u64 = 0xf;

// --- Message layout --------------------------------------------------------
pub const MSG_INLINE_MAX: usize = 224;
pub const MSG_HEADER_SIZE: usize = 32;
pub const MSG_SIZE: usize = 256;

pub const MSG_CHANNEL: u16 = 0x1;
pub const MSG_PAGE: u16 = 0x2;

/// `struct nagi_msg`: the per-task message buffer layout.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Msg {
    pub label: u16,
    pub len: u16,
    pub flags: u16,
    pub reserved: u16,
    pub from: i32,
    pub channel: i32,
    pub page: u64,
    pub arg: u64,
    pub data: [u8; MSG_INLINE_MAX],
}

const _: () = assert!(core::mem::size_of::<Msg>() == MSG_SIZE);
const _: () = assert!(core::mem::offset_of!(Msg, data) == MSG_HEADER_SIZE);

// --- Kernel labels ---------------------------------------------------------
pub const LABEL_NOTIFICATION: u16 = 0xf001;
pub const LABEL_PAGE_FAULT: u16 = 0xf002;
pub const LABEL_PAGE_FAULT_REPLY: u16 = 0xf003;

pub const FAULT_WRITE: u64 = 0x1;
pub const FAULT_EXEC: u64 = 0x2;
pub const FAULT_PRESENT: u64 = 0x4;

pub const NOTIFY_IRQ: u64 = 0x1;
pub const NOTIFY_TIMER: u64 = 0x2;
pub const NOTIFY_TASK_DIED: u64 = 0x4;
pub const NOTIFY_USER_FIRST: u32 = 8;

// --- The kernel server -----------------------------------------------------
pub const KERNEL_CID: i32 = 1;
pub const BOOTSTRAP_CID: i32 = 2;

pub const KS_CREATE_TASK: u16 = 0x0101;
pub const KS_SET_PAGER: u16 = 0x0102;
pub const KS_START_TASK: u16 = 0x0103;
pub const KS_EXIT: u16 = 0x0104;
pub const KS_KILL: u16 = 0x0105;
pub const KS_ALLOC_PAGE: u16 = 0x0106;
pub const KS_LISTEN_IRQ: u16 = 0x0107;
pub const KS_IOPORT: u16 = 0x0108;
pub const KS_TIMER: u16 = 0x0109;
pub const KS_UPTIME: u16 = 0x010a;
pub const KS_TASK_INFO: u16 = 0x010b;
pub const KS_MEM_INFO: u16 = 0x010c;
pub const KS_PANIC: u16 = 0x010d;
pub const KS_YIELD: u16 = 0x010e;
pub const KS_MMIO: u16 = 0x010f;
pub const KS_SUPERVISE: u16 = 0x0110;
pub const KS_HALT: u16 = 0x0111;

pub const CAP_TASK: u32 = 0x1;
pub const CAP_MEMORY: u32 = 0x2;
pub const CAP_IRQ: u32 = 0x4;
pub const CAP_IO: u32 = 0x8;
pub const CAP_ALL: u32 = 0xf;

pub const TASK_STATE_RUNNABLE: u32 = 1;
pub const TASK_STATE_BLOCKED_SEND: u32 = 2;
pub const TASK_STATE_BLOCKED_RECV: u32 = 3;
pub const TASK_STATE_STOPPED: u32 = 4;
pub const TASK_STATE_KILLED: u32 = 5;
pub const TASK_STATE_EXITED: u32 = 6;

/// `struct ks_task_info`: data of a KS_TASK_INFO reply.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KsTaskInfo {
    pub tid: u32,
    pub state: u32,
    pub prio: u32,
    pub channels: u32,
    pub pages: u64,
    pub cpu_ticks: u64,
    pub name: [u8; TASK_NAME_MAX],
}

const _: () = assert!(core::mem::size_of::<KsTaskInfo>() == 64);

pub const TASK_NAME_MAX: usize = 32;
pub const NUM_PRIORITIES: u32 = 8;

// --- Task entry --------------------------------------------------------------
pub const BOOTINFO_OFFSET: usize = 512;

/// `struct nagi_bootinfo`, at message buffer + BOOTINFO_OFFSET.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BootInfo {
    pub tid: u64,
    pub heap_base: u64,
    pub heap_size: u64,
    pub stack_top: u64,
    pub name: [u8; 32],
}

const _: () = assert!(core::mem::size_of::<BootInfo>() == 64);

// --- initfs ------------------------------------------------------------------
pub const INITFS_MAGIC: &[u8; 8] = b"NAGIINIT";
pub const INITFS_NAME_MAX: usize = 32;
