//! init - the first task. Registers as the supervisor (KS_SUPERVISE),
//! starts the servers and the shell (memory first: it is everyone else's
//! pager; images without it, the MCU boards, run without a pager), then
//! serves the init protocol on its listening channel: INIT_REGISTER,
//! INIT_LOOKUP (answered when the service registers, or -E_NOENT after
//! ~5 s) and INIT_SPAWN, and reports tasks a fault killed
//! (NOTIFY_TASK_DIED).
#![no_std]
#![no_main]

use runtime::abi::*;
use runtime::config;
use runtime::proto::*;
use runtime::{ks, Channel, Error, Msg, Result};

mod registry;
use registry::{Name, Registry};

runtime::entry!(main);

const PRIO_SERVER: u32 = 2;
const PRIO_SHELL: u32 = 3;
const LOOKUP_TIMEOUT_MS: u64 = 5000;
const TICK_MS: u32 = 250;

/// Killed tasks already reported (a small ring: tids are reused rarely).
const REPORTED_MAX: usize = 16;

struct Init {
    listen: Channel,
    reg: Registry,
    timer_armed: bool,
    /// memory runs and every task gets a pager channel.
    paged: bool,
    reported: [Option<u32>; REPORTED_MAX],
    next_report: usize,
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
        timer_armed: false,
        paged: false,
        reported: [None; REPORTED_MAX],
        next_report: 0,
    };
    init.boot();
    loop {
        init.serve_one();
    }
}

impl Init {
    /// Start every boot task; memory must have registered before anyone
    /// can be given a pager channel.
    fn boot(&mut self) {
        match ks::supervise(self.listen) {
            Ok(()) | Err(Error::NoSys) => {}
            Err(e) => runtime::debug_println!("init: KS_SUPERVISE: {}", e),
        }
        match self.start_child("memory", CAP_MEMORY, PRIO_SERVER, false) {
            Ok(_) => self.paged = true,
            // No memory program in the image (MCU boards): no pager.
            Err(Error::NoEnt) => {}
            Err(e) => runtime::debug_println!("init: cannot start memory: {}", e),
        }
        let deadline = ks::uptime() + LOOKUP_TIMEOUT_MS;
        while self.paged && self.reg.find("memory").is_none() && ks::uptime() < deadline {
            self.arm_timer();
            self.serve_one();
        }
        let mut tasks: [(&str, u32, u32); 5] = [
            ("console", CAP_IO | CAP_IRQ, PRIO_SERVER),
            ("ipc_peer", 0, PRIO_SERVER),
            ("bench_server", 0, PRIO_SERVER),
            ("gpio", CAP_IO | CAP_IRQ, PRIO_SERVER),
            ("shell", CAP_TASK, PRIO_SHELL),
        ];
        if !config::CONFIG_BENCH {
            tasks[2].0 = "";
        }
        if !config::CONFIG_GPIO {
            tasks[3].0 = "";
        }
        for (name, caps, prio) in tasks.into_iter().filter(|t| !t.0.is_empty()) {
            if let Err(e) = self.start_child(name, caps, prio, self.paged) {
                runtime::debug_println!("init: cannot start {}: {}", name, e);
            }
        }
    }

    /// Create, connect and start a boot task with a bootstrap channel.
    fn start_child(&mut self, name: &str, caps: u32, prio: u32, paged: bool) -> Result<u32> {
        let (mine, theirs) = Channel::pair()?;
        mine.transfer(self.listen)?;
        let tid = match ks::create_task(name, caps, prio, 0, Some(theirs)) {
            Ok(tid) => tid,
            Err(e) => {
                let _ = mine.close();
                let _ = theirs.close();
                return Err(e);
            }
        };
        self.finish_start(tid, paged)?;
        Ok(tid)
    }

    /// Give a created task its pager (if `paged`) and start it.
    fn finish_start(&mut self, tid: u32, paged: bool) -> Result<()> {
        // A tid is reused once its task is gone (MCU boards: the same
        // program, the same slot): its next death must be reported again.
        self.forget_death(tid);
        if paged {
            let (to_task, to_pager) = Channel::pair()?;
            self.connect("memory", to_pager).inspect_err(|_| {
                let _ = to_task.close();
            })?;
            ks::set_pager(tid, to_task)?;
        }
        ks::start_task(tid)
    }

