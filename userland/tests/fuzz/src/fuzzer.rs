//! fuzz - the in-tree system-call fuzzer. The shell's `fuzz` command starts
//! two, linked to each other: `fuzz` (CAP_TASK: it also creates, starts and
//! kills tasks) and `fuzz_peer` (no capabilities). Each is told a seed and
//! a number of calls (docs/protocols.md, "fuzz"), then makes that many
//! random system calls, kernel-server requests and channel operations with
//! boundary arguments, sends hostile messages to the servers it was handed
//! and to its peer, and reports FUZZ_DONE on its bootstrap channel.
//!
//! The fuzzer must never hang itself: a receive is guarded by a 2 ms
//! KS_TIMER on the same channel (or made non-blocking), a send blocks only
//! towards servers (which always come back to receive) or is
//! non-blocking, and only the privileged fuzzer makes calls to its peer,
//! which never calls back. It never exits early (KS_EXIT), never panics
//! the kernel on purpose (KS_PANIC), never stops the system (KS_HALT) and
//! never takes over supervision (KS_SUPERVISE); it never kills a task it did not create. Everything
//! else is fair game, including its own bootstrap channel as a target of
//! notifications and messages.
//!
//! Each call is chosen from the seed and the results so far; a run with
//! the same seed on the same image replays it. `trace_from` prints every
//! call from that index on, and a progress line comes every 16384 calls.
use runtime::abi::*;
use runtime::proto::*;
use runtime::net::*;
use runtime::nic::{NIC_INFO, NIC_OPEN, NIC_RECV, NIC_TX};
use runtime::pci::{PCI_CLAIM, PCI_CLAIM_CLASS, PCI_LIST};
use runtime::rng::Rng;
use runtime::{config, ks, sys, Channel, Msg};

/// Channels a fuzzer keeps open at most. On MCU boards the whole system
/// has CONFIG_MAX_CHANNELS (32) channels and a task may hold
/// CONFIG_TASK_CHANNELS (12): a fuzzer holding 12 starves every other
/// task of channels (a known limit of the MCU configuration, not tested
/// here), so it keeps 2 there.
const POOL: usize = if config::CONFIG_ARCH_ARM_M { 2 } else { 12 };
const CHILDREN: usize = 8;
const PROGRESS_EVERY: u32 = 1 << 14;
const GUARD_MS: u32 = 2;
const NO_TRACE: u32 = u32::MAX;

/// Channel ids worth trying besides the fuzzer's own: the kernel, the
/// bootstrap channel, the edges of the table and of the integer.
const WILD_CIDS: [i32; 12] = [-1, 0, KERNEL_CID as i32, BOOTSTRAP_CID as i32, 3, 11, 12, 13, 63, 64, i32::MAX, i32::MIN];
/// Task ids no task holds (the fuzzer's dead children join them).
const WILD_TIDS: [u32; 7] = [0, 65, 255, 0xffff, 0x8000_0000, u32::MAX - 1, u32::MAX];
/// Labels the servers and the kernel know, and some they do not.
/// CONSOLE_INPUT must be refused on every channel a fuzzer can hold (only
/// the keyboard driver's connection carries the right): were it taken,
/// random bytes would reach the shell as typed commands.
const LABELS: [u16; 43] = [
    0, 1, 0xffff, LABEL_NOTIFICATION, LABEL_PAGE_FAULT, LABEL_PAGE_FAULT_REPLY, KS_CREATE_TASK,
    KS_TASK_INFO, INIT_REGISTER, INIT_LOOKUP, INIT_SPAWN, INIT_CONNECT, CONSOLE_READ, CONSOLE_INPUT,
    MEM_STATS, PEER_ECHO, PEER_ECHO_CHANNEL, PEER_PING, PEER_PAGE, PEER_SLOW, PEER_FPU, GPIO_READ,
    GPIO_WAIT, GPIO_LED, FUZZ_START, NIC_OPEN, NIC_INFO, NIC_TX, NIC_RECV, PCI_CLAIM, PCI_LIST,
    PCI_CLAIM_CLASS, NET_TCP_LISTEN, NET_TCP_ACCEPT, NET_TCP_CONNECT, NET_SEND, NET_RECV, NET_CLOSE,
    NET_UDP_BIND, NET_UDP_SENDTO, NET_UDP_RECVFROM, NET_PING, NET_SOCKETS,
];
/// Kernel-server labels the fuzzer may send: all but KS_EXIT, KS_PANIC,
/// KS_SUPERVISE and KS_HALT (see the top of the file); task requests are
/// built apart. 0x0115 and 0x01ff are unused labels; KS_DMA_ALLOC needs
/// CAP_IO, which no fuzzer holds (E_PERM, and E_NOTSUP on MCU boards).
/// What a message on KERNEL_CID may never be, whatever its label was drawn
/// as: an end of the run or of the system.
const KS_FORBIDDEN: [u16; 4] = [KS_EXIT, KS_PANIC, KS_SUPERVISE, KS_HALT];
const KS_LABELS: [u16; 15] = [
    KS_ALLOC_PAGE, KS_LISTEN_IRQ, KS_IOPORT, KS_TIMER, KS_UPTIME, KS_TASK_INFO, KS_MEM_INFO,
    KS_YIELD, KS_MMIO, KS_DMA_ALLOC, KS_IPC_INFO, 0x0100, 0x0115, 0x01ff, 0xf002,
];
const CHILD_NAMES: [&[u8]; 6] = [
    b"faulter", b"fuzz_peer", b"no_such_program", b"", b"fuzz\0peer",
    b"a_name_of_exactly_thirty_two_ch",
];
/// faulter modes that end (1-3: faults, 5: stack overflow); never 4 (spin).
const FAULTER_MODES: [u64; 4] = [1, 2, 3, 5];

