//! ipctest.rs - the `ipctest` command: each case exercises one kernel IPC
//! feature or error path, against ipc_peer or the shell's own channels,
//! and prints `ipctest: <case> ok` or `ipctest: <case> FAIL <detail>`,
//! then `ipctest: <p> passed, <f> failed`. Without an MMU (arm-m) the
//! page cases check that page payloads are refused with E_NOTSUP and the
//! bad addresses are the kernel's RAM and an address outside every region.

use crate::Services;
use alloc::format;
use alloc::string::String;
use runtime::abi::*;
use runtime::proto::*;
use runtime::{config, ks, println, sys, Channel, Error, Msg};

/// Page payloads and demand paging exist (x86_64); not on arm-m.
const PAGING: bool = config::CONFIG_ARCH_HAS_MMU;
/// An address the kernel owns (x86_64: the kernel half; arm-m: its RAM).
const KERNEL_ADDR: u64 = if PAGING { 0x1000 } else { config::CONFIG_RAM_BASE };
/// An address no task can use (arm-m: outside every MPU region).
const UNMAPPED_ADDR: u64 = if PAGING { 0x7000_0000_0000 } else { 0x6000_0000 };

type Check = core::result::Result<(), String>;

/// Channels a case opened; closed when the case ends (unless forgotten
/// because they moved to another task).
struct Opened {
    cids: [i32; 8],
    n: usize,
}

impl Opened {
    fn new() -> Opened {
        Opened { cids: [-1; 8], n: 0 }
    }

    fn open(&mut self) -> core::result::Result<Channel, String> {
        let ch = Channel::open().map_err(|e| format!("open: {}", e))?;
        if self.n < self.cids.len() {
            self.cids[self.n] = ch.cid();
            self.n += 1;
        }
        Ok(ch)
    }

    fn pair(&mut self) -> core::result::Result<(Channel, Channel), String> {
        let (a, b) = (self.open()?, self.open()?);
        a.link(b).map_err(|e| format!("link: {}", e))?;
        Ok((a, b))
    }

    /// `ch` moved away: do not close its (now reusable) cid.
    fn forget(&mut self, ch: Channel) {
        self.cids.iter_mut().filter(|c| **c == ch.cid()).for_each(|c| *c = -1);
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        for &cid in self.cids[..self.n].iter().filter(|c| **c >= 0) {
            let _ = Channel::from_raw(cid).close();
        }
    }
}

fn want<T: core::fmt::Debug>(what: &str, r: runtime::Result<T>, e: Error) -> Check {
    match r {
        Err(got) if got == e => Ok(()),
        Err(got) => Err(format!("{}: got {}, want {}", what, got, e)),
        Ok(v) => Err(format!("{}: got Ok({:?}), want {}", what, v, e)),
    }
}

fn ok<T>(what: &str, r: runtime::Result<T>) -> core::result::Result<T, String> {
    r.map_err(|e| format!("{}: {}", what, e))
}

fn expect(cond: bool, detail: impl FnOnce() -> String) -> Check {
    if cond {
        Ok(())
    } else {
        Err(detail())
    }
}

type Case = fn(&mut Services) -> Check;

const CASES: &[(&str, Case)] = &[
    ("call/reply", call_reply),
    ("inline payload", inline_payload),
    ("channel payload + send/recv", channel_payload),
    ("page payload", page_payload),
    ("notify", notify),
    ("notify coalesce", notify_coalesce),
    ("notify busy receiver", notify_busy),
    ("invalid channel", invalid_channel),
    ("closed channel", closed_channel),
    ("bad user pointer", bad_pointer),
    ("bad page payload", bad_page),
    ("oversized message", oversized),
    ("transfer cycle", transfer_cycle),
    ("link cycle", link_cycle),
    ("reply without call", reply_without_call),
    ("nonblocking recv", nonblocking_recv),
    ("kernel unknown label", kernel_unknown_label),
    ("kernel no permission", kernel_no_permission),
    ("unknown syscall", unknown_syscall),
    ("console input refused", console_input_refused),
];

pub fn run(svc: &mut Services, _: &str) {
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in CASES {
        match case(svc) {
            Ok(()) => {
                passed += 1;
                println!("ipctest: {} ok", name);
            }
            Err(detail) => {
                failed += 1;
                println!("ipctest: {} FAIL {}", name, detail);
            }
        }
    }
    println!("ipctest: {} passed, {} failed", passed, failed);
}

fn peer(svc: &mut Services) -> core::result::Result<Channel, String> {
    ok("lookup ipc_peer", svc.peer())
}

fn call_reply(svc: &mut Services) -> Check {
    let mut m = Msg::new(PEER_ECHO);
    m.arg = 0x1234;
    ok("call", peer(svc)?.call(&mut m))?;
    expect(m.label == PEER_ECHO && m.len == 0 && m.arg == 0x1234, || {
        format!("reply label {:#x} len {} arg {:#x}", m.label, m.len, m.arg)
    })
}

