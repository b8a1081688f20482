//! ks.rs - the kernel-server client: one function per KS_* request, each
//! an IPC_CALL on KERNEL_CID whose reply `.arg` is the result. Requests
//! and replies are the ABI's structs (kernel/abi.toml: `KsTimerReq`, ...),
//! so no offset is written here. Encoders and decoders are host-tested.

use crate::abi::*;
use crate::chan::Channel;
use crate::error::{Error, Result};

/// Call the kernel server with `m`; the reply replaces it.
pub fn call(m: &mut Msg) -> Result<u64> {
    Channel::KERNEL.call(m)?;
    m.result()
}

/// Call with `req` as the request data.
fn call_with<T: Pod>(label: u16, req: &T) -> Result<u64> {
    call(&mut Msg::request(label, req)?)
}

/// The KS_CREATE_TASK request (without the optional channel payload).
pub fn create_task_msg(name: &str, caps: u32, prio: u32, arg: u64) -> Result<Msg> {
    if name.is_empty() || name.len() >= TASK_NAME_MAX {
        return Err(Error::Inval);
    }
    let mut req = KsCreateTaskReq { caps, prio, arg, name: [0; TASK_NAME_MAX] };
    req.name[..name.len()].copy_from_slice(name.as_bytes());
    // The request ends with the name's last byte (no NUL).
    Msg::with_struct(KS_CREATE_TASK, &req, core::mem::offset_of!(KsCreateTaskReq, name) + name.len())
}

/// Create task `name` (an initfs file), stopped; `bootstrap` becomes its
/// BOOTSTRAP_CID. Returns the tid.
pub fn create_task(name: &str, caps: u32, prio: u32, arg: u64, bootstrap: Option<Channel>) -> Result<u32> {
    let mut m = create_task_msg(name, caps, prio, arg)?;
    if let Some(ch) = bootstrap {
        m.set_channel(ch.cid());
    }
    call(&mut m).map(|tid| tid as u32)
}

/// Give a stopped task its pager channel (moved to the task).
pub fn set_pager(tid: u32, pager: Channel) -> Result<()> {
    let mut m = Msg::request(KS_SET_PAGER, &KsTidReq { tid })?;
    m.set_channel(pager.cid());
    call(&mut m).map(|_| ())
}

pub fn start_task(tid: u32) -> Result<()> {
    call_with(KS_START_TASK, &KsTidReq { tid }).map(|_| ())
}

/// End the calling task.
pub fn exit(code: i32) -> ! {
    let _ = call_with(KS_EXIT, &KsExitReq { code });
    // Not reached on a real kernel; the host stub returns.
    loop {
        yield_now();
    }
}

pub fn kill(tid: u32) -> Result<()> {
    call_with(KS_KILL, &KsTidReq { tid }).map(|_| ())
}

/// Map a zeroed page at `vaddr` (needs CAP_MEMORY).
pub fn alloc_page(vaddr: u64) -> Result<()> {
    call_with(KS_ALLOC_PAGE, &KsAllocPageReq { vaddr }).map(|_| ())
}

/// Unmap and free one of the caller's pages (a page payload it does not
/// want, or heap it gives back). -E_NOTSUP without paging.
pub fn free_page(vaddr: u64) -> Result<()> {
    call_with(KS_FREE_PAGE, &KsFreePageReq { vaddr }).map(|_| ())
}

/// Route IRQ `irq` to `ch` as NOTIFY_IRQ (needs CAP_IRQ).
pub fn listen_irq(irq: u32, ch: Channel) -> Result<()> {
    call_with(KS_LISTEN_IRQ, &KsListenIrqReq { irq, cid: ch.cid() }).map(|_| ())
}

/// Allow I/O ports base..base+count (needs CAP_IO).
pub fn ioport(base: u16, count: u16) -> Result<()> {
    call_with(KS_IOPORT, &KsIoportReq { base, count }).map(|_| ())
}

/// Map device registers `[base, base + size)` for this task (needs
/// CAP_IO; arm-m: size a power of two >= 32, base aligned to it, see
/// mmio::region_for; x86_64: below 4 GiB, at most MMIO_GRANT_MAX).
pub fn mmio(base: u32, size: u32) -> Result<()> {
    mmio_map(base, size).map(|_| ())
}