struct Fuzzer {
    rng: Rng,
    name: &'static str,
    privileged: bool,
    trace_from: u32,
    call: u32,
    errors: u32,
    tasks: u32,
    own: [i32; POOL],
    n_own: usize,
    targets: [i32; FUZZ_TARGETS_MAX],
    n_targets: usize,
    peer: Option<i32>,
    children: [u32; CHILDREN],
    n_children: usize,
    heap: (u64, u64),
    pages: [u64; 4],
    n_pages: usize,
}

pub fn main(arg: u64) -> i32 {
    if arg != FUZZ_ARG {
        return 2; // a child of the privileged fuzzer: nothing to do
    }
    let name = if sys::bootinfo().is_some_and(|b| b.name.starts_with(b"fuzz_peer")) { "fuzz_peer" } else { "fuzz" };
    let mut f = Fuzzer {
        rng: Rng::new(0),
        name,
        privileged: false,
        trace_from: NO_TRACE,
        call: 0,
        errors: 0,
        tasks: 0,
        own: [0; POOL],
        n_own: 0,
        targets: [0; FUZZ_TARGETS_MAX],
        n_targets: 0,
        peer: None,
        children: [0; CHILDREN],
        n_children: 0,
        heap: sys::bootinfo().map(|b| (b.heap_base, b.heap_size)).unwrap_or((0, 0)),
        pages: [0; 4],
        n_pages: 0,
    };
    // Started without a bootstrap channel (a child of another fuzzer), or
    // the shell went away: nothing to do.
    let calls = match f.configure() {
        Some(n) => n,
        None => return 2,
    };
    runtime::debug_println!("{}: {} calls, privileged {}", f.name, calls, f.privileged);
    while f.call < calls {
        f.one();
        f.call += 1;
        if f.call % PROGRESS_EVERY == 0 {
            runtime::debug_println!("{}: {} calls", f.name, f.call);
        }
    }
    let done = FuzzDone { calls: f.call, errors: f.errors, tasks: f.tasks };
    // Children never started stay behind on purpose: the kernel must
    // reclaim them when this task exits.
    let _ = Channel::BOOTSTRAP.send(&fuzz_done_msg(&done));
    0
}