fn inline_payload(svc: &mut Services) -> Check {
    let mut data = [0u8; MSG_INLINE_MAX];
    for (i, b) in data.iter_mut().enumerate() {
        *b = (i * 7 + 3) as u8;
    }
    let mut m = ok("build", Msg::with_data(PEER_ECHO, &data))?;
    ok("call", peer(svc)?.call(&mut m))?;
    expect(m.payload() == &data[..], || format!("echoed {} bytes, data differ", m.len))
}

fn channel_payload(svc: &mut Services) -> Check {
    let p = peer(svc)?;
    let mut o = Opened::new();
    let (a, b) = o.pair()?;
    let mut m = Msg::new(PEER_ECHO_CHANNEL);
    m.set_channel(b.cid());
    m.arg = 0xfeed;
    ok("call", p.call(&mut m))?;
    o.forget(b);
    ok("reply", m.result())?;
    let mut ping = Msg::new(0);
    ok("recv ping", a.recv(&mut ping))?;
    expect(ping.label == PEER_PING && ping.arg == 0xfeed && ping.from == a.cid(), || {
        format!("got label {:#x} arg {:#x} from {}", ping.label, ping.arg, ping.from)
    })
}

fn page_payload(svc: &mut Services) -> Check {
    if !PAGING {
        let mut m = Msg::new(PEER_ECHO);
        m.set_page(config::CONFIG_RAM_BASE + 0x1000);
        return want("page payload without an MMU", peer(svc)?.call(&mut m), Error::NotSup);
    }
    let mut m = Msg::new(PEER_PAGE);
    ok("call", peer(svc)?.call(&mut m))?;
    let page = m.page_payload().ok_or_else(|| format!("no page payload (arg {:#x})", m.arg))?;
    let image_base = sys::bootinfo().map_or(u64::MAX, |b| b.image_base);
    expect(page % 4096 == 0 && page >= image_base, || format!("page at {:#x}", page))?;
    // SAFETY: the kernel just mapped this page into the shell at `page`
    // (reported in msg.page); it is page-aligned and readable.
    let magic = unsafe { core::ptr::read_volatile(page as *const u64) };
    // Give the page back (each run would keep one otherwise), and check
    // it is gone: a second free of the same address finds nothing.
    ok("free the page", ks::free_page(page))?;
    want("free it again", ks::free_page(page), Error::Fault)?;
    expect(magic == PEER_PAGE_MAGIC, || format!("magic {:#x} at {:#x}", magic, page))
}

fn notify(_: &mut Services) -> Check {
    let mut o = Opened::new();
    let (a, b) = o.pair()?;
    ok("notify", a.notify(1 << 12))?;
    let mut m = Msg::new(0);
    ok("recv", b.recv(&mut m))?;
    expect(m.is_notification() && m.arg == 1 << 12 && m.from == b.cid(), || {
        format!("label {:#x} arg {:#x} from {}", m.label, m.arg, m.from)
    })
}

fn notify_coalesce(_: &mut Services) -> Check {
    let mut o = Opened::new();
    let (a, b) = o.pair()?;
    let bits = [1u64 << 13, 1 << 14, 1 << 15];
    for bit in bits {
        ok("notify", a.notify(bit))?;
    }
    let mut m = Msg::new(0);
    ok("recv", b.recv(&mut m))?;
    let all = bits.iter().fold(0, |acc, b| acc | b);
    expect(m.is_notification() && m.arg == all, || format!("label {:#x} arg {:#x}", m.label, m.arg))?;
    want("second recv", b.recv_noblock(&mut m), Error::WouldBlock)
}

/// ipc_peer notifies while the shell is blocked awaiting its reply on the
/// same receive target: the bits must wait, OR-ed, until after the reply.
fn notify_busy(svc: &mut Services) -> Check {
    let p = peer(svc)?;
    let mut o = Opened::new();
    let (a, b) = o.pair()?;
    ok("transfer", b.transfer(p))?;
    let mut m = Msg::new(PEER_SLOW);
    m.arg = 150;
    m.set_channel(a.cid());
    let r = p.call(&mut m);
    o.forget(a);
    let mut n = Msg::new(0);
    let got = p.recv_noblock(&mut n);
    let again = p.recv_noblock(&mut Msg::new(0));
    let _ = b.transfer(b);
    ok("call", r)?;
    expect(m.label == PEER_SLOW && !m.is_notification(), || format!("reply label {:#x}", m.label))?;
    ok("recv notification", got)?;
    // ipc_peer closes the channel after the last bit: the kernel adds
    // NOTIFY_PEER_CLOSED, and all of it arrives OR-ed, once.
    let all = PEER_SLOW_NOTIFY_BITS.iter().fold(NOTIFY_PEER_CLOSED, |acc, b| acc | b);
    expect(n.is_notification() && n.arg == all, || format!("label {:#x} arg {:#x}", n.label, n.arg))?;
    want("second recv", again, Error::WouldBlock)
}

