//! fuzz.rs - `fuzz CALLS [SEED [TRACE_FROM]]`: start the two fuzzers
//! (userland/tests/fuzz) linked to each other, hand each a channel to every
//! server in the image, and wait for both reports (docs/protocols.md,
//! "fuzz"). `flash.py fuzz` drives this and checks the system afterwards.

use crate::Services;
use runtime::abi::*;
use runtime::args::{parse_u32, parse_u64, words};
use runtime::proto::*;
use runtime::{config, ks, println, service, sys, Channel, Msg, Result};

/// Below the servers (so they always get to run), like `crash`.
const PRIO_FUZZ: u32 = 4;
const NO_TRACE: u32 = u32::MAX;
const WAIT_REPORT_MS: u32 = 10_000;

/// The servers the image has (a lookup of a missing one waits ~5 s).
fn servers() -> impl Iterator<Item = &'static str> {
    [
        ("console", true),
        ("memory", config::CONFIG_ARCH_HAS_MMU),
        ("ipc_peer", true),
        ("bench_server", config::CONFIG_BENCH),
        ("gpio", config::CONFIG_GPIO),
        ("pci", config::CONFIG_PCI),
        ("nic", config::CONFIG_NIC),
        ("net", config::CONFIG_NET),
    ]
    .into_iter()
    .filter(|s| s.1)
    .map(|s| s.0)
}

pub fn run(_: &mut Services, rest: &str) {
    let mut w = words(rest);
    let calls = w.next().and_then(parse_u32);
    let seed = match w.next() {
        Some(s) => parse_u64(s),
        None => Some(sys::clock() ^ ks::uptime()),
    };
    let trace_from = match w.next() {
        Some(s) => parse_u32(s),
        None => Some(NO_TRACE),
    };
    let (Some(calls), Some(seed), Some(trace_from)) = (calls, seed, trace_from) else {
        return println!("fuzz: usage: fuzz CALLS [SEED [TRACE_FROM]]");
    };
    println!("fuzz: seed {} calls {}", seed, calls);
    match start_and_wait(calls, seed, trace_from) {
        Ok(true) => println!("fuzz: ok"),
        Ok(false) => println!("fuzz: FAILED (seed {})", seed),
        Err(e) => println!("fuzz: {} (seed {})", e, seed),
    }
}

/// One fuzzer, created stopped; `mine` is the shell's end of its bootstrap.
/// Both are created before either runs: the privileged one creates tasks
/// and could otherwise take the last task slot from the other.
struct Started {
    name: &'static str,
    tid: u32,
    mine: Channel,
}

fn create(name: &'static str, caps: u32) -> Result<Started> {
    let (mine, theirs) = Channel::pair()?;
    let tid = ks::create_task(name, caps, PRIO_FUZZ, FUZZ_ARG, Some(theirs)).inspect_err(|_| {
        let _ = mine.close();
        let _ = theirs.close();
    })?;
    if config::CONFIG_ARCH_HAS_MMU {
        // Its pager: a connection to memory, like init gives its children.
        ks::set_pager(tid, service::lookup("memory")?)?;
    }
    Ok(Started { name, tid, mine })
}

/// Start f and hand it channels to the servers: all of them, or on MCU
/// boards (32 channels in the whole system) one, the `pick`th (the seed
/// picks, so runs with different seeds reach every server).
fn give_targets(f: &Started, pick: u64) -> Result<()> {
    ks::start_task(f.tid)?;
    let n = servers().count() as u64;
    for (i, name) in servers().enumerate() {
        if config::CONFIG_ARCH_ARM_M && i as u64 != pick % n {
            continue;
        }
        let target = service::lookup(name)?;
        let mut m = Msg::with_data(FUZZ_TARGET, name.as_bytes())?;
        m.set_channel(target.cid());
        f.mine.call(&mut m)?;
    }
    Ok(())
}

/// FUZZ_START with the channel to the other fuzzer: f runs from here on.
fn go(f: &Started, peer: Channel, flags: u32, start: &FuzzStart) -> Result<()> {
    let mut m = fuzz_start_request(&FuzzStart { flags, ..*start });
    m.set_channel(peer.cid());
    f.mine.call(&mut m)
}

