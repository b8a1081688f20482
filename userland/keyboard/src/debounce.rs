//! Per-key debounce, the three algorithms by the names QMK gives them.
//!
//! A scanner calls `Debouncer::scan` with every key's raw level and the
//! time; each key has its own timer ("pk" = per key), so a bouncing key
//! never delays another. With debounce time T:
//!
//! ```text
//!  raw        ‾‾‾|_|‾|_______________|‾|_|‾‾‾‾‾‾‾‾‾‾‾‾      (‾ = up, _ = down)
//!  sym_defer  ‾‾‾‾‾‾‾‾‾‾‾‾‾|__________________|‾‾‾‾‾   event once raw held T
//!  sym_eager  ‾‾‾|_______________|‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾‾   event at once, then T deaf
//!  asym       ‾‾‾|_______________________________|‾‾‾‾   eager press, deferred release
//! ```
use crate::{elapsed, KeyEvent};

/// Which algorithm a `Debouncer` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// Deferred press and release: a change is reported once the raw level
    /// has held for the debounce time.
    SymDeferPk,
    /// Eager press and release: a change is reported at once, then the key
    /// ignores its raw level for the debounce time.
    SymEagerPk,
    /// Eager press, deferred release.
    AsymEagerDeferPk,
}

/// One key's debounce state.
#[derive(Clone, Copy, Debug, Default)]
struct KeyState {
    /// The debounced level last reported.
    pressed: bool,
    /// Deferred: when the raw level began to differ from `pressed`.
    differs_since: Option<u32>,
    /// Eager: when the last eager change was reported (deaf for T after).
    eager_at: Option<u32>,
}

/// Debounces `N` keys with one algorithm and one debounce time.
pub struct Debouncer<const N: usize> {
    algorithm: Algorithm,
    time_ms: u32,
    keys: [KeyState; N],
}

