//! fpucheck.rs - the bookkeeping of the shell's `fpu` command (the asm
//! that fills and checks the registers is in shell/src/fpu.rs): spin
//! bounds from the clock and tick rates, and the comparison of the stored
//! s0-s31. Pure, host-tested.

/// Minimum and maximum spin, in scheduler ticks.
pub const MIN_TICKS: u32 = 3;
pub const MAX_TICKS: u32 = 100;

/// The spin's parameters and results, shared with the asm by address
/// (field offsets are fixed: the asm uses them).
#[repr(C)]
pub struct Spin {
    pub min_cycles: u32, // +0
    pub max_cycles: u32, // +4
    pub gap_cycles: u32, // +8
    pub preempted: u32,  // +12
    pub elapsed: u32,    // +16
    pub regs: [u32; 32], // +20: s0..s31 after the spin
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

    /// The first register that does not hold `seed + i`, with its value.
    pub fn first_mismatch(&self, seed: u32) -> Option<(usize, u32)> {
        self.regs.iter().enumerate().find(|(i, v)| **v != seed.wrapping_add(*i as u32)).map(|(i, v)| (i, *v))
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
        assert_eq!(core::mem::offset_of!(Spin, regs), 20);
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
