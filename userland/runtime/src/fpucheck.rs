//! fpucheck.rs - the FPU-preservation check of the shell's `fpu` command
//! and of its helper in ipc_peer: [`spin_with_fpu`] (arm-m), the one asm
//! block that fills s0-s31, spins on SYS_CLOCK and stores them back, and
//! its pure, host-tested bookkeeping (spin bounds from the clock and tick
//! rates, the comparison of the stored s0-s31).

/// Minimum and maximum spin, in scheduler ticks.
pub const MIN_TICKS: u32 = 3;
pub const MAX_TICKS: u32 = 100;

/// The spin's parameters and results, shared with the asm by address (it
/// takes the field offsets from `offset_of!`).
#[repr(C)]
pub struct Spin {
    /// Spin at least this long, and until preempted once ...
    pub min_cycles: u32,
    /// ... but never longer than this.
    pub max_cycles: u32,
    /// A gap between two clock readings longer than this is a preemption.
    pub gap_cycles: u32,
    pub preempted: u32,
    pub elapsed: u32,
    /// s0..s31 after the spin.
    pub regs: [u32; 32],
}

impl Spin {
    /// Parameters for a CPU clock of `hz` and a tick rate of `tick_hz`.
    pub fn new(hz: u32, tick_hz: u32) -> Spin {
        let tick = (hz / tick_hz.max(1)).max(4);
        Spin {
            min_cycles: tick.saturating_mul(MIN_TICKS),
            max_cycles: tick.saturating_mul(MAX_TICKS),
            gap_cycles: tick / 4,
            preempted: 0,
            elapsed: 0,
            regs: [0; 32],
        }
    }

    /// Spin exactly `cycles`, whether preempted or not (the helper's burst).
    pub fn burst(cycles: u32) -> Spin {
        Spin { min_cycles: cycles, max_cycles: cycles, gap_cycles: u32::MAX, preempted: 0, elapsed: 0, regs: [0; 32] }
    }

    /// The first register that does not hold `seed + i`, with its value.
    pub fn first_mismatch(&self, seed: u32) -> Option<(usize, u32)> {
        self.regs.iter().enumerate().find(|(i, v)| **v != seed.wrapping_add(*i as u32)).map(|(i, v)| (i, *v))
    }
}

/// Fill s0-s31 with `seed + i`, spin as `spin` says (reading SYS_CLOCK:
/// until min_cycles passed and a preemption was seen, or max_cycles
/// passed), then store s0-s31 into `spin.regs`. Fill, spin and store are
/// one asm block, so the compiler cannot touch an FP register in between:
/// whatever differs afterwards was changed by someone else (a context
/// switch that lost FPU state).
#[cfg(target_arch = "arm")]
pub fn spin_with_fpu(spin: &mut Spin, seed: u32) {
    use core::mem::offset_of;
    // SAFETY: the asm writes only the registers it declares (r0, r2-r5,
    // r8, r12, d0-d15 = s0-s31, flags) and the Spin it is given by a
    // unique reference, at offsets from offset_of!. `svc #0` with
    // r12 = SYS_CLOCK is the clock system call: the kernel changes only r0
    // (docs/mcu-port.md) and uses its own stack.
    unsafe {
        core::arch::asm!(
            ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            "vmov s\\i, r0",
            "adds r0, r0, #1",
            ".endr",
            "mov r12, #{clock}",
            "svc #0",
            "mov r2, r0",        // start
            "mov r3, r0",        // previous reading
            "movs r5, #0",       // preemptions
            "2:",
            "mov r12, #{clock}",
            "svc #0",
            "subs r4, r0, r3",   // gap since the previous reading
            "mov r3, r0",
            "ldr r8, [r1, #{gap}]",
            "cmp r4, r8",
            "it hi",
            "addhi r5, r5, #1",
            "subs r4, r0, r2",   // elapsed
            "ldr r8, [r1, #{max}]",
            "cmp r4, r8",
            "bhs 3f",
            "ldr r8, [r1, #{min}]",
            "cmp r4, r8",
            "blo 2b",
            "cmp r5, #0",
            "beq 2b",
            "3:",
            "str r5, [r1, #{preempted}]",
            "str r4, [r1, #{elapsed}]",
            "add r8, r1, #{regs}",
            "vstmia r8, {{s0-s31}}",
            clock = const crate::abi::SYS_CLOCK,
            min = const offset_of!(Spin, min_cycles),
            max = const offset_of!(Spin, max_cycles),
            gap = const offset_of!(Spin, gap_cycles),
            preempted = const offset_of!(Spin, preempted),
            elapsed = const offset_of!(Spin, elapsed),
            regs = const offset_of!(Spin, regs),
            inout("r0") seed => _,
            in("r1") spin as *mut Spin,
            out("r2") _, out("r3") _, out("r4") _, out("r5") _, out("r8") _, out("r12") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _, out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            out("d8") _, out("d9") _, out("d10") _, out("d11") _, out("d12") _, out("d13") _, out("d14") _, out("d15") _,
            options(nostack),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_from_clock() {
        // b-l475e-iot01a: 4 MHz, 100 Hz ticks = 40,000 cycles a tick.
        let s = Spin::new(4_000_000, 100);
        assert_eq!((s.min_cycles, s.max_cycles, s.gap_cycles), (120_000, 4_000_000, 10_000));
        // No clock rate: still a non-zero spin.
        let s = Spin::new(0, 0);
        assert!(s.min_cycles > 0 && s.gap_cycles > 0);
        // The asm's immediates: ldr/str offsets fit, regs stays in reach of add.
        assert!(core::mem::offset_of!(Spin, regs) < 256);
        let b = Spin::burst(500);
        assert_eq!((b.min_cycles, b.max_cycles, b.gap_cycles), (500, 500, u32::MAX));
    }

    #[test]
    fn mismatches() {
        let mut s = Spin::new(25_000_000, 100);
        for (i, r) in s.regs.iter_mut().enumerate() {
            *r = 0x5eed_0000 + i as u32;
        }
        assert_eq!(s.first_mismatch(0x5eed_0000), None);
        s.regs[17] = 0xdead_0011;
        assert_eq!(s.first_mismatch(0x5eed_0000), Some((17, 0xdead_0011)));
        assert_eq!(Spin::new(1, 1).first_mismatch(u32::MAX), Some((0, 0)));
    }
}
