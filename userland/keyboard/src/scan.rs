//! What the keyscan and keymap tasks add to the pure logic: the stamp of
//! the scan that first saw each change (the latency bench measures from
//! it), and resynchronising a keymap with a snapshot of the held keys
//! (after keyscan or keymap restarted).
use crate::debounce::{Algorithm, Debouncer};
use crate::KeyEvent;

/// A `Debouncer` that also remembers, per key, the stamp (a clock
/// reading) of the scan in which the raw level first differed from the
/// debounced one, and hands it out with the event that change becomes.
pub struct StampedDebouncer<const N: usize> {
    debouncer: Debouncer<N>,
    first_seen: [Option<u64>; N],
}

impl<const N: usize> StampedDebouncer<N> {
    pub fn new(algorithm: Algorithm, time_ms: u32) -> Self {
        StampedDebouncer { debouncer: Debouncer::new(algorithm, time_ms), first_seen: [None; N] }
    }

    /// One scan at `now` ms that began at clock `stamp`; `emit` gets each
    /// debounced change with the stamp of the scan that first saw it.
    pub fn scan(&mut self, now: u32, stamp: u64, raw: &[bool; N], mut emit: impl FnMut(KeyEvent, u64)) {
        for (i, &level) in raw.iter().enumerate() {
            if level != self.debouncer.is_pressed(i) {
                self.first_seen[i].get_or_insert(stamp);
            } else {
                self.first_seen[i] = None;
            }
        }
        let first_seen = &mut self.first_seen;
        self.debouncer.scan(now, raw, |ev| {
            let seen = first_seen[ev.index as usize].take().unwrap_or(stamp);
            emit(ev, seen)
        });
    }

    pub fn is_pressed(&self, index: usize) -> bool {
        self.debouncer.is_pressed(index)
    }

    /// A key is down or a debounce timer runs: keep scanning.
    pub fn active(&self) -> bool {
        self.debouncer.busy() || (0..N).any(|i| self.debouncer.is_pressed(i))
    }
}

/// The changes that turn the keys `down` (as a keymap last heard) into
/// `held` (a snapshot): `f(index, pressed)` for each key that differs,
/// releases first, then presses, each in key order.
pub fn resync(down: &[bool], held: impl Fn(usize) -> bool, mut f: impl FnMut(usize, bool)) {
    for pressed in [false, true] {
        for (i, &d) in down.iter().enumerate() {
            if d != held(i) && held(i) == pressed {
                f(i, pressed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eager_press_carries_the_stamp_of_its_own_scan() {
        let mut d = StampedDebouncer::<2>::new(Algorithm::AsymEagerDeferPk, 5);
        let mut got = Vec::new();
        d.scan(0, 100, &[false, false], |e, s| got.push((e, s)));
        d.scan(1, 200, &[true, false], |e, s| got.push((e, s)));
        assert_eq!(got, [(KeyEvent { index: 0, pressed: true, time: 1 }, 200)]);
        assert!(d.active());
    }

    #[test]
    fn deferred_release_carries_the_stamp_of_the_scan_that_first_saw_it() {
        let mut d = StampedDebouncer::<1>::new(Algorithm::AsymEagerDeferPk, 5);
        let mut got = Vec::new();
        d.scan(0, 10, &[true], |e, s| got.push((e.pressed, e.time, s)));
        for t in 10..20 {
            d.scan(t, 1000 + t as u64, &[false], |e, s| got.push((e.pressed, e.time, s)));
        }
        assert_eq!(got, [(true, 0, 10), (false, 15, 1010)]);
        assert!(!d.active());
    }

    #[test]
    fn a_bounce_back_forgets_the_first_sighting() {
        let mut d = StampedDebouncer::<1>::new(Algorithm::SymDeferPk, 5);
        let mut got = Vec::new();
        d.scan(0, 1, &[true], |e, s| got.push((e.time, s)));
        d.scan(1, 2, &[false], |e, s| got.push((e.time, s)));
        for t in 2..10 {
            d.scan(t, 100 + t as u64, &[true], |e, s| got.push((e.time, s)));
        }
        assert_eq!(got, [(7, 102)], "the change that held began at the scan of t=2");
    }

    #[test]
    fn resync_releases_first_then_presses() {
        let down = [true, false, true, false];
        let held = [false, true, true, false];
        let mut got = Vec::new();
        resync(&down, |i| held[i], |i, p| got.push((i, p)));
        assert_eq!(got, [(0, false), (1, true)]);
    }
}
