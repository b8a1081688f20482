//! ks.rs - the kernel-server client: one function per KS_* request, each
//! an IPC_CALL on KERNEL_CID whose reply `.arg` is the result. The request
//! encoders and reply decoders are pure and host-tested.

use crate::abi::*;
use crate::chan::Channel;
use crate::error::{Error, Result};

/// Call the kernel server with `m`; the reply replaces it.
pub fn call(m: &mut Msg) -> Result<u64> {
    Channel::KERNEL.call(m)?;
    m.result()
}

fn call_u32(label: u16, v: u32) -> Result<u64> {
    let mut m = Msg::new(label);
    m.push_u32(v)?;
    call(&mut m)
}

/// The KS_CREATE_TASK request (without the optional channel payload).
pub fn create_task_msg(name: &str, caps: u32, prio: u32, arg: u64) -> Result<Msg> {
    if name.is_empty() || name.len() >= TASK_NAME_MAX {
        return Err(Error::Inval);
    }
    let mut m = Msg::new(KS_CREATE_TASK);
    m.push_u32(caps)?;
    m.push_u32(prio)?;
    m.push_u64(arg)?;
    m.push_bytes(name.as_bytes())?;
    Ok(m)
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
    let mut m = Msg::new(KS_SET_PAGER);
    m.push_u32(tid)?;
    m.set_channel(pager.cid());
    call(&mut m).map(|_| ())
}

pub fn start_task(tid: u32) -> Result<()> {
    call_u32(KS_START_TASK, tid).map(|_| ())
}

/// End the calling task.
pub fn exit(code: i32) -> ! {
    let mut m = Msg::new(KS_EXIT);
    let _ = m.push_i32(code);
    let _ = call(&mut m);
    // Not reached on a real kernel; the host stub returns.
    loop {
        yield_now();
    }
}

pub fn kill(tid: u32) -> Result<()> {
    call_u32(KS_KILL, tid).map(|_| ())
}

/// Map a zeroed page at `vaddr` (needs CAP_MEMORY).
pub fn alloc_page(vaddr: u64) -> Result<()> {
    let mut m = Msg::new(KS_ALLOC_PAGE);
    m.push_u64(vaddr)?;
    call(&mut m).map(|_| ())
}

/// Route IRQ `irq` to `ch` as NOTIFY_IRQ (needs CAP_IRQ).
pub fn listen_irq(irq: u32, ch: Channel) -> Result<()> {
    let mut m = Msg::new(KS_LISTEN_IRQ);
    m.push_u32(irq)?;
    m.push_i32(ch.cid())?;
    call(&mut m).map(|_| ())
}

/// Allow I/O ports base..base+count (needs CAP_IO).
pub fn ioport(base: u16, count: u16) -> Result<()> {
    let mut m = Msg::new(KS_IOPORT);
    m.push_u16(base)?;
    m.push_u16(count)?;
    call(&mut m).map(|_| ())
}

/// Map device registers `[base, base + size)` for this task (needs
/// CAP_IO; arm-m: size a power of two >= 32, base aligned to it, see
/// mmio::region_for; x86_64: -E_NOTSUP).
pub fn mmio(base: u32, size: u32) -> Result<()> {
    call(&mut mmio_msg(base, size)?).map(|_| ())
}

/// The KS_MMIO request.
pub fn mmio_msg(base: u32, size: u32) -> Result<Msg> {
    let mut m = Msg::new(KS_MMIO);
    m.push_u32(base)?;
    m.push_u32(size)?;
    Ok(m)
}

/// Become the supervisor: NOTIFY_TASK_DIED on `ch` whenever a fault kills
/// a task (needs CAP_TASK).
pub fn supervise(ch: Channel) -> Result<()> {
    let mut m = Msg::new(KS_SUPERVISE);
    m.push_i32(ch.cid())?;
    call(&mut m).map(|_| ())
}

/// NOTIFY_TIMER on `ch` after `ms` (one-shot; 0 cancels).
pub fn timer(ch: Channel, ms: u32) -> Result<()> {
    let mut m = Msg::new(KS_TIMER);
    m.push_i32(ch.cid())?;
    m.push_u32(ms)?;
    call(&mut m).map(|_| ())
}

/// Milliseconds since boot (0 if the kernel cannot be reached).
pub fn uptime() -> u64 {
    call(&mut Msg::new(KS_UPTIME)).unwrap_or(0)
}

/// The `index`-th task (E_NOENT past the end).
pub fn task_info(index: u32) -> Result<KsTaskInfo> {
    let mut m = Msg::new(KS_TASK_INFO);
    m.push_u32(index)?;
    call(&mut m)?;
    parse_task_info(&m).ok_or(Error::Inval)
}

/// KS_MEM_INFO reply data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemInfo {
    pub total_pages: u64,
    pub free_pages: u64,
    pub kernel_pages: u64,
    pub page_size: u64,
}

pub fn mem_info() -> Result<MemInfo> {
    let mut m = Msg::new(KS_MEM_INFO);
    call(&mut m)?;
    parse_mem_info(&m).ok_or(Error::Inval)
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
    let mut name = [0u8; TASK_NAME_MAX];
    name.copy_from_slice(m.payload().get(32..32 + TASK_NAME_MAX)?);
    Some(KsTaskInfo {
        tid: m.get_u32(0)?,
        state: m.get_u32(4)?,
        prio: m.get_u32(8)?,
        channels: m.get_u32(12)?,
        pages: m.get_u64(16)?,
        cpu_ticks: m.get_u64(24)?,
        name,
    })
}

/// Decode the KS_MEM_INFO reply.
pub fn parse_mem_info(m: &Msg) -> Option<MemInfo> {
    Some(MemInfo {
        total_pages: m.get_u64(0)?,
        free_pages: m.get_u64(8)?,
        kernel_pages: m.get_u64(16)?,
        page_size: m.get_u64(24)?,
    })
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
