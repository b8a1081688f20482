//! fpu.rs - the `fpu` and `fpu leak` commands (docs/mcu-port.md and
//! docs/protocols.md, "Floating point"): FP registers are per task.
//!
//! `fpu` proves they survive preemption. The shell sends PEER_FPU to
//! ipc_peer (the helper; priority 2, above the shell's 3), which replies
//! and then, once per tick for a few ticks, wakes up (preempting the
//! shell), fills its FP registers with FPU_PEER_SEED + i and spins half a
//! tick. The shell fills its own with FPU_SHELL_SEED + i and, in one asm
//! block (so the compiler cannot touch an FP register meanwhile), spins
//! reading SYS_CLOCK until at least 3 ticks passed and it was preempted at
//! least once (a gap between two clock reads longer than a quarter tick:
//! the helper ran), or 100 ticks passed; then stores the registers and
//! compares. Prints `fpu: ok (preempted N times)` or `fpu: FAILED ...`.
//! The registers: s0-s31 on arm; on x86_64 xmm0-xmm15 (runtime::fpucheck).
//! Where the board gives no CPU clock rate (x86_64's TSC), the shell
//! measures it against the tick first and tells the helper how long a
//! half tick is.
//!
//! `fpu leak` proves a task without FP state sees none of another's: the
//! shell fills its FP registers (and FP status) with a pattern, then
//! starts faulter in its FPU spy mode at a higher priority, which reads
//! the FP registers before anything else and prints `fpu leak: clean` or
//! `fpu leak: LEAKED <register>=<value>`; the shell waits for it to end
//! and prints `fpu leak: spy task N exited`.
#![cfg_attr(not(any(target_arch = "arm", target_arch = "x86_64")), allow(dead_code, unused_imports))]
// (spin_with_fpu, the asm of the `fpu` check, is in runtime::fpucheck; the
// leak pattern's fill is here.)

use crate::Services;
use runtime::abi::{TASK_STATE_EXITED, TASK_STATE_KILLED};
use runtime::fpucheck::{self, spin_with_fpu, Spin, MIN_TICKS};
use runtime::proto::{FPU_SHELL_SEED, PEER_FPU};
use runtime::{config, ks, println, service, sys, Error, Msg, Result};

/// Helper rounds (one per tick): more than MIN_TICKS, so the spin sees some.
const HELPER_ROUNDS: u64 = MIN_TICKS as u64 + 3;
/// faulter's FPU spy mode (userland/tests/faulter) and its priority:
/// above the shell's, so it runs while the shell's pattern is fresh.
const FAULT_FPU_SPY: u64 = 6;
const PRIO_FPU_SPY: u32 = 2;
/// How long `fpu leak` waits for the spy to end.
const SPY_WAIT_MS: u32 = 5000;
/// The calibration of the clock against the tick (no CONFIG_CPU_HZ).
const CALIBRATION_MS: u64 = 50;

pub fn run(svc: &mut Services, rest: &str) {
    if !config::CONFIG_ARCH_HAS_FPU {
        return println!("fpu: not available on this architecture");
    }
    match rest.trim() {
        "" => preemption(svc),
        "leak" => leak(),
        _ => println!("fpu: usage: fpu [leak]"),
    }
}

fn preemption(svc: &mut Services) {
    let hz = match clock_hz() {
        Ok(hz) => hz,
        Err(e) => return println!("fpu: FAILED (SYS_CLOCK: {})", e),
    };
    let mut spin = Spin::new(hz, config::CONFIG_TICK_HZ);
    let mut m = Msg::new(PEER_FPU);
    m.arg = HELPER_ROUNDS;
    let sent = m.push_u32(if config::CONFIG_CPU_HZ == 0 { spin.gap_cycles * 2 } else { 0 });
    if let Err(e) = sent.and_then(|_| svc.peer()).and_then(|p| p.call(&mut m)).and_then(|_| m.result()) {
        return println!("fpu: FAILED (helper ipc_peer: {})", e);
    }
    let t0 = ks::uptime();
    spin_with_fpu(&mut spin, FPU_SHELL_SEED);
    let t1 = ks::uptime();
    match spin.first_mismatch(FPU_SHELL_SEED) {
        Some((i, v)) => println!(
            "fpu: FAILED {}={:#010x}, expected {:#010x} (preempted {} times)",
            reg_name(i),
            v,
            FPU_SHELL_SEED.wrapping_add(i as u32),
            spin.preempted
        ),
        None if spin.preempted == 0 => {
            println!("fpu: FAILED (not preempted in {} ms, {} cycles)", t1 - t0, spin.elapsed)
        }
        None => println!("fpu: ok (preempted {} times)", spin.preempted),
    }
}

