//! init - the first task and the supervisor. Registers for death notices
//! (KS_SUPERVISE), starts the programs of its policy table (memory first:
//! it is everyone else's pager; images without it, the MCU boards, run
//! without a pager), then serves the init protocol on its listening
//! channel: INIT_REGISTER, INIT_LOOKUP (answered when the service
//! registers, or -E_NOENT after ~5 s), INIT_SPAWN and INIT_STATUS.
//!
//! ```text
//!  NOTIFY_TASK_DIED ─> scan KS_TASK_INFO ─> a supervised child is gone:
//!     close its bootstrap channel, drop its registration, then by policy
//!     (policy.rs, runtime::supervise):
//!       restart ──> timer ──> NOTIFY_TIMER ──> start it again (a fresh
//!                   image: .data/.bss re-copied on MCU, a pager on pc);
//!                   its clients' next call fails E_CLOSED, they look the
//!                   name up again and INIT_LOOKUP waits for the new one
//!       give up ──> one line; lookups of it fail at once (-E_NOENT)
//!       critical ─> KS_HALT with the reason
//! ```
#![no_std]
#![no_main]

use runtime::service::reply_result as reply;
use runtime::abi::*;
use runtime::proto::*;
use runtime::supervise::{on_death, Deaths, Decision, Policy};
use runtime::{ks, Channel, Error, Msg, Result};

mod policy;
mod registry;
use policy::{Program, Start, PROGRAMS};
use registry::{Name, Registry};

runtime::entry!(main);

const LOOKUP_TIMEOUT_MS: u64 = 5000;
const NCHILD: usize = PROGRAMS.len();

/// Unsupervised killed tasks already reported (a small ring: tids are
/// reused rarely).
const REPORTED_MAX: usize = 16;

/// What init knows of one program of the policy table.
#[derive(Clone, Copy)]
struct Child {
    /// The running instance.
    tid: Option<u32>,
    /// init's end of its bootstrap channel (Start::Boot programs).
    conn: Option<Channel>,
    deaths: Deaths,
    restarts: u32,
    /// A restart is due at this uptime (ms).
    restart_at: Option<u64>,
    gave_up: bool,
}

const CHILD: Child = Child { tid: None, conn: None, deaths: Deaths::new(), restarts: 0, restart_at: None, gave_up: false };

struct Init {
    listen: Channel,
    reg: Registry,
    children: [Child; NCHILD],
    /// The uptime the listening channel's timer is armed for.
    wake_at: Option<u64>,
    /// Boot waits for memory to register until then.
    boot_deadline: Option<u64>,
    /// memory runs and every task gets a pager channel.
    paged: bool,
    reported: [Option<u32>; REPORTED_MAX],
    next_report: usize,
    /// Connections a server has not taken yet (answer_lookup).
    pending: [Option<Pending>; PENDING_MAX],
}

const PENDING_MAX: usize = 4;
const CONNECT_RETRY_MS: u64 = 2;
const CONNECT_TIMEOUT_MS: u64 = 2000;

/// A lookup's connection on its way to the service.
#[derive(Clone, Copy)]
struct Pending {
    name: Name,
    server: Channel,
    client: Channel,
    to: Channel,
    rights: u64,
    deadline: u64,
}

impl Pending {
    /// Give up: close both ends and answer the client `e`.
    fn fail(&self, e: Error) {
        let _ = self.server.close();
        let _ = self.client.close();
        reply(self.to, INIT_LOOKUP, Err(e));
    }
}

fn main(_arg: u64) -> i32 {
    let listen = match Channel::open() {
        Ok(ch) => ch,
        Err(e) => {
            runtime::debug_println!("init: cannot open a channel: {}", e);
            return 1;
        }
    };
    let mut init = Init {
        listen,
        reg: Registry::new(),
        children: [CHILD; NCHILD],
        wake_at: None,
        boot_deadline: None,
        paged: false,
        reported: [None; REPORTED_MAX],
        next_report: 0,
        pending: [None; PENDING_MAX],
    };
    init.boot();
    loop {
        init.serve_one();
        if init.pending.iter().any(Option::is_some) {
            init.retry_pending();
            init.rearm();
        }
    }
}

