//! supervise.rs - what init decides when a supervised program dies, as pure
//! functions (host-tested): restart it after a backoff that doubles with
//! each recent death, give up once it died `max_deaths` times within
//! `window_ms`, or, for a critical program, stop the system.
//!
//! ```text
//!   death at `now` ──> Deaths::record ──> deaths within the window (n)
//!                                         │
//!      Critical ──────────────────────────┼──> Halt
//!      Restart, n >= max_deaths ──────────┼──> GiveUp { deaths: n }
//!      Restart, otherwise ────────────────┴──> Restart { after_ms:
//!                                               min(backoff << (n-1), max) }
//! ```

/// A program's policy (init's table, userland/servers/init/src/policy.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Restart after `backoff_ms`, doubled for each further death within
    /// the window (at most `max_backoff_ms`); give up at the
    /// `max_deaths`-th death within `window_ms`.
    Restart { backoff_ms: u32, max_backoff_ms: u32, max_deaths: u32, window_ms: u32 },
    /// Its death stops the system (KS_HALT) with the reason.
    Critical,
}

/// What to do about one death.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Restart { after_ms: u32 },
    GiveUp { deaths: u32 },
    Halt,
}

/// Deaths remembered per program: enough for any sensible `max_deaths`
/// (a larger limit counts at most this many).
pub const DEATHS_KEPT: usize = 8;

/// The times (ms since boot) of a program's latest deaths, a small ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deaths {
    at: [u64; DEATHS_KEPT],
    len: usize,
    next: usize,
}

impl Deaths {
    pub const fn new() -> Deaths {
        Deaths { at: [0; DEATHS_KEPT], len: 0, next: 0 }
    }

    /// Remember a death at `now`.
    pub fn record(&mut self, now: u64) {
        self.at[self.next] = now;
        self.next = (self.next + 1) % DEATHS_KEPT;
        self.len = (self.len + 1).min(DEATHS_KEPT);
    }

    /// Deaths in the last `window_ms` up to `now` (a death exactly
    /// `window_ms` ago no longer counts).
    pub fn within(&self, now: u64, window_ms: u32) -> u32 {
        self.at[..self.len].iter().filter(|&&t| now.saturating_sub(t) < u64::from(window_ms)).count() as u32
    }
}

/// Record a death at `now` and decide what follows.
pub fn on_death(policy: Policy, deaths: &mut Deaths, now: u64) -> Decision {
    deaths.record(now);
    match policy {
        Policy::Critical => Decision::Halt,
        Policy::Restart { backoff_ms, max_backoff_ms, max_deaths, window_ms } => {
            let n = deaths.within(now, window_ms);
            if n >= max_deaths.max(1) {
                Decision::GiveUp { deaths: n }
            } else {
                Decision::Restart { after_ms: backoff(backoff_ms, max_backoff_ms, n) }
            }
        }
    }
}

/// `base` doubled for each death after the first (n >= 1), at most `max`.
pub fn backoff(base: u32, max: u32, n: u32) -> u32 {
    let shift = n.saturating_sub(1).min(31);
    base.checked_shl(shift).filter(|v| v >> shift == base).unwrap_or(u32::MAX).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy::Restart { backoff_ms: 100, max_backoff_ms: 1000, max_deaths: 4, window_ms: 10_000 };

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let got: std::vec::Vec<u32> = (1..=6).map(|n| backoff(100, 1000, n)).collect();
        assert_eq!(got, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(100, 1000, 0), 100);
        assert_eq!(backoff(u32::MAX / 2, u32::MAX, 40), u32::MAX, "no overflow");
        assert_eq!(backoff(3, 50, 32), 50);
    }

    #[test]
    fn restarts_with_backoff_then_gives_up_at_n_in_the_window() {
        let mut d = Deaths::new();
        assert_eq!(on_death(P, &mut d, 1000), Decision::Restart { after_ms: 100 });
        assert_eq!(on_death(P, &mut d, 1500), Decision::Restart { after_ms: 200 });
        assert_eq!(on_death(P, &mut d, 2000), Decision::Restart { after_ms: 400 });
        assert_eq!(on_death(P, &mut d, 3000), Decision::GiveUp { deaths: 4 });
    }

    #[test]
    fn deaths_outside_the_window_are_forgotten() {
        let mut d = Deaths::new();
        for t in [0, 1000, 2000] {
            on_death(P, &mut d, t);
        }
        // 10 s after the first: it no longer counts, so 3 in the window.
        assert_eq!(on_death(P, &mut d, 10_000), Decision::Restart { after_ms: 400 });
        // Long quiet: back to the first backoff.
        assert_eq!(on_death(P, &mut d, 60_000), Decision::Restart { after_ms: 100 });
        assert_eq!(d.within(60_000, 10_000), 1);
    }

    #[test]
    fn critical_halts_on_the_first_death() {
        let mut d = Deaths::new();
        assert_eq!(on_death(Policy::Critical, &mut d, 5), Decision::Halt);
    }

    #[test]
    fn the_ring_keeps_the_latest_deaths() {
        let mut d = Deaths::new();
        for t in 0..20u64 {
            d.record(t * 100);
        }
        assert_eq!(d.within(1900, 10_000), DEATHS_KEPT as u32);
        assert_eq!(d.within(1900, 350), 4, "1600, 1700, 1800, 1900");
        let big = Policy::Restart { backoff_ms: 1, max_backoff_ms: 1, max_deaths: 100, window_ms: 10_000 };
        assert_eq!(on_death(big, &mut d, 2000), Decision::Restart { after_ms: 1 }, "counts at most DEATHS_KEPT");
        let zero = Policy::Restart { backoff_ms: 1, max_backoff_ms: 1, max_deaths: 0, window_ms: 10 };
        assert_eq!(on_death(zero, &mut Deaths::new(), 0), Decision::GiveUp { deaths: 1 }, "0 means give up at once");
    }
}