impl Fuzzer {
    /// Take FUZZ_TARGET messages, then FUZZ_START, on the bootstrap
    /// channel; the number of calls to make.
    fn configure(&mut self) -> Option<u32> {
        let mut m = Msg::new(0);
        loop {
            Channel::BOOTSTRAP.recv(&mut m).ok()?;
            if m.is_notification() {
                continue;
            }
            let from = Channel::from_raw(m.from);
            match m.label {
                FUZZ_TARGET => {
                    if let Some(cid) = m.channel_payload() {
                        if self.n_targets < FUZZ_TARGETS_MAX {
                            self.targets[self.n_targets] = cid;
                            self.n_targets += 1;
                        } else {
                            let _ = Channel::from_raw(cid).close();
                        }
                    }
                }
                FUZZ_START => {
                    let start = parse_fuzz_start(&m)?;
                    self.rng = Rng::new(start.seed ^ if self.name == "fuzz" { 0 } else { 0x9e37_79b9 });
                    self.privileged = start.flags & FUZZ_PRIVILEGED != 0;
                    self.trace_from = start.trace_from;
                    self.peer = m.channel_payload();
                    let _ = from.reply(&Msg::new(FUZZ_START));
                    return Some(start.calls);
                }
                _ => {
                    if let Some(cid) = m.channel_payload() {
                        let _ = Channel::from_raw(cid).close();
                    }
                }
            }
            let _ = from.reply(&Msg::new(m.label));
        }
    }

    /// One random operation.
    fn one(&mut self) {
        match self.rng.below(16) {
            0 => self.syscall("nop", SYS_NOP, [0; 5]),
            1 | 2 => self.open(),
            3 => {
                let a = self.mine_or_wild();
                self.syscall("close", SYS_CLOSE, [a as u64, 0, 0, 0, 0]);
                self.forget(a);
            }
            4 => {
                // Both ends its own: once its peer dies, linking the
                // fuzzer's end of the peer channel to one of its own would
                // make its next call to the peer wait on itself forever.
                let (a, b) = (self.mine_or_wild(), self.mine_or_wild());
                self.syscall("link", SYS_LINK, [a as u64, b as u64, 0, 0, 0]);
            }
            5 => {
                let (a, b) = (self.mine_or_wild(), self.any_cid());
                self.syscall("transfer", SYS_TRANSFER, [a as u64, b as u64, 0, 0, 0]);
            }
            6 => {
                let (a, bits) = (self.any_cid(), self.rng.edgy_u64());
                self.syscall("notify", SYS_NOTIFY, [a as u64, bits, 0, 0, 0]);
            }
            7 => self.debug_write(),
            8 => {
                let any = self.rng.next_u64();
                let nr = self.rng.pick(&[SYS_MAX + 1, 64, 255, 0x8000_0000, u64::MAX, any]);
                let args = [self.rng.edgy_u64(), self.rng.edgy_u64(), self.rng.edgy_u64(), 0, 0];
                self.syscall("bad syscall", nr, args);
            }
            9 | 10 => self.ipc_own(),
            11 => self.ipc_peer(),
            12 | 13 => self.ipc_target(),
            14 => self.kernel_request(),
            _ => {
                if self.privileged {
                    self.task_request();
                } else {
                    self.touch_heap();
                }
            }
        }
    }

    fn trace(&self, what: &str, a: u64, b: u64, r: i64) {
        if self.call >= self.trace_from {
            runtime::debug_println!("{} #{}: {} {:#x} {:#x} -> {}", self.name, self.call, what, a, b, r);
        }
    }

    fn count(&mut self, r: i64) -> i64 {
        if r < 0 {
            self.errors += 1;
        }
        r
    }

    fn syscall(&mut self, what: &str, nr: u64, a: [u64; 5]) {
        let r = sys::raw_syscall5(nr, a);
        self.count(r);
        self.trace(what, a[0], a[1], r);
    }

    // -- channels -----------------------------------------------------------
    fn open(&mut self) {
        if self.n_own == POOL {
            let i = self.rng.below(POOL as u64) as usize;
            let cid = self.own[i];
            let r = sys::close(cid);
            self.trace("close (pool full)", cid as u64, 0, r);
            self.forget(cid);
        }
        let r = sys::open();
        self.count(r);
        self.trace("open", 0, 0, r);
        if r >= 0 {
            self.keep(r as i32);
        }
    }

    fn keep(&mut self, cid: i32) {
        if self.n_own < POOL {
            self.own[self.n_own] = cid;
            self.n_own += 1;
        } else {
            let _ = sys::close(cid);
        }
    }

    fn forget(&mut self, cid: i32) {
        if let Some(i) = self.own[..self.n_own].iter().position(|&c| c == cid) {
            self.own[i] = self.own[self.n_own - 1];
            self.n_own -= 1;
        }
    }

    fn protected(&self, cid: i32) -> bool {
        cid == BOOTSTRAP_CID as i32 || Some(cid) == self.peer || self.targets[..self.n_targets].contains(&cid)
    }