/// KS_MMIO, answering where the registers are mapped: MMIO_WINDOW + base
/// on x86_64; 0 on MPU ports (the registers are at `base`).
pub fn mmio_map(base: u32, size: u32) -> Result<u64> {
    call(&mut mmio_msg(base, size)?)
}

/// The KS_DMA_ALLOC request.
pub fn dma_alloc_msg(vaddr: u64, pages: u32) -> Result<Msg> {
    Msg::request(KS_DMA_ALLOC, &KsDmaAllocReq { vaddr, pages, flags: 0 })
}

/// Map `pages` physically contiguous zeroed pages at `vaddr` for a
/// device's DMA (needs CAP_IO); their physical address. -E_NOTSUP
/// without paging. The kernel frees them when this task dies.
pub fn dma_alloc(vaddr: u64, pages: u32) -> Result<u64> {
    call(&mut dma_alloc_msg(vaddr, pages)?)
}

/// The KS_MMIO request.
pub fn mmio_msg(base: u32, size: u32) -> Result<Msg> {
    Msg::request(KS_MMIO, &KsMmioReq { base, size })
}

/// Become the supervisor: NOTIFY_TASK_DIED on `ch` whenever a fault kills
/// a task (needs CAP_TASK).
pub fn supervise(ch: Channel) -> Result<()> {
    call_with(KS_SUPERVISE, &KsSuperviseReq { cid: ch.cid() }).map(|_| ())
}

/// NOTIFY_TIMER on `ch` after `ms` (one-shot; 0 cancels).
pub fn timer(ch: Channel, ms: u32) -> Result<()> {
    call_with(KS_TIMER, &KsTimerReq { cid: ch.cid(), ms }).map(|_| ())
}

/// Milliseconds since boot (0 if the kernel cannot be reached).
pub fn uptime() -> u64 {
    call(&mut Msg::new(KS_UPTIME)).unwrap_or(0)
}

/// The `index`-th task (E_NOENT past the end).
pub fn task_info(index: u32) -> Result<KsTaskInfo> {
    let mut m = Msg::request(KS_TASK_INFO, &KsTaskInfoReq { index })?;
    call(&mut m)?;
    parse_task_info(&m).ok_or(Error::Inval)
}

/// KS_MEM_INFO reply data.
pub type MemInfo = KsMemInfo;

pub fn mem_info() -> Result<MemInfo> {
    let mut m = Msg::new(KS_MEM_INFO);
    call(&mut m)?;
    parse_mem_info(&m).ok_or(Error::Inval)
}

pub type IpcInfo = KsIpcInfo;

/// The kernel's IPC counters since boot.
pub fn ipc_info() -> Result<IpcInfo> {
    let mut m = Msg::new(KS_IPC_INFO);
    call(&mut m)?;
    m.get_struct().ok_or(Error::Inval)
}

/// Ask a debug kernel to panic.
pub fn panic() -> Result<()> {
    call(&mut Msg::new(KS_PANIC)).map(|_| ())
}

/// Longest KS_HALT reason the kernel prints.
pub const HALT_REASON_MAX: usize = 64;

/// The KS_HALT request: the reason, cut to HALT_REASON_MAX bytes.
pub fn halt_msg(reason: &str) -> Msg {
    let bytes = reason.as_bytes();
    let mut m = Msg::new(KS_HALT);
    let _ = m.push_bytes(&bytes[..bytes.len().min(HALT_REASON_MAX)]);
    m
}

/// Stop the system, the kernel printing `reason` (needs CAP_TASK; the
/// supervisor's answer to a critical task's death). Returns only on error.
pub fn halt(reason: &str) -> Result<()> {
    call(&mut halt_msg(reason)).map(|_| ())
}

/// Give up the rest of the time slice.
pub fn yield_now() {
    let _ = call(&mut Msg::new(KS_YIELD));
}

/// Decode struct ks_task_info from a reply.
pub fn parse_task_info(m: &Msg) -> Option<KsTaskInfo> {
    m.get_struct()
}

