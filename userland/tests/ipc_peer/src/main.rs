//! ipc_peer - the partner of the shell's `ipctest`: echoes messages, sends
//! a ping through a channel it is given, returns a page with a magic
//! number, and answers slowly on request (docs/protocols.md). PEER_FPU
//! makes it the helper of the shell's `fpu` command: reply first, then
//! bursts of other values in the FP registers that preempt the caller.
#![no_std]
#![no_main]

use runtime::abi::*;
use runtime::proto::*;
use runtime::{ks, service, Channel, Error, Msg};

runtime::entry!(main);

/// The size of the pages given away by PEER_PAGE (heap pages the pager
/// serves: ipc_peer has no CAP_MEMORY).
const PAGE_SIZE: usize = 4096;

fn main(_arg: u64) -> i32 {
    let listen = match service::listen("ipc_peer") {
        Ok(ch) => ch,
        Err(e) => {
            runtime::debug_println!("ipc_peer: cannot register: {}", e);
            return 1;
        }
    };
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            handle(listen, &mut m);
        }
    }
}

fn handle(listen: Channel, m: &mut Msg) {
    let from = Channel::from_raw(m.from);
    let reply = match m.label {
        INIT_CONNECT => {
            let _ = service::accept(listen, m);
            return;
        }
        LABEL_NOTIFICATION => return,
        PEER_ECHO => Ok(echo(m)),
        PEER_ECHO_CHANNEL => return echo_channel(from, m),
        PEER_PAGE => give_page(),
        PEER_SLOW => slow(m.arg, m.channel_payload().map(Channel::from_raw)),
        PEER_FPU => return fpu_helper(from, m.arg, m.get_u32(0).unwrap_or(0)),
        _ => Err(Error::NoSys),
    };
    let _ = from.reply(&reply.unwrap_or_else(|e| error_reply(m.label, e)));
}

fn error_reply(label: u16, e: Error) -> Msg {
    let mut r = Msg::new(label);
    r.arg = runtime::error::to_raw(Err(e));
    r
}

/// The same label, len and data.
fn echo(m: &Msg) -> Msg {
    let mut r = *m;
    r.flags = 0;
    r
}

/// Reply arg 0, then send PEER_PING through the channel in the request
/// and close it. (protocols.md lists the ping first; but a caller blocked
/// in IPC_CALL cannot receive the ping before the reply, so the reply goes
/// first: the caller receives the ping right after its call returns.)
fn echo_channel(from: Channel, m: &Msg) {
    let Some(cid) = m.channel_payload() else {
        let _ = from.reply(&error_reply(PEER_ECHO_CHANNEL, Error::Inval));
        return;
    };
    let ch = Channel::from_raw(cid);
    let mut ping = Msg::new(PEER_PING);
    ping.arg = m.arg;
    if from.reply(&Msg::new(PEER_ECHO_CHANNEL)).is_ok() {
        let _ = ch.send(&ping);
    }
    let _ = ch.close();
}

/// A heap page (demand-paged by the pager) with the magic, as payload.
fn give_page() -> Result<Msg, Error> {
    let layout = core::alloc::Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).map_err(|_| Error::Inval)?;
    // SAFETY: a non-zero-sized layout. The page is handed to the caller
    // (unmapped from this task by the kernel) and never freed here: the
    // allocator must not reuse a page that is gone.
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if p.is_null() {
        return Err(Error::NoMem);
    }
    // SAFETY: p points to PAGE_SIZE writable, page-aligned bytes we own.
    unsafe { core::ptr::write_volatile(p as *mut u64, PEER_PAGE_MAGIC) };
    let mut r = Msg::new(PEER_PAGE);
    r.set_page(p as u64);
    Ok(r)
}

/// Wait `ms` (bounded) on a timer before answering. If the request carries
/// a channel (an extension of the protocol used by ipctest), notify it
/// with PEER_SLOW_NOTIFY_BITS one at a time during the wait, while the caller is
/// blocked in its call, then close it.
fn slow(ms: u64, notify: Option<Channel>) -> Result<Msg, Error> {
    let step = (ms.min(10_000) as u32) / PEER_SLOW_NOTIFY_BITS.len() as u32;
    for bits in PEER_SLOW_NOTIFY_BITS {
        if let Some(ch) = notify {
            let _ = ch.notify(bits);
        }
        service::sleep_ms(step)?;
    }
    if let Some(ch) = notify {
        let _ = ch.close();
    }
    let mut r = Msg::new(PEER_SLOW);
    r.arg = ks::uptime();
    Ok(r)
}

extern crate alloc;

/// PEER_FPU: reply, then `rounds` times: sleep to the next tick, fill
/// the FP registers with FPU_PEER_SEED + i and spin `burst` cycles (0:
/// half a tick).
fn fpu_helper(from: Channel, rounds: u64, burst: u32) {
    if !runtime::config::CONFIG_ARCH_HAS_FPU {
        let _ = from.reply(&error_reply(PEER_FPU, Error::NotSup));
        return;
    }
    if from.reply(&Msg::new(PEER_FPU)).is_err() {
        return;
    }
    let tick = runtime::config::CONFIG_CPU_HZ / runtime::config::CONFIG_TICK_HZ.max(1);
    let burst = if burst == 0 { tick / 2 } else { burst };
    for _ in 0..rounds.min(PEER_FPU_MAX_ROUNDS) {
        if service::sleep_ms(1).is_err() {
            return;
        }
        fpu_burst(burst);
    }
}

/// Other values in every FP register, then spin `cycles` of SYS_CLOCK
/// (the same asm block as the shell's check).
#[cfg(any(target_arch = "arm", target_arch = "x86_64"))]
fn fpu_burst(cycles: u32) {
    let mut spin = runtime::fpucheck::Spin::burst(cycles);
    runtime::fpucheck::spin_with_fpu(&mut spin, FPU_PEER_SEED);
}

#[cfg(not(any(target_arch = "arm", target_arch = "x86_64")))]
fn fpu_burst(_cycles: u32) {}