    /// A channel to destroy or redirect: one of the fuzzer's own, or a wild
    /// id that is not the bootstrap, peer or a target channel.
    fn mine_or_wild(&mut self) -> i32 {
        if self.n_own > 0 && self.rng.chance(4, 5) {
            return self.own[self.rng.below(self.n_own as u64) as usize];
        }
        let cid = self.rng.pick(&WILD_CIDS);
        if self.protected(cid) {
            -1
        } else {
            cid
        }
    }

    /// Any channel id at all (for operations that harm nobody but the
    /// caller: notify, link/transfer targets, IPC).
    fn any_cid(&mut self) -> i32 {
        match self.rng.below(4) {
            0 if self.n_own > 0 => self.own[self.rng.below(self.n_own as u64) as usize],
            1 if self.n_targets > 0 => self.targets[self.rng.below(self.n_targets as u64) as usize],
            2 if self.peer.is_some() => self.peer.unwrap_or(-1),
            _ => self.rng.pick(&WILD_CIDS),
        }
    }

    fn debug_write(&mut self) {
        // Bad ranges only (a valid one would print noise): null, kernel
        // space, wrapping, the end of the address space, and a valid
        // pointer with length 0.
        let buf = [0u8; 1];
        let (p, n) = match self.rng.below(5) {
            0 => (0, self.rng.edgy_u64()),
            1 => (self.rng.edgy_u64(), self.rng.edgy_u64()),
            2 => (u64::MAX - 3, 8),
            3 => (buf.as_ptr() as u64, 0),
            _ => (buf.as_ptr() as u64, u64::MAX),
        };
        self.syscall("debug_write", SYS_DEBUG_WRITE, [p, n, 0, 0, 0]);
    }

    // -- messages -----------------------------------------------------------
    /// A message with a random label, length and payload flags.
    fn random_msg(&mut self, labels: &[u16]) -> (Msg, Option<i32>) {
        let mut m = Msg::new(if self.rng.chance(3, 4) { self.rng.pick(labels) } else { self.rng.next_u32() as u16 });
        let len = match self.rng.below(4) {
            0 => self.rng.pick(&[0u16, 1, 3, 4, 8, 12, 16, 20, 32]),
            1 => MSG_INLINE_MAX as u16,
            2 => self.rng.pick(&[MSG_INLINE_MAX as u16 + 1, 256, 0xffff]),
            _ => self.rng.below(MSG_INLINE_MAX as u64 + 1) as u16,
        };
        self.rng.fill(&mut m.data[..(len as usize).min(MSG_INLINE_MAX)]);
        m.len = len;
        m.arg = self.rng.edgy_u64();
        // Requests that are slow by design (ipc_peer sleeps `arg` ms, up to
        // 10 s, or runs `arg` FPU rounds of a tick each) get small args:
        // the point is hostile input, not waiting.
        if m.label == PEER_SLOW || m.label == PEER_FPU {
            m.arg %= 4;
        }
        let mut moved = None;
        match self.rng.below(6) {
            0 if self.n_own > 0 => {
                let cid = self.own[self.rng.below(self.n_own as u64) as usize];
                m.flags = MSG_CHANNEL as u16;
                m.channel = cid;
                moved = Some(cid);
            }
            1 => {
                // Never its bootstrap, peer or target channels: moved
                // away, they would end the run rather than test anything.
                let cid = self.rng.pick(&WILD_CIDS);
                m.flags = MSG_CHANNEL as u16;
                m.channel = if self.protected(cid) { -1 } else { cid };
            }
            2 => {
                m.flags = MSG_PAGE as u16;
                m.page = self.page_to_give();
            }
            3 => m.flags = self.rng.next_u32() as u16,
            _ => {}
        }
        (m, moved)
    }

    /// A page address to move: one of the heap pages this fuzzer touched
    /// (pc), else an address it does not own.
    fn page_to_give(&mut self) -> u64 {
        if self.n_pages > 0 && self.rng.chance(1, 2) {
            let i = self.rng.below(self.n_pages as u64) as usize;
            let page = self.pages[i];
            self.pages[i] = self.pages[self.n_pages - 1];
            self.n_pages -= 1;
            return page;
        }
        let any = self.rng.next_u64();
        self.rng.pick(&[0, 0x1000, self.heap.0, self.heap.0.wrapping_add(1), u64::MAX & !0xfff, any])
    }

