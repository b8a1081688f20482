//! commands.rs - the shell's commands (all but ipctest and bench) and the
//! dispatcher. Output formats are fixed by docs/protocols.md.

use crate::Services;
use alloc::vec::Vec;
use runtime::abi::*;
use runtime::args::{parse_u32, parse_u64, split_command, words};
use runtime::fmt::{kib, ps_row, PS_HEADER};
use runtime::print::BufWriter;
use runtime::proto::*;
use runtime::{config, ks, println, service, Error, Msg, Result};

struct Command {
    name: &'static str,
    help: &'static str,
    run: fn(&mut Services, &str),
}

const COMMANDS: &[Command] = &[
    Command { name: "help", help: "list the commands", run: help },
    Command { name: "echo", help: "print the arguments", run: echo },
    Command { name: "ps", help: "list the tasks", run: ps },
    Command { name: "uptime", help: "milliseconds since boot", run: uptime },
    Command { name: "mem", help: "memory use", run: mem },
    Command { name: "ipctest", help: "exercise the kernel's IPC and its error paths", run: crate::ipctest::run },
    Command { name: "heap", help: "heap <KiB>: allocate and touch heap memory", run: heap },
    Command { name: "sleep", help: "sleep <ms>: wait on a timer", run: sleep },
    Command { name: "crash", help: "crash kernel|unmapped|null|stack: start a task that faults", run: crash },
    Command { name: "spin", help: "spin [prio]: start a busy-looping task (default prio 6)", run: spin },
    Command { name: "kill", help: "kill <tid> [ms]: kill a task (after ms: from a helper task)", run: kill },
    Command { name: "count", help: "count <n> [ms]: print n numbered lines, ms apart (default 10)", run: count },
    Command { name: "start", help: "start <program> [prio]: start a program through init (INIT_SPAWN)", run: start },
    Command { name: "bench", help: "measure IPC round trip and null syscall cycles", run: crate::bench::run },
    Command { name: "gpio", help: "gpio [wait <ms>]: read PC13, or wait for an edge", run: crate::gpio::gpio },
    Command { name: "led", help: "led on|off|toggle: drive the LED (PA5)", run: crate::gpio::led },
    Command { name: "pci", help: "pci [claim <class> <subclass>]: the PCI devices, or claim one by class", run: crate::pci::run },
    Command { name: "nic", help: "nic [test]: the network card's MAC, link and counters", run: crate::nic::run },
    Command { name: "ifconfig", help: "the network interface: address, gateway, MAC, link, counters", run: crate::netcmd::ifconfig },
    Command { name: "ping", help: "ping a.b.c.d [-c N]: ICMP echo through net", run: crate::netcmd::ping },
    Command { name: "http", help: "http get|body URL: fetch a page over TCP (status and length, or the body)", run: crate::netcmd::http },
    Command { name: "nettest", help: "nettest [a.b.c.d:port]: the socket protocol's refusals, and a UDP echo there", run: crate::netcmd::nettest },
    Command { name: "netstat", help: "the TCP/IP server's sockets and their states", run: crate::netcmd::netstat },
    Command { name: "fpu", help: "check that FPU registers survive preemption", run: crate::fpu::run },
    Command { name: "fuzz", help: "fuzz CALLS [SEED [TRACE_FROM]]: random syscalls from two linked tasks", run: crate::fuzz::run },
    Command { name: "panic", help: "make the kernel panic (debug builds)", run: panic },
];

fn enabled(c: &Command) -> bool {
    match c.name {
        "panic" => config::CONFIG_DEBUG_COMMANDS,
        "fuzz" => config::CONFIG_FUZZ,
        _ => true,
    }
}

/// Run one command line.
pub fn run(svc: &mut Services, line: &str) {
    let Some((name, rest)) = split_command(line) else {
        return;
    };
    match COMMANDS.iter().find(|c| c.name == name && enabled(c)) {
        Some(c) => (c.run)(svc, rest),
        None => println!("unknown command: {} (try help)", name),
    }
}

fn help(_: &mut Services, _: &str) {
    for c in COMMANDS.iter().filter(|c| enabled(c)) {
        println!("  {} - {}", c.name, c.help);
    }
}