fn invalid_channel(_: &mut Services) -> Check {
    want("ipc 9999", Channel::from_raw(9999).call(&mut Msg::new(0)), Error::BadCh)?;
    want("ipc -1", Channel::from_raw(-1).call(&mut Msg::new(0)), Error::BadCh)?;
    want("close 9999", Channel::from_raw(9999).close(), Error::BadCh)?;
    want("notify -1", Channel::from_raw(-1).notify(1), Error::BadCh)
}

fn closed_channel(_: &mut Services) -> Check {
    let mut o = Opened::new();
    let (a, b) = o.pair()?;
    ok("close", b.close())?;
    o.forget(b);
    want("send", a.send(&Msg::new(1)), Error::Closed)?;
    want("call", a.call(&mut Msg::new(1)), Error::Closed)
}

fn bad_pointer(_: &mut Services) -> Check {
    let r = |addr: u64| runtime::error::check(sys::debug_write_raw(addr, 4));
    want("kernel address", r(KERNEL_ADDR), Error::Fault)?;
    want("unmapped user address", r(UNMAPPED_ADDR), Error::Fault)
}

fn bad_page(svc: &mut Services) -> Check {
    let p = peer(svc)?;
    let want_err = if PAGING { Error::Fault } else { Error::NotSup };
    let mut m = Msg::new(PEER_ECHO);
    m.set_page(if PAGING { 0x100_0000_0001 } else { config::CONFIG_RAM_BASE + 1 });
    want("unaligned", p.call(&mut m), want_err)?;
    let mut m = Msg::new(PEER_ECHO);
    m.set_page(UNMAPPED_ADDR);
    want("unmapped", p.call(&mut m), want_err)
}

fn oversized(svc: &mut Services) -> Check {
    let p = peer(svc)?;
    let mut m = Msg::new(PEER_ECHO);
    m.len = (MSG_INLINE_MAX + 1) as u16;
    sys::put_msg(&m);
    want("len 225", runtime::error::check(sys::ipc(p.cid(), IPC_CALL)), Error::TooBig)
}

fn transfer_cycle(_: &mut Services) -> Check {
    let mut o = Opened::new();
    let (a, b) = (o.open()?, o.open()?);
    ok("transfer a->b", a.transfer(b))?;
    let r = want("transfer b->a", b.transfer(a), Error::Loop);
    let _ = a.transfer(a);
    r
}

fn link_cycle(_: &mut Services) -> Check {
    let mut o = Opened::new();
    let a = o.open()?;
    want("link a,a", a.link(a), Error::Loop)
}

fn reply_without_call(_: &mut Services) -> Check {
    let mut o = Opened::new();
    let (a, _b) = o.pair()?;
    want("reply", a.reply(&Msg::new(1)), Error::NoCall)
}

fn nonblocking_recv(_: &mut Services) -> Check {
    let mut o = Opened::new();
    let a = o.open()?;
    want("recv", a.recv_noblock(&mut Msg::new(0)), Error::WouldBlock)
}

fn kernel_unknown_label(_: &mut Services) -> Check {
    want("label 0x1ff", ks::call(&mut Msg::new(0x01ff)), Error::NoSys)
}

fn kernel_no_permission(_: &mut Services) -> Check {
    if PAGING {
        let scratch = sys::bootinfo().map_or(0, |b| b.scratch);
        want("KS_ALLOC_PAGE", ks::alloc_page(scratch), Error::Perm)
    } else {
        // arm-m: KS_ALLOC_PAGE does not exist (E_NOTSUP, whatever the
        // caps); KS_MMIO needs CAP_IO, which the shell lacks.
        want("KS_MMIO", ks::mmio(0x4000_0000, 1024), Error::Perm)
    }
}

fn unknown_syscall(_: &mut Services) -> Check {
    want("syscall 99", runtime::error::check(sys::raw_syscall(99, 0, 0)), Error::NoSys)
}

/// CONSOLE_INPUT (typing into the console) is the keyboard driver's alone:
/// a connection of anyone else (here a fresh lookup of "console") gets
/// -E_PERM, and the bytes never reach a reader.
fn console_input_refused(_: &mut Services) -> Check {
    let ch = ok("lookup console", runtime::service::lookup("console"))?;
    let mut m = ok("message", Msg::with_data(CONSOLE_INPUT, b"kill 1\r"))?;
    let r = ch.call(&mut m).and_then(|_| m.result());
    let _ = ch.close();
    want("CONSOLE_INPUT from the shell", r, Error::Perm)
}