/// The name of the i-th checked word (fpucheck's layout).
fn reg_name(i: usize) -> alloc::string::String {
    if cfg!(target_arch = "arm") {
        alloc::format!("s{}", i)
    } else {
        alloc::format!("xmm{}[{}]", i / 2, i % 2)
    }
}

/// SYS_CLOCK counts per second: the board's CPU_HZ, or measured over
/// CALIBRATION_MS of ticks (edge to edge).
fn clock_hz() -> Result<u32> {
    sys::clock_checked()?;
    if config::CONFIG_CPU_HZ != 0 {
        return Ok(config::CONFIG_CPU_HZ);
    }
    let t0 = ks::uptime();
    let mut start = t0;
    while start == t0 {
        start = ks::uptime();
    }
    let c0 = sys::clock();
    let mut now = start;
    while now < start + CALIBRATION_MS {
        now = ks::uptime();
    }
    let c1 = sys::clock();
    Ok(fpucheck::hz_from(sys::clock_delta(c0, c1), now - start))
}

fn leak() {
    fill_leak_pattern(FPU_SHELL_SEED);
    let tid = match service::spawn("faulter", FAULT_FPU_SPY, PRIO_FPU_SPY) {
        Ok(tid) => tid,
        Err(e) => return println!("fpu leak: FAILED (spawn faulter: {})", e),
    };
    match wait_for_end(tid) {
        Ok(true) => println!("fpu leak: spy task {} exited", tid),
        Ok(false) => println!("fpu leak: FAILED (spy task {} still runs after {} ms)", tid, SPY_WAIT_MS),
        Err(e) => println!("fpu leak: FAILED (spy task {}: {})", tid, e),
    }
}

/// Wait until task `tid` exited or was killed: true, or false if it still
/// runs after SPY_WAIT_MS.
fn wait_for_end(tid: u32) -> Result<bool> {
    for _ in 0..SPY_WAIT_MS / 10 {
        let mut found = false;
        for index in 0.. {
            match ks::task_info(index) {
                Ok(t) if t.tid == tid => {
                    if t.state == TASK_STATE_EXITED || t.state == TASK_STATE_KILLED {
                        return Ok(true);
                    }
                    found = true;
                    break;
                }
                Ok(_) => {}
                Err(Error::NoEnt) => break,
                Err(e) => return Err(e),
            }
        }
        if !found {
            return Ok(true); // gone already (its slot reused)
        }
        service::sleep_ms(10)?;
    }
    Ok(false)
}

/// Fill s0-s31 with seed + i and FPSCR with fpucheck::LEAK_FPSCR; the
/// values stay in the registers after the asm (that is the point).
#[cfg(target_arch = "arm")]
fn fill_leak_pattern(seed: u32) {
    // SAFETY: writes only the registers it declares (r0, d0-d15 = s0-s31,
    // FPSCR, flags); no memory. FPSCR's rounding mode and flush/NaN bits
    // stay at their defaults, only condition and sticky flags are set.
    unsafe {
        core::arch::asm!(
            runtime::fp_fill_asm!(),
            "vmsr fpscr, r1",
            inout("r0") seed => _,
            in("r1") fpucheck::LEAK_FPSCR,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _, out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            out("d8") _, out("d9") _, out("d10") _, out("d11") _, out("d12") _, out("d13") _, out("d14") _, out("d15") _,
            options(nomem, nostack),
        );
    }
}

/// Fill the 32-bit lanes of xmm0-xmm15 with seed + i, MXCSR with
/// fpucheck::LEAK_MXCSR (sticky flags set) and leave 1.0 in an x87
/// register (pushed and popped: the stack is empty again, the data stays).
#[cfg(target_arch = "x86_64")]
fn fill_leak_pattern(seed: u32) {
    let mxcsr = fpucheck::LEAK_MXCSR;
    // SAFETY: writes only rax, rcx, rdx (declared), MXCSR, st0 and
    // xmm0-xmm15, which the compiler never uses (user programs are built
    // soft-float for x86_64-unknown-none, so they cannot be named as
    // clobbers either); reads `mxcsr`, a local. The x87 stack is left
    // empty, as the ABI wants.
    unsafe {
        core::arch::asm!(
            runtime::fp_fill_asm!(),
            "ldmxcsr [{m}]",
            "fld1",
            "fstp st(0)",
            m = in(reg) &mxcsr,
            inout("eax") seed => _,
            out("rcx") _, out("rdx") _,
            options(nostack),
        );
    }
}

#[cfg(not(any(target_arch = "arm", target_arch = "x86_64")))]
fn fill_leak_pattern(_seed: u32) {}