    /// IPC on a channel of its own (or a wild id) with any flags; a receive
    /// that could block is guarded by a timer, a send made non-blocking.
    fn ipc_own(&mut self) {
        let cid = if self.rng.chance(1, 8) { self.any_cid() } else { self.mine_or_wild() };
        let mut flags = self.rng.below(IPC_FLAGS_ALL + 2);
        if flags & IPC_SEND != 0 {
            // Non-blocking, and no call: NOBLOCK covers a call's send half
            // only, and a server that defers its reply (CONSOLE_READ)
            // would keep the fuzzer waiting for good.
            flags = (flags | IPC_NOBLOCK) & !IPC_RECV;
        }
        if cid == KERNEL_CID as i32 {
            flags = IPC_CALL; // a kernel-server request: kernel_request's business
        }
        self.ipc(cid, flags, &LABELS);
    }

    /// Talk to the other fuzzer: non-blocking sends, guarded receives,
    /// replies, and (privileged side only) calls it may answer.
    fn ipc_peer(&mut self) {
        let Some(peer) = self.peer else { return self.ipc_own() };
        let flags = match self.rng.below(4) {
            0 => IPC_SEND | IPC_NOBLOCK,
            1 => IPC_RECV,
            2 => IPC_REPLY,
            _ if self.privileged => IPC_CALL,
            _ => IPC_REPLY | IPC_RECV,
        };
        self.ipc(peer, flags, &LABELS);
    }

    /// A hostile message to a server: a blocking send (servers always come
    /// back to receive), then a guarded receive for whatever comes back.
    fn ipc_target(&mut self) {
        if self.n_targets == 0 {
            return self.ipc_own();
        }
        let cid = self.targets[self.rng.below(self.n_targets as u64) as usize];
        let flags = if self.rng.chance(1, 2) { IPC_SEND } else { IPC_SEND | IPC_NOBLOCK };
        self.ipc(cid, flags, &LABELS);
        if self.rng.chance(1, 2) {
            self.ipc(cid, IPC_RECV, &LABELS);
        }
    }

    fn ipc(&mut self, cid: i32, flags: u64, labels: &[u16]) {
        let (mut m, moved) = self.random_msg(labels);
        if cid == KERNEL_CID as i32 && KS_FORBIDDEN.contains(&m.label) {
            // A random label can be one of these too: never end the run.
            m.label = KS_UPTIME;
        }
        self.ipc_with(cid, flags, m, moved)
    }

    fn ipc_with(&mut self, cid: i32, mut flags: u64, m: Msg, moved: Option<i32>) {
        if cid == BOOTSTRAP_CID as i32 {
            // The shell waits there for FUZZ_DONE alone; it is no server.
            return self.syscall("nop", SYS_NOP, [0; 5]);
        }
        let blocks_on_recv = flags & IPC_RECV != 0 && flags & IPC_NOBLOCK == 0 && flags & IPC_SEND == 0;
        // A guarded receive waits for the next tick at worst (timers count
        // ticks): one in eight blocks, the rest do not, or the fuzzer would
        // spend most of its time asleep.
        if blocks_on_recv && (self.rng.chance(7, 8) || ks::timer(Channel::from_raw(cid), GUARD_MS).is_err()) {
            flags |= IPC_NOBLOCK;
        }
        let mut got = m;
        if flags & (IPC_SEND | IPC_REPLY) != 0 {
            sys::put_msg(&m);
        }
        if flags & IPC_NOBLOCK == 0 {
            self.trace("ipc (may block) cid", cid as u64, flags, m.label as i64);
        }
        let r = sys::ipc(cid, flags);
        self.count(r);
        self.trace("ipc", cid as u64, flags, r);
        if r < 0 {
            return;
        }
        if let Some(c) = moved.filter(|_| flags & (IPC_SEND | IPC_REPLY) != 0) {
            self.forget(c); // it belongs to the receiver now
        }
        if flags & IPC_RECV != 0 {
            sys::get_msg(&mut got);
            self.take_payloads(&got);
        }
    }

    /// Keep what a message brought (a channel goes to the pool; a page
    /// stays mapped until the fuzzer exits).
    fn take_payloads(&mut self, m: &Msg) {
        if let Some(cid) = m.channel_payload() {
            self.keep(cid);
        }
    }