fn echo(_: &mut Services, rest: &str) {
    let mut w = BufWriter::new(runtime::print::write_bytes);
    for (i, word) in words(rest).enumerate() {
        let _ = core::fmt::Write::write_str(&mut w, if i == 0 { "" } else { " " });
        let _ = core::fmt::Write::write_str(&mut w, word);
    }
    let _ = core::fmt::Write::write_str(&mut w, "\n");
}

fn ps(_: &mut Services, _: &str) {
    print_ps();
}

/// The task table as `ps` prints it.
pub fn print_ps() {
    // Restart counts from init (none if it cannot answer).
    let mut sup = [StatusEntry { tid: 0, restarts: 0 }; STATUS_ENTRIES_MAX];
    let n = service::status(&mut sup).unwrap_or(0);
    let sup = &sup[..n];
    println!("{}", PS_HEADER);
    for index in 0.. {
        match ks::task_info(index) {
            Ok(t) => {
                let dead = t.state == TASK_STATE_KILLED || t.state == TASK_STATE_EXITED;
                let restarts = sup.iter().find(|e| e.tid == t.tid && !dead).map(|e| e.restarts);
                let mut w = BufWriter::new(runtime::print::write_bytes);
                let _ = ps_row(&mut w, &t, restarts);
                let _ = core::fmt::Write::write_str(&mut w, "\n");
            }
            Err(Error::NoEnt) => break,
            Err(e) => {
                println!("ps: {}", e);
                break;
            }
        }
    }
}

fn uptime(_: &mut Services, _: &str) {
    println!("uptime: {} ms", ks::uptime());
}

/// The pager's counters: pages served, faults refused.
fn mem_stats(svc: &mut Services) -> Result<(u64, u64)> {
    let mut m = Msg::new(MEM_STATS);
    svc.memory()?.call(&mut m)?;
    m.result()?;
    parse_mem_stats(&m).ok_or(Error::Inval)
}

fn mem(svc: &mut Services, _: &str) {
    let info = match ks::mem_info() {
        Ok(i) => i,
        Err(e) => return println!("mem: {}", e),
    };
    let served = match mem_stats(svc) {
        Ok((served, _)) => served,
        // No pager without an MMU: nothing is ever served.
        Err(_) if !config::CONFIG_ARCH_HAS_MMU => 0,
        Err(e) => return println!("mem: memory server: {}", e),
    };
    let ps = info.page_size;
    println!(
        "mem: total {} KiB, free {} KiB, kernel {} KiB, heap pages served {}",
        kib(info.total_pages, ps),
        kib(info.free_pages, ps),
        kib(info.kernel_pages, ps),
        served
    );
}

fn heap(svc: &mut Services, rest: &str) {
    let Some(kib_req) = parse_u64(rest).filter(|k| *k > 0) else {
        return println!("heap: usage: heap <KiB>");
    };
    let before = mem_stats(svc).map(|s| s.0).unwrap_or(0);
    let bytes = (kib_req as usize).saturating_mul(1024);
    let mut v: Vec<u8> = Vec::new();
    if v.try_reserve_exact(bytes).is_err() {
        return println!("heap: cannot allocate {} KiB", kib_req);
    }
    let p = v.as_mut_ptr();
    let mut off = 0;
    while off < bytes {
        // SAFETY: off < bytes <= v.capacity(), so p + off is inside the
        // allocation; writing a byte of spare capacity is allowed.
        unsafe { core::ptr::write_volatile(p.add(off), 0xa5) };
        off += 4096;
    }
    // SAFETY: as above, for the last byte.
    unsafe { core::ptr::write_volatile(p.add(bytes - 1), 0x5a) };
    drop(v);
    let after = mem_stats(svc).map(|s| s.0).unwrap_or(0);
    println!("heap: touched {} KiB, pager served {} new pages", kib_req, after.saturating_sub(before));
}

fn sleep(_: &mut Services, rest: &str) {
    let Some(ms) = parse_u32(rest) else {
        return println!("sleep: usage: sleep <ms>");
    };
    let a = ks::uptime();
    if let Err(e) = service::sleep_ms(ms) {
        return println!("sleep: {}", e);
    }
    let b = ks::uptime();
    println!("slept {} ms (uptime {} -> {})", ms, a, b);
}