fn start_and_wait(calls: u32, seed: u64, trace_from: u32) -> Result<bool> {
    let start = FuzzStart { seed, calls, trace_from, flags: 0 };
    let a = create("fuzz", CAP_TASK)?;
    let b = create("fuzz_peer", 0).inspect_err(|_| {
        let _ = ks::kill(a.tid);
    })?;
    // Everything is set up before either fuzzer runs: once running they
    // open channels and create tasks, and could take what the set-up needs.
    let setup = give_targets(&a, seed).and_then(|_| give_targets(&b, seed.wrapping_add(1))).and_then(|_| {
        // One receive for both reports (on a's channel): a fuzzer that
        // finishes first may be the one the other waits on (calls go from
        // fuzz to fuzz_peer).
        b.mine.transfer(a.mine)?;
        let (pa, pb) = Channel::pair()?;
        go(&a, pa, FUZZ_PRIVILEGED, &start)?;
        go(&b, pb, 0, &start)?;
        Ok(a.mine)
    });
    let rx = match setup {
        Ok(rx) => rx,
        Err(e) => {
            let _ = ks::kill(a.tid);
            let _ = ks::kill(b.tid);
            return Err(e);
        }
    };
    let mut ok = [false, false];
    let mut waits = 0u32;
    let mut m = Msg::new(0);
    while !(ok[0] && ok[1]) {
        // Every WAIT_REPORT_MS without a report, say what each fuzzer is
        // doing (a hang shows as the same state line again and again).
        let _ = ks::timer(rx, WAIT_REPORT_MS);
        rx.recv(&mut m)?;
        if m.is_notification() && m.arg & NOTIFY_TIMER != 0 {
            waits += 1;
            for (f, done) in [(&a, ok[0]), (&b, ok[1])] {
                if !done {
                    println!("fuzz: waiting for {} (task {}): {}", f.name, f.tid, state_of(f.tid));
                    if task_gone(f.tid) {
                        println!("fuzz: {} (task {}) ended without reporting", f.name, f.tid);
                        let _ = ks::kill(a.tid);
                        let _ = ks::kill(b.tid);
                        return Ok(false);
                    }
                }
            }
            if waits % 6 == 0 {
                // A minute without a report: every task, for the log.
                crate::commands::print_ps();
            }
            continue;
        }
        let i = if m.from == a.mine.cid() { 0 } else if m.from == b.mine.cid() { 1 } else { continue };
        let f = if i == 0 { &a } else { &b };
        if let Some(cid) = m.channel_payload() {
            let _ = Channel::from_raw(cid).close(); // nothing we asked for
        }
        match (m.label, parse_fuzz_done(&m)) {
            (FUZZ_DONE, Some(d)) => {
                println!("fuzz: {} (task {}): {} calls, {} refused, {} tasks created", f.name, f.tid, d.calls, d.errors, d.tasks);
                ok[i] = true;
            }
            _ if m.is_notification() => {}
            _ => {}
        }
        if !ok[i] && task_gone(f.tid) {
            println!("fuzz: {} (task {}) died before reporting", f.name, f.tid);
            return Ok(false);
        }
    }
    let _ = ks::timer(rx, 0);
    let _ = a.mine.close();
    let _ = b.mine.close();
    Ok(true)
}

/// The task's entry in the kernel's task list, if its tid is there.
fn find_task(tid: u32) -> Option<KsTaskInfo> {
    (0..).map(ks::task_info).take_while(|r| r.is_ok()).flatten().find(|t| t.tid == tid)
}

/// The task's state as `ps` names it.
fn state_of(tid: u32) -> &'static str {
    find_task(tid).map_or("gone", |t| runtime::fmt::state_name(t.state))
}

/// The task has ended (killed or exited) or its slot holds another.
fn task_gone(tid: u32) -> bool {
    find_task(tid).is_none_or(|t| t.state == TASK_STATE_KILLED || t.state == TASK_STATE_EXITED)
}
