//! fpu.rs - the `fpu` command (docs/mcu-port.md, "Floating point"): prove
//! that FPU registers survive preemption. The shell sends PEER_FPU to
//! ipc_peer (the helper; priority 2, above the shell's 3), which replies
//! and then, once per tick for a few ticks, wakes up (preempting the
//! shell), fills s0-s31 with FPU_PEER_SEED + i and spins half a tick. The
//! shell fills s0-s31 with FPU_SHELL_SEED + i and, in one asm block (so the
//! compiler cannot touch an FP register meanwhile), spins reading
//! SYS_CLOCK until at least 3 ticks passed and it was preempted at least
//! once (a gap between two clock reads longer than a quarter tick: the
//! helper ran), or 100 ticks passed; then stores s0-s31 and compares
//! (runtime::fpucheck::spin_with_fpu). Prints `fpu: ok (preempted N
//! times)` or `fpu: FAILED ...`. Not on x86_64 (`fpu: not available on
//! this architecture`).
#![cfg_attr(not(target_arch = "arm"), allow(dead_code, unused_imports))]

use crate::Services;
use runtime::println;

use runtime::fpucheck::MIN_TICKS;

/// Helper rounds (one per tick): more than MIN_TICKS, so the spin sees some.
const HELPER_ROUNDS: u64 = MIN_TICKS as u64 + 3;

#[cfg(target_arch = "arm")]
pub fn run(svc: &mut Services, _: &str) {
    use runtime::fpucheck::{spin_with_fpu, Spin};
    use runtime::proto::{FPU_SHELL_SEED, PEER_FPU};
    use runtime::{config, ks, sys, Msg};
    if !config::CONFIG_ARCH_HAS_FPU {
        return println!("fpu: not available on this architecture");
    }
    if let Err(e) = sys::clock_checked() {
        return println!("fpu: FAILED (SYS_CLOCK: {})", e);
    }
    let mut m = Msg::new(PEER_FPU);
    m.arg = HELPER_ROUNDS;
    if let Err(e) = svc.peer().and_then(|p| p.call(&mut m)).and_then(|_| m.result()) {
        return println!("fpu: FAILED (helper ipc_peer: {})", e);
    }
    let mut spin = Spin::new(config::CONFIG_CPU_HZ, config::CONFIG_TICK_HZ);
    let t0 = ks::uptime();
    spin_with_fpu(&mut spin, FPU_SHELL_SEED);
    let t1 = ks::uptime();
    match spin.first_mismatch(FPU_SHELL_SEED) {
        Some((i, v)) => println!(
            "fpu: FAILED s{}={:#010x}, expected {:#010x} (preempted {} times)",
            i,
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

#[cfg(not(target_arch = "arm"))]
pub fn run(_svc: &mut Services, _: &str) {
    println!("fpu: not available on this architecture");
}