/// faulter modes (see userland/tests/faulter/src/main.rs).
const FAULT_KERNEL: u64 = 1;
const FAULT_UNMAPPED: u64 = 2;
const FAULT_NULL: u64 = 3;
const FAULT_SPIN: u64 = 4;
const FAULT_STACK: u64 = 5;
const FAULT_KILL: u64 = 7;
/// Above the shell's 3, so a deferred kill happens while the shell runs.
const PRIO_KILLER: u32 = 2;
const PRIO_CRASH: u32 = 4;
const PRIO_SPIN_DEFAULT: u32 = 6;

fn crash(_: &mut Services, rest: &str) {
    let mode = match rest.trim() {
        "kernel" => FAULT_KERNEL,
        "unmapped" => FAULT_UNMAPPED,
        "null" => FAULT_NULL,
        "stack" => FAULT_STACK,
        _ => return println!("crash: usage: crash kernel|unmapped|null|stack"),
    };
    match service::spawn("faulter", mode, PRIO_CRASH) {
        Ok(tid) => println!("crash: spawned task {}", tid),
        Err(e) => println!("crash: {}", e),
    }
}

fn spin(_: &mut Services, rest: &str) {
    let prio = if rest.trim().is_empty() { Some(PRIO_SPIN_DEFAULT) } else { parse_u32(rest) };
    let Some(prio) = prio.filter(|p| *p < NUM_PRIORITIES) else {
        return println!("spin: usage: spin [prio 0..7]");
    };
    match service::spawn("faulter", FAULT_SPIN, prio) {
        Ok(tid) => println!("spin: spawned task {}", tid),
        Err(e) => println!("spin: {}", e),
    }
}

fn start(_: &mut Services, rest: &str) {
    let mut w = words(rest);
    let (Some(name), prio) = (w.next(), w.next()) else {
        return println!("start: usage: start <program> [prio]");
    };
    let Some(prio) = prio.map_or(Some(PRIO_CRASH), parse_u32).filter(|p| *p < NUM_PRIORITIES) else {
        return println!("start: usage: start <program> [prio 0..7]");
    };
    match service::spawn(name, 0, prio) {
        Ok(tid) => println!("start: spawned task {}", tid),
        Err(e) => println!("start: {}", e),
    }
}

fn kill(_: &mut Services, rest: &str) {
    let mut w = words(rest);
    let (Some(tid), delay, None) = (w.next().and_then(parse_u32), w.next(), w.next()) else {
        return println!("kill: usage: kill <tid> [ms]");
    };
    let Some(ms) = delay.map(parse_u32) else {
        return match ks::kill(tid) {
            Ok(()) => println!("kill: ok"),
            Err(e) => println!("kill: {}", e),
        };
    };
    let Some(ms) = ms else {
        return println!("kill: usage: kill <tid> [ms]");
    };
    match kill_later(tid, ms) {
        Ok(()) => println!("kill: task {} in {} ms", tid, ms),
        Err(e) => println!("kill: {}", e),
    }
}

/// The shell goes on (e.g. printing) while a helper (faulter mode 7,
/// CAP_TASK, above the shell's priority) waits `ms` and kills `tid`. The
/// order goes through the helper's bootstrap channel: it waits there as
/// soon as it is started.
fn kill_later(tid: u32, ms: u32) -> Result<()> {
    let (mine, theirs) = runtime::Channel::pair()?;
    let helper = ks::create_task("faulter", CAP_TASK, PRIO_KILLER, FAULT_KILL, Some(theirs)).inspect_err(|_| {
        let _ = theirs.close();
    });
    let r = helper.and_then(|h| {
        ks::start_task(h).inspect_err(|_| {
            let _ = ks::kill(h);
        })?;
        let mut m = Msg::new(0);
        m.push_u32(tid)?;
        m.push_u32(ms)?;
        mine.send(&m)
    });
    let _ = mine.close();
    r
}

fn count(_: &mut Services, rest: &str) {
    let mut w = words(rest);
    let n = w.next().and_then(parse_u32);
    let ms = w.next().map_or(Some(10), parse_u32);
    let (Some(n), Some(ms)) = (n, ms) else {
        return println!("count: usage: count <n> [ms]");
    };
    for i in 1..=n {
        println!("count: {}", i);
        let _ = service::sleep_ms(ms);
    }
}

fn panic(_: &mut Services, _: &str) {
    if let Err(e) = ks::panic() {
        println!("panic: {}", e);
    }
}