fn index_of(name: &str) -> Option<usize> {
    PROGRAMS.iter().position(|p| p.enabled && p.name == name)
}

/// The program that registers service `name` (its own name, or the one
/// policy::SERVICES gives it).
fn provider_of(name: &str) -> Option<usize> {
    PROGRAMS.iter().position(|p| p.enabled && policy::service_of(p.name) == name)
}

impl Init {
    /// Start every boot program; memory must have registered before
    /// anyone can be given a pager channel.
    fn boot(&mut self) {
        match ks::supervise(self.listen) {
            Ok(()) | Err(Error::NoSys) => {}
            Err(e) => runtime::debug_println!("init: KS_SUPERVISE: {}", e),
        }
        let memory = index_of("memory").unwrap_or(0);
        match self.start(memory) {
            Ok(_) => self.paged = true,
            // No memory program in the image (MCU boards): no pager.
            Err(Error::NoEnt) => {}
            Err(e) => runtime::debug_println!("init: cannot start memory: {}", e),
        }
        self.boot_deadline = Some(ks::uptime() + LOOKUP_TIMEOUT_MS);
        while self.paged && self.reg.find("memory").is_none() && self.boot_deadline.is_some() {
            self.rearm();
            self.serve_one();
        }
        self.boot_deadline = None;
        for i in 0..NCHILD {
            let p = &PROGRAMS[i];
            if i == memory || !p.enabled || p.start != Start::Boot {
                continue;
            }
            if let Err(e) = self.start(i) {
                runtime::debug_println!("init: cannot start {}: {}", p.name, e);
            }
        }
    }

    /// Create, connect and start program `i` (a bootstrap channel for a
    /// boot program, a pager when memory runs). Records the instance.
    fn start(&mut self, i: usize) -> Result<u32> {
        let p: &Program = &PROGRAMS[i];
        let mut conn = None;
        let bootstrap = if p.start == Start::Boot {
            let (mine, theirs) = Channel::pair()?;
            if let Err(e) = mine.transfer(self.listen) {
                let _ = mine.close();
                let _ = theirs.close();
                return Err(e);
            }
            conn = Some(mine);
            Some(theirs)
        } else {
            None
        };
        let tid = match ks::create_task(p.name, p.caps, p.prio, 0, bootstrap) {
            Ok(tid) => tid,
            Err(e) => {
                for ch in [conn, bootstrap].into_iter().flatten() {
                    let _ = ch.close();
                }
                return Err(e);
            }
        };
        let c = &mut self.children[i];
        c.tid = Some(tid);
        c.conn = conn;
        if let Err(e) = self.finish_start(tid, self.paged) {
            let c = &mut self.children[i];
            c.tid = None;
            if let Some(conn) = c.conn.take() {
                let _ = conn.close();
            }
            self.mark_reported(tid);
            let _ = ks::kill(tid);
            return Err(e);
        }
        Ok(tid)
    }

    /// Give a created task its pager (if `paged`) and start it.
    fn finish_start(&mut self, tid: u32, paged: bool) -> Result<()> {
        // A tid is reused once its task is gone: its next death counts.
        self.forget_report(tid);
        if paged {
            let (to_task, to_pager) = Channel::pair()?;
            self.connect("memory", to_pager, 0).inspect_err(|_| {
                let _ = to_task.close();
            })?;
            ks::set_pager(tid, to_task)?;
        }
        ks::start_task(tid)
    }

    /// Send `ch` to registered service `name` as an INIT_CONNECT carrying
    /// `rights` (policy::RIGHTS; 0 for an ordinary client).
    fn connect(&mut self, name: &str, ch: Channel, rights: u64) -> Result<()> {
        let conn = self.reg.find(name).ok_or(Error::NoEnt)?;
        let mut m = Msg::new(INIT_CONNECT);
        m.arg = rights;
        m.set_channel(ch.cid());
        conn.send(&m).inspect_err(|_| {
            let _ = ch.close();
        })
    }