    /// Send `ch` to registered service `name` as an INIT_CONNECT.
    fn connect(&mut self, name: &str, ch: Channel) -> Result<()> {
        let conn = self.reg.find(name).ok_or(Error::NoEnt)?;
        let mut m = Msg::new(INIT_CONNECT);
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
                    self.report_deaths();
                }
                if m.arg & NOTIFY_TIMER != 0 {
                    self.expire_lookups();
                }
            }
            INIT_REGISTER => self.register(from, &m),
            INIT_LOOKUP => self.lookup(from, &m),
            INIT_SPAWN => {
                let r = self.spawn(&m);
                reply(from, INIT_SPAWN, r.map(u64::from));
            }
            label => reply(from, label, Err(Error::NoSys)),
        }
    }

    fn register(&mut self, from: Channel, m: &Msg) {
        let Some(name) = parse_name(m).and_then(Name::new) else {
            return reply(from, INIT_REGISTER, Err(Error::Inval));
        };
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
        let deadline = ks::uptime() + LOOKUP_TIMEOUT_MS;
        match self.reg.add_waiter(from, name, deadline) {
            Ok(()) => self.arm_timer(),
            Err(e) => reply(from, INIT_LOOKUP, Err(e)),
        }
    }

    /// Link a new pair, give one end to the service, the other to `to`.
    fn answer_lookup(&mut self, to: Channel, name: Name) {
        let r = Channel::pair().and_then(|(client, server)| {
            self.connect(name.as_str(), server)
                .inspect_err(|_| {
                    let _ = client.close();
                })
                .map(|_| client)
        });
        match r {
            Ok(client) => {
                let mut m = Msg::new(INIT_LOOKUP);
                m.set_channel(client.cid());
                if to.reply(&m).is_err() {
                    let _ = client.close();
                }
            }
            Err(e) => reply(to, INIT_LOOKUP, Err(e)),
        }
    }

    /// INIT_SPAWN: a task with a pager and no bootstrap channel.
    fn spawn(&mut self, m: &Msg) -> Result<u32> {
        let req = parse_spawn(m).ok_or(Error::Inval)?;
        let prio = req.prio.min(NUM_PRIORITIES - 1);
        let tid = ks::create_task(req.name, 0, prio, req.arg, None)?;
        // The slot may be a reported dead task's: its next death counts.
        self.forget_report(tid);
        if let Err(e) = self.finish_start(tid, self.paged) {
            let _ = ks::kill(tid);
            return Err(e);
        }
        Ok(tid)
    }

    fn forget_report(&mut self, tid: u32) {
        for r in self.reported.iter_mut().filter(|r| **r == Some(tid)) {
            *r = None;
        }
    }

    fn expire_lookups(&mut self) {
        self.timer_armed = false;
        let now = ks::uptime();
        while let Some(waiter) = self.reg.take_expired(now) {
            reply(waiter, INIT_LOOKUP, Err(Error::NoEnt));
        }
        if self.reg.has_waiters() || (self.paged && self.reg.find("memory").is_none()) {
            self.arm_timer();
        }
    }

    /// NOTIFY_TASK_DIED: print every killed task not reported yet. A tid
    /// that is alive again (reused) is forgotten, so its next death counts;
    /// so is every tid init starts (finish_start). KS_TASK_INFO cannot tell
    /// a fault from KS_KILL: a task killed on request is reported at the
    /// next fault notification.
    fn report_deaths(&mut self) {
        for index in 0..256 {
            let t = match ks::task_info(index) {
                Ok(t) => t,
                Err(_) => break,
            };
            let seen = self.reported.iter().position(|r| *r == Some(t.tid));
            match (t.state == TASK_STATE_KILLED, seen) {
                (true, None) => {
                    runtime::debug_println!("init: task {} ({}) stopped by a fault", t.tid, ks::name_str(&t.name));
                    self.reported[self.next_report] = Some(t.tid);
                    self.next_report = (self.next_report + 1) % REPORTED_MAX;
                }
                (false, Some(i)) => self.reported[i] = None,
                _ => {}
            }
        }
    }

    fn forget_death(&mut self, tid: u32) {
        for r in self.reported.iter_mut().filter(|r| **r == Some(tid)) {
            *r = None;
        }
    }

    fn arm_timer(&mut self) {
        if !self.timer_armed {
            self.timer_armed = ks::timer(self.listen, TICK_MS).is_ok();
        }
    }
}

/// Reply to a caller with a bare result.
fn reply(to: Channel, label: u16, r: Result<u64>) {
    let mut m = Msg::new(label);
    m.arg = runtime::error::to_raw(r);
    let _ = to.reply(&m);
}
