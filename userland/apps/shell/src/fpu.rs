//! fpu.rs - the `fpu` command (docs/mcu-port.md, "Floating point"): prove
//! that FPU registers survive preemption. The shell sends PEER_FPU to
//! ipc_peer (the helper; priority 2, above the shell's 3), which replies
//! and then, once per tick for a few ticks, wakes up (preempting the
//! shell), fills s0-s31 with FPU_PEER_SEED + i and spins half a tick. The
//! shell fills s0-s31 with FPU_SHELL_SEED + i and, in one asm block (so the
//! compiler cannot touch an FP register meanwhile), spins reading
//! SYS_CLOCK until at least 3 ticks passed and it was preempted at least
//! once (a gap between two clock reads longer than a quarter tick: the
//! helper ran), or 100 ticks passed; then stores s0-s31 and compares. Prints `fpu: ok (preempted N
//! times)` or `fpu: FAILED ...`. Not on x86_64 (`fpu: not available on
//! this architecture`).
#![cfg_attr(not(target_arch = "arm"), allow(dead_code, unused_imports))]

use crate::Services;
use runtime::println;

use runtime::fpucheck::{Spin, MIN_TICKS};

/// Helper rounds (one per tick): more than MIN_TICKS, so the spin sees some.
const HELPER_ROUNDS: u64 = MIN_TICKS as u64 + 3;

#[cfg(target_arch = "arm")]
pub fn run(svc: &mut Services, _: &str) {
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

/// Fill s0-s31 with seed + i, spin as `Spin` says, store s0-s31.
#[cfg(target_arch = "arm")]
fn spin_with_fpu(spin: &mut Spin, seed: u32) {
    // SAFETY: the asm writes only the registers it declares (r0, r2-r5,
    // r8, r12, d0-d15 = s0-s31, flags) and the Spin it is given by a
    // unique reference (offsets as documented on Spin). `svc #0` with
    // r12 = SYS_CLOCK (8) is the clock system call: the kernel changes
    // only r0 (docs/mcu-port.md).
    unsafe {
        core::arch::asm!(
            ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            "vmov s\\i, r0",
            "adds r0, r0, #1",
            ".endr",
            "mov r12, #8",
            "svc #0",
            "mov r2, r0",        // start
            "mov r3, r0",        // previous reading
            "movs r5, #0",       // preemptions
            "2:",
            "mov r12, #8",
            "svc #0",
            "subs r4, r0, r3",   // gap since the previous reading
            "mov r3, r0",
            "ldr r8, [r1, #8]",
            "cmp r4, r8",
            "it hi",
            "addhi r5, r5, #1",
            "subs r4, r0, r2",   // elapsed
            "ldr r8, [r1, #4]",
            "cmp r4, r8",
            "bhs 3f",
            "ldr r8, [r1, #0]",
            "cmp r4, r8",
            "blo 2b",
            "cmp r5, #0",
            "beq 2b",
            "3:",
            "str r5, [r1, #12]",
            "str r4, [r1, #16]",
            "add r8, r1, #20",
            "vstmia r8, {{s0-s31}}",
            inout("r0") seed => _,
            in("r1") spin as *mut Spin,
            out("r2") _, out("r3") _, out("r4") _, out("r5") _, out("r8") _, out("r12") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _, out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            out("d8") _, out("d9") _, out("d10") _, out("d11") _, out("d12") _, out("d13") _, out("d14") _, out("d15") _,
            options(nostack),
        );
    }
}

#[cfg(not(target_arch = "arm"))]
pub fn run(_svc: &mut Services, _: &str) {
    println!("fpu: not available on this architecture");
}
