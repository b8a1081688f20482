//! stats.rs - the statistics `bench` reports: minimum and median of a set
//! of cycle counts, the subtraction of the measurement overhead, counter
//! wrap-around, and the batch plan of arm-m (docs/mcu-port.md, "Benchmark
//! on arm-m"). Pure logic, host-tested.

/// Minimum and median of `samples` (sorted in place). The median of an
/// even count is the lower of the two middle values (an integer that was
/// actually measured). None for no samples.
pub fn min_median(samples: &mut [u64]) -> Option<(u64, u64)> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    Some((samples[0], samples[(samples.len() - 1) / 2]))
}

/// Subtract the timer overhead from every sample, never going below 0.
pub fn subtract_overhead(samples: &mut [u64], overhead: u64) {
    for s in samples.iter_mut() {
        *s = s.saturating_sub(overhead);
    }
}

/// The minimum of `n` measurements of `f` (the overhead estimate).
pub fn min_of(n: usize, mut f: impl FnMut() -> u64) -> u64 {
    (0..n).map(|_| f()).min().unwrap_or(0)
}

/// `t1 - t0` of a counter that wraps at `mask` (2^n - 1).
pub const fn wrap_delta(t0: u64, t1: u64, mask: u64) -> u64 {
    t1.wrapping_sub(t0) & mask
}

/// How `bench` samples: `batch` operations per sample (1 = every
/// operation timed alone), `samples` measured after `warmup` unmeasured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchPlan {
    pub batch: u32,
    pub warmup: usize,
    pub samples: usize,
}

/// x86_64 (rdtsc counts instructions under icount): 1,000 warm-up and
/// 10,000 measured single operations, unchanged from the first bench.
pub const PLAN_SINGLE: BenchPlan = BenchPlan { batch: 1, warmup: 1_000, samples: 10_000 };

/// arm-m: one clock count is 1e9/CPU_HZ instructions, so each sample is a
/// batch of 100 operations; fewer samples (the shell's heap is small and
/// the twin is slow).
pub const PLAN_BATCHED: BenchPlan = BenchPlan { batch: 100, warmup: 5, samples: 200 };

/// One batch sample: the clock delta of the whole batch minus the cost of
/// one clock read (subtracted once per batch), never below 0.
pub const fn batch_sample(t0: u64, t1: u64, mask: u64, overhead: u64) -> u64 {
    wrap_delta(t0, t1, mask).saturating_sub(overhead)
}

/// What tools/bench.py computes from a batched figure: instructions per
/// operation = cycles * 1e9 / hz / batch, rounded (for tests and docs).
pub fn instructions_per_op(cycles: u64, hz: u32, batch: u32) -> u64 {
    if hz == 0 || batch == 0 {
        return 0;
    }
    let num = cycles as u128 * 1_000_000_000;
    let den = hz as u128 * batch as u128;
    ((num + den / 2) / den) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_counter() {
        const M32: u64 = 0xffff_ffff;
        assert_eq!(wrap_delta(10, 25, M32), 15);
        assert_eq!(wrap_delta(0xffff_fff0, 0x10, M32), 0x20);
        assert_eq!(wrap_delta(u64::MAX - 1, 3, u64::MAX), 5);
    }

    #[test]
    fn batches() {
        const M32: u64 = 0xffff_ffff;
        assert_eq!(batch_sample(100, 350, M32, 2), 248);
        assert_eq!(batch_sample(0xffff_ff00, 0x100, M32, 0), 0x200);
        assert_eq!(batch_sample(5, 5, M32, 3), 0);
        assert_eq!(PLAN_BATCHED.batch, 100);
        assert_eq!(PLAN_SINGLE.batch, 1);
        // b-l475e-iot01a: 4 MHz, 250 instructions per count.
        assert_eq!(instructions_per_op(1000, 4_000_000, 100), 2500);
        // mps2-an386: 25 MHz, 40 instructions per count; 0.4 per op per count.
        assert_eq!(instructions_per_op(3, 25_000_000, 100), 1);
        assert_eq!(instructions_per_op(1, 0, 100), 0);
    }

    #[test]
    fn odd_and_even() {
        assert_eq!(min_median(&mut [5, 1, 3]), Some((1, 3)));
        assert_eq!(min_median(&mut [4, 1, 3, 2]), Some((1, 2)));
        assert_eq!(min_median(&mut [9]), Some((9, 9)));
        assert_eq!(min_median(&mut []), None);
    }

    #[test]
    fn overhead() {
        let mut s = [10, 3, 25];
        subtract_overhead(&mut s, 5);
        assert_eq!(s, [5, 0, 20]);
        let mut vals = [7u64, 4, 9].into_iter();
        assert_eq!(min_of(3, || vals.next().unwrap()), 4);
        assert_eq!(min_of(0, || 1), 0);
    }

    #[test]
    fn large_set() {
        let mut v: std::vec::Vec<u64> = (0..10_000u64).rev().collect();
        assert_eq!(min_median(&mut v), Some((0, 4999)));
    }
}