impl<const N: usize> Debouncer<N> {
    /// All keys start released.
    pub fn new(algorithm: Algorithm, time_ms: u32) -> Self {
        Debouncer { algorithm, time_ms, keys: [KeyState::default(); N] }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The debounced level of key `index` (false if out of range).
    pub fn is_pressed(&self, index: usize) -> bool {
        self.keys.get(index).map_or(false, |k| k.pressed)
    }

    /// Whether any key has a timer running (a scanner keeps scanning while
    /// this is true, even with every key up).
    pub fn busy(&self) -> bool {
        self.keys.iter().any(|k| k.differs_since.is_some() || k.eager_at.is_some())
    }

    /// Feeds every key's raw level (`raw[i]`, true = pressed) seen at `now`
    /// ms; calls `emit` for each debounced change, in key order.
    pub fn scan(&mut self, now: u32, raw: &[bool; N], mut emit: impl FnMut(KeyEvent)) {
        for (i, &level) in raw.iter().enumerate() {
            if let Some(pressed) = self.update(i, now, level) {
                emit(KeyEvent { index: i as u16, pressed, time: now });
            }
        }
    }

    /// One key's raw level at `now`; returns the new debounced level when
    /// it changes.
    pub fn update(&mut self, index: usize, now: u32, raw: bool) -> Option<bool> {
        let t = self.time_ms;
        let key = self.keys.get_mut(index)?;
        if let Some(at) = key.eager_at {
            if elapsed(now, at) < t {
                return None; // deaf after an eager change
            }
            key.eager_at = None;
        }
        if raw == key.pressed {
            key.differs_since = None;
            return None;
        }
        let eager = match self.algorithm {
            Algorithm::SymDeferPk => false,
            Algorithm::SymEagerPk => true,
            Algorithm::AsymEagerDeferPk => raw,
        };
        if eager {
            key.eager_at = Some(now);
        } else {
            let since = *key.differs_since.get_or_insert(now);
            if elapsed(now, since) < t {
                return None;
            }
        }
        key.differs_since = None;
        key.pressed = raw;
        Some(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Algorithm; 3] =
        [Algorithm::SymDeferPk, Algorithm::SymEagerPk, Algorithm::AsymEagerDeferPk];

    /// Runs one key through `(time, raw)` samples, scanning every ms from
    /// the first sample to `until`; returns the events.
    fn run(algo: Algorithm, t: u32, samples: &[(u32, bool)], until: u32) -> Vec<KeyEvent> {
        let mut d = Debouncer::<1>::new(algo, t);
        let mut out = Vec::new();
        let mut level = false;
        for now in samples[0].0..=until {
            for &(at, raw) in samples {
                if at == now {
                    level = raw;
                }
            }
            d.scan(now, &[level], |e| out.push(e));
        }
        out
    }

    fn ev(pressed: bool, time: u32) -> KeyEvent {
        KeyEvent { index: 0, pressed, time }
    }

    #[test]
    fn clean_press_and_release_one_event_each_at_the_right_time() {
        let s = [(100, true), (200, false)];
        assert_eq!(run(Algorithm::SymDeferPk, 5, &s, 300), [ev(true, 105), ev(false, 205)]);
        assert_eq!(run(Algorithm::SymEagerPk, 5, &s, 300), [ev(true, 100), ev(false, 200)]);
        assert_eq!(run(Algorithm::AsymEagerDeferPk, 5, &s, 300),
                   [ev(true, 100), ev(false, 205)]);
    }

    #[test]
    fn chatter_shorter_than_debounce_time() {
        // Up-down-up-down within 4 ms, then up for good.
        let s = [(10, true), (11, false), (12, true), (13, false)];
        assert_eq!(run(Algorithm::SymDeferPk, 5, &s, 100), []);
        for algo in [Algorithm::SymEagerPk, Algorithm::AsymEagerDeferPk] {
            let events = run(algo, 5, &s, 100);
            let presses: Vec<_> = events.iter().filter(|e| e.pressed).collect();
            assert_eq!(presses, [&ev(true, 10)], "{algo:?}");
            assert_eq!(events.len(), 2, "{algo:?}: then one release, {events:?}");
        }
    }

    #[test]
    fn bounce_on_press_and_release_is_absorbed() {
        let s = [(10, true), (11, false), (12, true), (50, false), (51, true), (52, false)];
        assert_eq!(run(Algorithm::SymDeferPk, 5, &s, 100), [ev(true, 17), ev(false, 57)]);
        assert_eq!(run(Algorithm::AsymEagerDeferPk, 5, &s, 100), [ev(true, 10), ev(false, 57)]);
        assert_eq!(run(Algorithm::SymEagerPk, 5, &s, 100), [ev(true, 10), ev(false, 50)]);
    }

    #[test]
    fn keys_debounce_independently() {
        let mut d = Debouncer::<2>::new(Algorithm::SymDeferPk, 5);
        let mut out = Vec::new();
        for now in 0..=20 {
            let bouncing = now % 2 == 0; // key 1 never settles
            d.scan(now, &[now >= 3, bouncing], |e| out.push(e));
        }
        assert_eq!(out, [KeyEvent { index: 0, pressed: true, time: 8 }]);
        assert!(d.busy() && d.is_pressed(0) && !d.is_pressed(1));
    }

    #[test]
    fn clock_wrap_is_harmless() {
        let start = u32::MAX - 2;
        let mut d = Debouncer::<1>::new(Algorithm::SymDeferPk, 5);
        let mut out = Vec::new();
        for i in 0..10u32 {
            d.scan(start.wrapping_add(i), &[true], |e| out.push(e));
        }
        assert_eq!(out, [ev(true, start.wrapping_add(5))]);
    }

    /// xorshift32: a seeded generator, so a failure replays.
    struct Rng(u32);
    impl Rng {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0
        }
    }

    #[test]
    fn random_bounce_never_two_presses_without_a_release() {
        for algo in ALL {
            for seed in 1..=200u32 {
                let mut rng = Rng(seed.wrapping_mul(2_654_435_761) | 1);
                let t = 1 + rng.next() % 10;
                let mut d = Debouncer::<4>::new(algo, t);
                let mut raw = [false; 4];
                let mut last = [false; 4];
                let mut now = rng.next(); // anywhere on the clock, wrap included
                for _ in 0..2000 {
                    now = now.wrapping_add(rng.next() % 3);
                    for r in raw.iter_mut() {
                        if rng.next() % 4 == 0 {
                            *r = !*r;
                        }
                    }
                    d.scan(now, &raw, |e| {
                        let k = e.index as usize;
                        assert_ne!(last[k], e.pressed, "{algo:?} seed {seed}: {e:?} twice");
                        last[k] = e.pressed;
                    });
                }
                // Let every key settle up: each ends released.
                for _ in 0..=2 * t + 1 {
                    now = now.wrapping_add(1);
                    d.scan(now, &[false; 4], |e| {
                        let k = e.index as usize;
                        assert_ne!(last[k], e.pressed, "{algo:?} seed {seed}");
                        last[k] = e.pressed;
                    });
                }
                assert_eq!(last, [false; 4], "{algo:?} seed {seed}");
                assert!(!d.busy());
            }
        }
    }
}