    fn serve_one(&mut self) {
        let mut m = Msg::new(0);
        if self.listen.recv(&mut m).is_err() {
            return;
        }
        let from = Channel::from_raw(m.from);
        // No init request carries a payload: drop what a child sends along.
        runtime::service::drop_payloads(&m);
        match m.label {
            LABEL_NOTIFICATION => {
                if m.arg & NOTIFY_TASK_DIED != 0 {
                    self.check_children();
                }
                if m.arg & NOTIFY_TIMER != 0 {
                    self.wake_at = None;
                    self.on_timer();
                }
            }
            INIT_REGISTER => self.register(from, &m),
            INIT_LOOKUP => self.lookup(from, &m),
            INIT_SPAWN => {
                let r = self.spawn(&m);
                reply(from, INIT_SPAWN, r.map(u64::from));
            }
            INIT_STATUS => {
                let running = self.children.iter().filter_map(|c| Some(StatusEntry { tid: c.tid?, restarts: c.restarts }));
                let _ = from.reply(&status_reply(running));
            }
            label => reply(from, label, Err(Error::NoSys)),
        }
    }

    /// INIT_REGISTER: only a boot program, on its own bootstrap channel,
    /// under its own name (a task cannot take over another's service).
    fn register(&mut self, from: Channel, m: &Msg) {
        let Some(name) = parse_name(m).and_then(Name::new) else {
            return reply(from, INIT_REGISTER, Err(Error::Inval));
        };
        let own = provider_of(name.as_str()).is_some_and(|i| self.children[i].conn == Some(from));
        if !own {
            return reply(from, INIT_REGISTER, Err(Error::Perm));
        }
        let r = self.reg.add(name, from);
        reply(from, INIT_REGISTER, r.map(|_| 0));
        while let Some(waiter) = self.reg.take_waiter(name) {
            self.answer_lookup(waiter, name);
        }
    }

    fn lookup(&mut self, from: Channel, m: &Msg) {
        let Some(name) = parse_name(m).and_then(Name::new) else {
            return reply(from, INIT_LOOKUP, Err(Error::Inval));
        };
        if self.reg.find(name.as_str()).is_some() {
            return self.answer_lookup(from, name);
        }
        // Given up on: it is not coming back.
        if provider_of(name.as_str()).is_some_and(|i| self.children[i].gave_up) {
            return reply(from, INIT_LOOKUP, Err(Error::NoEnt));
        }
        let deadline = ks::uptime() + LOOKUP_TIMEOUT_MS;
        match self.reg.add_waiter(from, name, deadline) {
            Ok(()) => self.rearm(),
            Err(e) => reply(from, INIT_LOOKUP, Err(e)),
        }
    }