    // -- the kernel server --------------------------------------------------
    fn kernel_request(&mut self) {
        let mut m = Msg::new(self.rng.pick(&KS_LABELS));
        match m.label {
            KS_TIMER => {
                let cid = self.any_cid();
                let _ = m.push_i32(cid);
                let _ = m.push_u32(self.rng.pick(&[0, 1, GUARD_MS, 1000, u32::MAX]));
            }
            KS_TASK_INFO => {
                let _ = m.push_u32(self.rng.pick(&[0, 1, 5, 63, 64, u32::MAX]));
            }
            _ => {
                let len = self.rng.below(24) as u16;
                self.rng.fill(&mut m.data[..len as usize]);
                m.len = len;
            }
        }
        self.kcall("ks", m);
    }

    fn kcall(&mut self, what: &str, mut m: Msg) -> i64 {
        let label = m.label as u64;
        let r = match ks::call(&mut m) {
            Ok(v) => v as i64,
            Err(e) => -e.code(),
        };
        self.count(r);
        self.trace(what, label, 0, r);
        r
    }

    /// CAP_TASK requests, aimed only at tasks this fuzzer created (or at
    /// ids nobody holds).
    fn task_request(&mut self) {
        match self.rng.below(4) {
            0 => self.create_child(),
            k => {
                let tid = if self.n_children > 0 && self.rng.chance(3, 4) {
                    self.children[self.rng.below(self.n_children as u64) as usize]
                } else {
                    self.rng.pick(&WILD_TIDS)
                };
                let label = [KS_START_TASK, KS_KILL, KS_SET_PAGER][k as usize - 1];
                let mut m = Msg::new(label);
                let _ = m.push_u32(tid);
                let mut moved = None;
                if label == KS_SET_PAGER && self.n_own > 0 {
                    let cid = self.own[self.rng.below(self.n_own as u64) as usize];
                    m.set_channel(cid);
                    moved = Some(cid);
                }
                if self.kcall("task", m) >= 0 {
                    if let Some(c) = moved {
                        self.forget(c);
                    }
                }
            }
        }
    }

    fn create_child(&mut self) {
        let name = self.rng.pick(&CHILD_NAMES);
        let mut m = Msg::new(KS_CREATE_TASK);
        let any = self.rng.next_u32();
        let caps = self.rng.pick(&[0, CAP_TASK, CAP_ALL, any]);
        let prio = self.rng.pick(&[0, 3, NUM_PRIORITIES - 1, NUM_PRIORITIES, u32::MAX]);
        let arg = if name == b"faulter" { self.rng.pick(&FAULTER_MODES) } else { 0 };
        let _ = m.push_u32(caps);
        let _ = m.push_u32(prio);
        let _ = m.push_u64(arg);
        let _ = m.push_bytes(name);
        if self.n_own > 0 && self.rng.chance(1, 2) {
            m.set_channel(self.own[self.rng.below(self.n_own as u64) as usize]);
        }
        let channel = m.channel_payload();
        let r = self.kcall("create_task", m);
        if r >= 0 {
            self.tasks += 1;
            if let Some(c) = channel {
                self.forget(c);
            }
            if self.n_children == CHILDREN {
                // Forget the oldest (it stays a stale id to try later).
                self.children.copy_within(1.., 0);
                self.n_children -= 1;
            }
            self.children[self.n_children] = r as u32;
            self.n_children += 1;
        }
    }

    // -- memory -------------------------------------------------------------
    /// Touch a page of the heap (paging boards: the pager maps it on the
    /// fault); remember a few to give away as page payloads.
    fn touch_heap(&mut self) {
        let (base, size) = self.heap;
        if !config::CONFIG_ARCH_HAS_MMU || size < 4096 {
            return self.syscall("nop", SYS_NOP, [0; 5]);
        }
        let page = base + self.rng.below(size.min(64 * 4096) / 4096) * 4096;
        // SAFETY: the page lies in this task's heap window (bootinfo), which
        // the pager maps on first touch; a volatile byte write there aliases
        // no Rust object (the fuzzer has no allocator). If the pager refuses,
        // the kernel kills the task, which the shell reports.
        unsafe { core::ptr::write_volatile(page as *mut u8, 0x5a) };
        self.trace("touch", page, 0, 0);
        if self.n_pages < self.pages.len() && !self.pages[..self.n_pages].contains(&page) {
            self.pages[self.n_pages] = page;
            self.n_pages += 1;
        }
    }
}

