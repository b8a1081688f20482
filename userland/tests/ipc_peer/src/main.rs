//! ipc_peer - the partner of the shell's `ipctest`: echoes messages, sends
//! a ping through a channel it is given, returns a page with a magic
//! number, and answers slowly on request (docs/protocols.md). PEER_FPU
//! makes it the helper of the shell's `fpu` command: reply first, then
//! bursts of other values in the FP registers that preempt the caller.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicUsize, Ordering};
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
    let mut peer = Peer { listen, clients: service::Clients::new(), ping: None };
    loop {
        if listen.recv(&mut m).is_ok() {
            peer.handle(&mut m);
        }
    }
}

/// How often, and how many times, a ping is offered before it is dropped.
const PING_RETRY_MS: u32 = 1;
const PING_TRIES: u32 = 200;

struct Peer {
    listen: Channel,
    clients: service::Clients<8>,
    /// The PEER_PING of the last PEER_ECHO_CHANNEL, not yet taken: the
    /// channel, the ping and the tries left. Sent without blocking (a
    /// client that never receives must not stop this server), retried on
    /// a timer, dropped (and the channel closed) after PING_TRIES.
    ping: Option<(Channel, Msg, u32)>,
}

impl Peer {
    fn handle(&mut self, m: &mut Msg) {
        self.clients.on_notification(m);
        if m.label == LABEL_NOTIFICATION && m.arg & NOTIFY_TIMER != 0 {
            return self.offer_ping();
        }
        if m.label == PEER_ECHO_CHANNEL {
            return self.echo_channel(m);
        }
        handle(self.listen, &mut self.clients, m);
    }

    /// PEER_ECHO_CHANNEL: reply arg 0, then send PEER_PING through the
    /// channel in the request and close it. (protocols.md lists the ping
    /// first; but a caller blocked in IPC_CALL cannot receive the ping
    /// before the reply, so the reply goes first: the caller receives the
    /// ping right after its call returns.)
    fn echo_channel(&mut self, m: &Msg) {
        let from = Channel::from_raw(m.from);
        service::drop_page(m);
        let Some(cid) = m.channel_payload() else {
            let _ = from.reply(&error_reply(PEER_ECHO_CHANNEL, Error::Inval));
            return;
        };
        let ch = Channel::from_raw(cid);
        if self.ping.is_some() || from.reply(&Msg::new(PEER_ECHO_CHANNEL)).is_err() {
            // One ping in flight at a time; none for a caller that did not call.
            let _ = from.reply(&error_reply(PEER_ECHO_CHANNEL, Error::Busy));
            let _ = ch.close();
            return;
        }
        let mut ping = Msg::new(PEER_PING);
        ping.arg = m.arg;
        self.ping = Some((ch, ping, PING_TRIES));
        self.offer_ping();
    }

    fn offer_ping(&mut self) {
        let Some((ch, ping, tries)) = self.ping.take() else {
            return;
        };
        if ch.send_noblock(&ping) == Err(Error::WouldBlock) && tries > 1 {
            self.ping = Some((ch, ping, tries - 1));
            let _ = ks::timer(self.listen, PING_RETRY_MS);
            return;
        }
        let _ = ch.close();
    }
}

fn handle(listen: Channel, clients: &mut service::Clients<8>, m: &mut Msg) {
    let from = Channel::from_raw(m.from);
    // Only PEER_ECHO_CHANNEL and PEER_SLOW take a channel, and nothing
    // takes a page: anything else a client sends along is dropped.
    service::drop_page(m);
    if !matches!(m.label, INIT_CONNECT | PEER_ECHO_CHANNEL | PEER_SLOW) {
        service::drop_channel(m);
    }
    let reply = match m.label {
        INIT_CONNECT => {
            let _ = clients.accept(listen, m);
            return;
        }
        LABEL_NOTIFICATION => return,
        PEER_ECHO => Ok(echo(m)),
        PEER_PAGE => return give_page(from),
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

/// A heap page (demand-paged by the pager) with the magic, as payload.
fn give_page(from: Channel) {
    // One page-sized heap slot, allocated once and never freed: each gift
    // moves the page mapped there to the caller, and the next one touches
    // the slot again, which the pager maps anew. So no number of requests
    // grows this task (a fresh allocation per gift would take a heap page
    // for good each time: any client could make the server eat memory).
    static GIFT: AtomicUsize = AtomicUsize::new(0);
    let mut p = GIFT.load(Ordering::Relaxed) as *mut u8;
    if p.is_null() {
        let Ok(layout) = core::alloc::Layout::from_size_align(PAGE_SIZE, PAGE_SIZE) else {
            return;
        };
        // SAFETY: a non-zero-sized layout; the block is never freed (the
        // slot lives as long as the task).
        p = unsafe { alloc::alloc::alloc(layout) };
        if p.is_null() {
            let _ = from.reply(&error_reply(PEER_PAGE, Error::NoMem));
            return;
        }
        GIFT.store(p as usize, Ordering::Relaxed);
    }
    // SAFETY: p is the page-aligned slot this task owns; if the last gift
    // moved its page away, this write faults and the pager maps a zeroed
    // one. No reference into the slot is held anywhere.
    unsafe {
        core::ptr::write_bytes(p, 0, PAGE_SIZE);
        core::ptr::write_volatile(p as *mut u64, PEER_PAGE_MAGIC);
    }
    let mut r = Msg::new(PEER_PAGE);
    r.set_page(p as u64);
    // Not delivered (the client did not call, or went away): the page stays
    // in the slot for the next request.
    let _ = from.reply(&r);
}

/// Wait `ms` (bounded) on a timer before answering. If the request carries
/// a channel (an extension of the protocol used by ipctest), notify it
/// with PEER_SLOW_NOTIFY_BITS one at a time during the wait, while the caller is
/// blocked in its call, then close it.
fn slow(ms: u64, notify: Option<Channel>) -> Result<Msg, Error> {
    let step = (ms.min(10_000) as u32) / PEER_SLOW_NOTIFY_BITS.len() as u32;
    let mut slept = Ok(());
    for bits in PEER_SLOW_NOTIFY_BITS {
        if let Some(ch) = notify {
            let _ = ch.notify(bits);
        }
        slept = slept.and_then(|_| service::sleep_ms(step));
    }
    if let Some(ch) = notify {
        let _ = ch.close(); // on every path: the channel is the client's
    }
    slept?;
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
