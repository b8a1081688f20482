//! stats.rs - the statistics `bench` reports: minimum and median of a set
//! of cycle counts, and the subtraction of the measurement overhead.
//! Pure logic, host-tested.

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

#[cfg(test)]
mod tests {
    use super::*;

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