    /// Link a new pair, give one end to the service, the other to `to`.
    /// The connection carries the rights of the program whose bootstrap
    /// channel `to` is (none for anyone else).
    ///
    /// The service's end goes without blocking: a registered server may
    /// itself be waiting in a call to init (a lookup of its own), and a
    /// blocking send would then leave init and that server waiting on
    /// each other for ever. A connection the server does not take at once
    /// waits in `pending` (bounded) and is retried every CONNECT_RETRY_MS
    /// until CONNECT_TIMEOUT_MS; the client's reply waits with it.
    fn answer_lookup(&mut self, to: Channel, name: Name) {
        let program = self.children.iter().position(|c| c.conn == Some(to)).map(|i| PROGRAMS[i].name);
        let rights = program.map_or(0, |p| policy::rights(p, name.as_str()));
        let (client, server) = match Channel::pair() {
            Ok(pair) => pair,
            Err(e) => return reply(to, INIT_LOOKUP, Err(e)),
        };
        let p = Pending { name, server, client, to, rights, deadline: ks::uptime() + CONNECT_TIMEOUT_MS };
        if self.deliver(&p) {
            return;
        }
        match self.pending.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some(p);
                self.rearm();
            }
            None => p.fail(Error::Busy),
        }
    }

    /// Try to hand a pending connection over; true when it is settled
    /// (delivered and answered, or failed and answered), false when the
    /// server has not taken it yet.
    fn deliver(&mut self, p: &Pending) -> bool {
        let Some(conn) = self.reg.find(p.name.as_str()) else {
            p.fail(Error::NoEnt);
            return true;
        };
        let mut m = Msg::new(INIT_CONNECT);
        m.arg = p.rights;
        m.set_channel(p.server.cid());
        match conn.send_noblock(&m) {
            Ok(()) => {
                let mut r = Msg::new(INIT_LOOKUP);
                r.set_channel(p.client.cid());
                if p.to.reply(&r).is_err() {
                    let _ = p.client.close();
                }
                true
            }
            Err(Error::WouldBlock) => false,
            Err(e) => {
                p.fail(e);
                true
            }
        }
    }

    /// Retry the connections servers did not take; fail those too old.
    fn retry_pending(&mut self) {
        let now = ks::uptime();
        for i in 0..PENDING_MAX {
            let Some(p) = self.pending[i] else { continue };
            if self.deliver(&p) {
                self.pending[i] = None;
            } else if now >= p.deadline {
                p.fail(Error::Busy);
                self.pending[i] = None;
            }
        }
    }

    /// INIT_SPAWN: a program of the table started on request (supervised,
    /// one instance), or any other program, unsupervised; both get a pager
    /// and no bootstrap channel. Boot programs are init's own: E_BUSY.
    fn spawn(&mut self, m: &Msg) -> Result<u32> {
        let req = parse_spawn(m).ok_or(Error::Inval)?;
        let prio = req.prio.min(NUM_PRIORITIES - 1);
        if let Some(i) = index_of(req.name) {
            let c = &self.children[i];
            if PROGRAMS[i].start == Start::Boot || c.tid.is_some() || c.restart_at.is_some() {
                return Err(Error::Busy);
            }
            self.children[i].gave_up = false;
            return self.start(i);
        }
        let tid = ks::create_task(req.name, 0, prio, req.arg, None)?;
        if let Err(e) = self.finish_start(tid, self.paged) {
            let _ = ks::kill(tid);
            return Err(e);
        }
        Ok(tid)
    }

    /// NOTIFY_TASK_DIED: find supervised children that are gone (dead, or
    /// their slot taken by another program) and apply their policy; print
    /// every other killed task once. A tid alive again is forgotten.
    fn check_children(&mut self) {
        let mut alive = [false; NCHILD];
        for index in 0..256 {
            let t = match ks::task_info(index) {
                Ok(t) => t,
                Err(_) => break,
            };
            let dead = t.state == TASK_STATE_KILLED || t.state == TASK_STATE_EXITED;
            let name = ks::name_str(&t.name);
            let child = self.children.iter().position(|c| c.tid == Some(t.tid));
            if let Some(i) = child.filter(|&i| PROGRAMS[i].name == name) {
                alive[i] = !dead;
                continue;
            }
            let seen = self.reported.iter().position(|r| *r == Some(t.tid));
            match (t.state == TASK_STATE_KILLED, seen) {
                (true, None) => {
                    runtime::debug_println!("init: task {} ({}) was killed", t.tid, name);
                    self.mark_reported(t.tid);
                }
                (false, Some(i)) if !dead => self.reported[i] = None,
                _ => {}
            }
        }
        for i in 0..NCHILD {
            if let (Some(tid), false) = (self.children[i].tid, alive[i]) {
                self.child_died(i, tid);
            }
        }
    }

    fn child_died(&mut self, i: usize, tid: u32) {
        let p = &PROGRAMS[i];
        let now = ks::uptime();
        let c = &mut self.children[i];
        c.tid = None;
        if let Some(conn) = c.conn.take() {
            self.reg.remove(conn);
            let _ = conn.close();
        }
        // Reported here, not again as an unsupervised kill.
        self.mark_reported(tid);
        let c = &mut self.children[i];
        match on_death(p.policy, &mut c.deaths, now) {
            Decision::Restart { after_ms } => {
                runtime::debug_println!("init: {} (task {}) died; restarting it in {} ms", p.name, tid, after_ms);
                c.restart_at = Some(now + u64::from(after_ms));
                self.rearm();
            }
            Decision::GiveUp { deaths } => {
                let window = match p.policy {
                    Policy::Restart { window_ms, .. } => window_ms / 1000,
                    Policy::Critical => 0,
                };
                c.gave_up = true;
                runtime::debug_println!("init: {} (task {}) died {} times in {} s; giving up on it", p.name, tid, deaths, window);
                // Lookups waiting for it will not be answered.
                while let Some(w) = Name::new(p.name).and_then(|n| self.reg.take_waiter(n)) {
                    reply(w, INIT_LOOKUP, Err(Error::NoEnt));
                }
            }
            Decision::Halt => {
                let mut text = [0u8; ks::HALT_REASON_MAX];
                let n = reason(&mut text, p.name, tid);
                let r = ks::halt(core::str::from_utf8(&text[..n]).unwrap_or("critical task died"));
                runtime::debug_println!("init: critical {} died but the system could not stop: {:?}", p.name, r);
            }
        }
    }

    /// Restarts that are due, lookups that waited too long, the end of
    /// boot's wait for memory.
    fn on_timer(&mut self) {
        let now = ks::uptime();
        for i in 0..NCHILD {
            if self.children[i].restart_at.is_some_and(|at| at <= now) {
                self.children[i].restart_at = None;
                match self.start(i) {
                    Ok(tid) => {
                        self.children[i].restarts += 1;
                        runtime::debug_println!("init: {} restarted as task {} (restart {})", PROGRAMS[i].name, tid, self.children[i].restarts);
                    }
                    Err(e) => {
                        runtime::debug_println!("init: cannot restart {}: {}", PROGRAMS[i].name, e);
                        let tid = self.children[i].tid.unwrap_or(0);
                        self.child_died(i, tid);
                    }
                }
            }
        }
        while let Some(waiter) = self.reg.take_expired(now) {
            reply(waiter, INIT_LOOKUP, Err(Error::NoEnt));
        }
        if self.boot_deadline.is_some_and(|d| d <= now) {
            self.boot_deadline = None;
        }
        self.rearm();
    }

    /// Arm the listening channel's timer for the earliest deadline (a
    /// later one already armed is replaced: KS_TIMER keeps one per channel).
    fn rearm(&mut self) {
        let restarts = self.children.iter().filter_map(|c| c.restart_at);
        let retry = self.pending.iter().any(Option::is_some).then(|| ks::uptime() + CONNECT_RETRY_MS);
        let next = restarts.chain(self.reg.next_deadline()).chain(self.boot_deadline).chain(retry).min();
        let Some(at) = next else { return };
        if self.wake_at.is_some_and(|w| w <= at) {
            return;
        }
        let ms = at.saturating_sub(ks::uptime()).clamp(1, u64::from(u32::MAX)) as u32;
        if ks::timer(self.listen, ms).is_ok() {
            self.wake_at = Some(at);
        }
    }

    fn mark_reported(&mut self, tid: u32) {
        if !self.reported.contains(&Some(tid)) {
            self.reported[self.next_report] = Some(tid);
            self.next_report = (self.next_report + 1) % REPORTED_MAX;
        }
    }

    fn forget_report(&mut self, tid: u32) {
        for r in self.reported.iter_mut().filter(|r| **r == Some(tid)) {
            *r = None;
        }
    }
}

/// "critical task 'NAME' (task TID) died" into `buf`; its length.
fn reason(buf: &mut [u8], name: &str, tid: u32) -> usize {
    use core::fmt::Write;
    struct Cursor<'a>(&'a mut [u8], usize);
    impl Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.0.len() - self.1);
            self.0[self.1..self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
            self.1 += n;
            Ok(())
        }
    }
    let mut c = Cursor(buf, 0);
    let _ = write!(c, "critical task '{}' (task {}) died", name, tid);
    c.1
}