/// Decode the KS_MEM_INFO reply.
pub fn parse_mem_info(m: &Msg) -> Option<MemInfo> {
    m.get_struct()
}

/// The NUL-terminated name of a task as text.
pub fn name_str(name: &[u8]) -> &str {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    core::str::from_utf8(&name[..end]).unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_task_layout() {
        let m = create_task_msg("shell", CAP_IO, 3, 0x55).unwrap();
        assert_eq!(m.label, KS_CREATE_TASK);
        assert_eq!(m.get_u32(0), Some(CAP_IO));
        assert_eq!(m.get_u32(4), Some(3));
        assert_eq!(m.get_u64(8), Some(0x55));
        assert_eq!(&m.payload()[16..], b"shell");
        assert!(create_task_msg("", 0, 0, 0).is_err());
        assert!(create_task_msg(&"x".repeat(32), 0, 0, 0).is_err());
    }

    #[test]
    fn mmio_layout() {
        let m = mmio_msg(0x4001_3800, 64).unwrap();
        assert_eq!(m.label, KS_MMIO);
        assert_eq!(m.len, 8);
        assert_eq!((m.get_u32(0), m.get_u32(4)), (Some(0x4001_3800), Some(64)));
        // The host has no kernel: the call fails instead of touching anything.
        assert!(mmio(0x4001_3800, 64).is_err());
        assert!(supervise(Channel::from_raw(3)).is_err());
    }

    #[test]
    fn dma_alloc_layout() {
        let m = dma_alloc_msg(0x1234_5000, 3).unwrap();
        assert_eq!((m.label, m.len), (KS_DMA_ALLOC, 16));
        assert_eq!((m.get_u64(0), m.get_u32(8), m.get_u32(12)), (Some(0x1234_5000), Some(3), Some(0)));
        assert!(dma_alloc(0x1234_5000, 3).is_err());
    }

    #[test]
    fn task_info_decodes() {
        let mut m = Msg::new(KS_TASK_INFO);
        for v in [4u32, TASK_STATE_BLOCKED_RECV, 2, 5] {
            m.push_u32(v).unwrap();
        }
        m.push_u64(17).unwrap();
        m.push_u64(99).unwrap();
        let mut name = [0u8; 32];
        name[..7].copy_from_slice(b"console");
        m.push_bytes(&name).unwrap();
        let t = parse_task_info(&m).unwrap();
        assert_eq!((t.tid, t.state, t.prio, t.channels, t.pages, t.cpu_ticks), (4, 3, 2, 5, 17, 99));
        assert_eq!(name_str(&t.name), "console");
        m.len = 40;
        assert!(parse_task_info(&m).is_none());
    }

    #[test]
    fn mem_info_decodes() {
        let mut m = Msg::new(KS_MEM_INFO);
        for v in [1000u64, 600, 50, 4096] {
            m.push_u64(v).unwrap();
        }
        let i = parse_mem_info(&m).unwrap();
        assert_eq!(i, MemInfo { total_pages: 1000, free_pages: 600, kernel_pages: 50, page_size: 4096 });
    }

    #[test]
    fn ipc_info_decodes_and_a_short_reply_is_refused() {
        let mut m = Msg::new(KS_IPC_INFO);
        for v in [10u64, 7, 3, 99] {
            m.push_u64(v).unwrap();
        }
        let i: IpcInfo = m.get_struct().unwrap();
        assert_eq!(i, IpcInfo { messages: 10, fastpath: 7, notifications: 3, kernel_calls: 99 });
        let mut short = Msg::new(KS_IPC_INFO);
        short.push_u64(1).unwrap();
        assert!(short.get_struct::<IpcInfo>().is_none());
    }

    #[test]
    fn halt_reason_is_cut() {
        let m = halt_msg("critical task 'memory' died");
        assert_eq!((m.label, m.payload()), (KS_HALT, &b"critical task 'memory' died"[..]));
        assert_eq!(halt_msg(&"x".repeat(100)).len as usize, HALT_REASON_MAX);
        assert!(halt("x").is_err());
    }

    #[test]
    fn name_stops_at_nul() {
        assert_eq!(name_str(b"init\0\0junk"), "init");
        assert_eq!(name_str(b"full"), "full");
    }
}
