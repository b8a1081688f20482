//! Layers, modifiers and mod-tap: key events in, HID key state out.
//!
//! Each key index has one `Action` per layer. A key's action is looked up
//! from the highest active layer down, skipping `Trans`; the active layers
//! are the default layer, the toggled ones and those a held `Mo` key holds.
//! What a press did is remembered per key (`Held`), and its release undoes
//! exactly that, so a key held across a layer change releases what it
//! pressed, and the HID state is always recomputed from what is held.
//!
//! Mod-tap `Mt { mods, key }`: held past the tapping term, or still held
//! when another key is pressed, it is the modifiers; released before
//! either, it taps `key` (pressed and released in two states).
use crate::{elapsed, KeyEvent};

/// HID usage of the Keyboard/Keypad page (0x07), e.g. 0x04 = `a`.
pub type Usage = u8;

/// Bits of the modifier byte (HID 1.11, boot keyboard report byte 0);
/// bit `n` is usage `0xE0 + n`.
pub mod mods {
    pub const LCTRL: u8 = 1 << 0;
    pub const LSHIFT: u8 = 1 << 1;
    pub const LALT: u8 = 1 << 2;
    pub const LGUI: u8 = 1 << 3;
    pub const RCTRL: u8 = 1 << 4;
    pub const RSHIFT: u8 = 1 << 5;
    pub const RALT: u8 = 1 << 6;
    pub const RGUI: u8 = 1 << 7;
}

/// The first modifier usage (LeftControl); 0xE0..=0xE7 are the eight.
pub const FIRST_MODIFIER: Usage = 0xE0;

/// What a key does on one layer. Layer numbers count from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing (`KC_NO`).
    No,
    /// Whatever the next lower active layer says (`KC_TRNS`).
    Trans,
    /// A usage; 0xE0..=0xE7 are the modifiers.
    Key(Usage),
    /// Momentary: the layer is active while the key is held.
    Mo(u8),
    /// Toggle the layer on press.
    Tg(u8),
    /// Make the layer the default layer on press.
    Df(u8),
    /// Mod-tap: `mods` (bits of `mods::*`) when held, `key` when tapped.
    Mt { mods: u8, key: Usage },
}

/// The keys the host should see as down: the modifier byte and a bitmap
/// of usages (modifier usages live in `mods`, never in `keys`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct HidState {
    pub mods: u8,
    pub keys: [u8; 32],
}

impl HidState {
    /// Adds usage `u` (a modifier usage sets its `mods` bit; 0 is ignored).
    pub fn press(&mut self, u: Usage) {
        if u >= FIRST_MODIFIER && u <= FIRST_MODIFIER + 7 {
            self.mods |= 1 << (u - FIRST_MODIFIER);
        } else if u != 0 {
            self.keys[u as usize / 8] |= 1 << (u % 8);
        }
    }

    pub fn is_down(&self, u: Usage) -> bool {
        if u >= FIRST_MODIFIER && u <= FIRST_MODIFIER + 7 {
            self.mods & (1 << (u - FIRST_MODIFIER)) != 0
        } else {
            self.keys[u as usize / 8] & (1 << (u % 8)) != 0
        }
    }

    /// The non-modifier usages down, ascending. Byte by byte, skipping
    /// empty bytes (it is on the key-to-report path: `hid` encodes with it).
    pub fn usages(&self) -> impl Iterator<Item = Usage> + '_ {
        self.keys.iter().enumerate().flat_map(|(i, &byte)| {
            // Usage 0 is "no event"; 0xE0..=0xE7 (byte 28) live in `mods`.
            let byte = match i {
                0 => byte & !1,
                28 => 0,
                _ => byte,
            };
            Bits(byte).map(move |bit| (i * 8) as u8 + bit)
        })
    }

    pub fn key_count(&self) -> usize {
        self.keys.iter().map(|b| b.count_ones() as usize).sum()
    }
}

/// The set bits of a byte, lowest first.
struct Bits(u8);

impl Iterator for Bits {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros() as u8;
        self.0 &= self.0 - 1;
        Some(bit)
    }
}

/// What one key's press left in force, undone by its release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Nothing,
    Key(Usage),
    Layer(u8),
    /// Mod-tap pressed at `since`, not yet decided.
    MtPending { mods: u8, key: Usage, since: u32 },
    /// Mod-tap decided as hold.
    Mods(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeymapError {
    /// No layers, or more than 32.
    LayerCount(usize),
    /// `Mo`, `Tg` or `Df` at (layer, key) names a layer that does not exist.
    LayerOutOfRange { layer: usize, key: usize, target: u8 },
}

/// A keymap of `K` keys over `layers`, with its state.
pub struct Keymap<'a, const K: usize> {
    layers: &'a [[Action; K]],
    tapping_term_ms: u32,
    default_layer: u8,
    toggled: u32,
    held: [Held; K],
}

impl<'a, const K: usize> Keymap<'a, K> {
    /// Checks every layer reference; starts on layer 0 with nothing held.
    pub fn new(layers: &'a [[Action; K]], tapping_term_ms: u32) -> Result<Self, KeymapError> {
        if layers.is_empty() || layers.len() > 32 {
            return Err(KeymapError::LayerCount(layers.len()));
        }
        for (l, layer) in layers.iter().enumerate() {
            for (k, a) in layer.iter().enumerate() {
                if let Action::Mo(t) | Action::Tg(t) | Action::Df(t) = *a {
                    if t as usize >= layers.len() {
                        return Err(KeymapError::LayerOutOfRange { layer: l, key: k, target: t });
                    }
                }
            }
        }
        Ok(Keymap { layers, tapping_term_ms, default_layer: 0, toggled: 0, held: [Held::Nothing; K] })
    }

    pub fn default_layer(&self) -> u8 {
        self.default_layer
    }

    /// The active layers, a bit per layer.
    pub fn active_layers(&self) -> u32 {
        let held = self.held.iter().fold(0, |m, h| match h {
            Held::Layer(l) => m | 1 << l,
            _ => m,
        });
        (1 << self.default_layer) | self.toggled | held
    }

    /// The HID state of what is held now.
    pub fn state(&self) -> HidState {
        let mut s = HidState::default();
        for h in &self.held {
            match *h {
                Held::Key(u) => s.press(u),
                Held::Mods(m) => s.mods |= m,
                _ => {}
            }
        }
        s
    }

    /// Whether a mod-tap is undecided (the caller should `tick` it).
    pub fn pending(&self) -> bool {
        self.held.iter().any(|h| matches!(h, Held::MtPending { .. }))
    }

    /// Decides mod-taps held past the tapping term at `now`; calls `out`
    /// with the new state if it changed.
    pub fn tick(&mut self, now: u32, mut out: impl FnMut(&HidState)) {
        let before = self.state();
        for h in self.held.iter_mut() {
            if let Held::MtPending { mods, since, .. } = *h {
                if elapsed(now, since) >= self.tapping_term_ms {
                    *h = Held::Mods(mods);
                }
            }
        }
        self.emit_if_changed(before, &mut out);
    }

    /// One key event; calls `out` with each new HID state, in order (a tap
    /// gives two: the key down, then up). An index out of range is ignored.
    pub fn event(&mut self, ev: KeyEvent, mut out: impl FnMut(&HidState)) {
        self.tick(ev.time, &mut out);
        let k = ev.index as usize;
        if k >= K {
            return;
        }
        let before = self.state();
        if ev.pressed {
            if self.held[k] != Held::Nothing {
                return; // pressed twice without a release: keep the first
            }
            for h in self.held.iter_mut() {
                if let Held::MtPending { mods, .. } = *h {
                    *h = Held::Mods(mods); // another key while held: a hold
                }
            }
            self.emit_if_changed(before, &mut out);
            let before = self.state();
            self.held[k] = match self.lookup(k) {
                Action::No | Action::Trans => Held::Nothing,
                Action::Key(u) => Held::Key(u),
                Action::Mo(l) => Held::Layer(l),
                Action::Tg(l) => {
                    self.toggled ^= 1 << l;
                    Held::Nothing
                }
                Action::Df(l) => {
                    self.default_layer = l;
                    Held::Nothing
                }
                Action::Mt { mods, key } => Held::MtPending { mods, key, since: ev.time },
            };
            self.emit_if_changed(before, &mut out);
        } else {
            let was = core::mem::replace(&mut self.held[k], Held::Nothing);
            if let Held::MtPending { key, .. } = was {
                self.held[k] = Held::Key(key); // a tap: down, then up
                self.emit_if_changed(before, &mut out);
                self.held[k] = Held::Nothing;
                self.emit_if_changed(self.with_key(before, key), &mut out);
            } else {
                self.emit_if_changed(before, &mut out);
            }
        }
    }

    /// Releases everything held (as after a restart, when no key is known
    /// to be down); calls `out` if that changed the state.
    pub fn release_all(&mut self, mut out: impl FnMut(&HidState)) {
        let before = self.state();
        self.held = [Held::Nothing; K];
        self.emit_if_changed(before, &mut out);
    }

    fn with_key(&self, mut s: HidState, key: Usage) -> HidState {
        s.press(key);
        s
    }

    fn lookup(&self, k: usize) -> Action {
        let active = self.active_layers();
        for l in (0..self.layers.len()).rev() {
            if active & (1 << l) != 0 && self.layers[l][k] != Action::Trans {
                return self.layers[l][k];
            }
        }
        Action::No
    }

    fn emit_if_changed(&self, before: HidState, out: &mut impl FnMut(&HidState)) {
        let now = self.state();
        if now != before {
            out(&now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    const A: Usage = 0x04;
    const B: Usage = 0x05;
    const ONE: Usage = 0x1E;
    const SPACE: Usage = 0x2C;
    const LSHIFT: Usage = 0xE1;

    /// Feeds events, returning every state emitted as (mods, usages).
    struct Run<'a, const K: usize> {
        km: Keymap<'a, K>,
        seen: Vec<(u8, Vec<Usage>)>,
    }

    impl<'a, const K: usize> Run<'a, K> {
        fn new(layers: &'a [[Action; K]]) -> Self {
            Run { km: Keymap::new(layers, 200).unwrap(), seen: vec![] }
        }
        fn ev(&mut self, index: u16, pressed: bool, time: u32) -> Vec<(u8, Vec<Usage>)> {
            let mut got = vec![];
            self.km.event(KeyEvent { index, pressed, time },
                          |s| got.push((s.mods, s.usages().collect())));
            self.seen.extend(got.clone());
            got
        }
        fn tick(&mut self, now: u32) -> Vec<(u8, Vec<Usage>)> {
            let mut got = vec![];
            self.km.tick(now, |s| got.push((s.mods, s.usages().collect())));
            got
        }
    }

    #[test]
    fn plain_keys_and_modifiers() {
        let layers = [[Key(A), Key(LSHIFT), No]];
        let mut r = Run::new(&layers);
        assert_eq!(r.ev(0, true, 0), [(0, vec![A])]);
        assert_eq!(r.ev(1, true, 1), [(mods::LSHIFT, vec![A])]);
        assert_eq!(r.ev(2, true, 2), []); // KC_NO: no change, no report
        assert_eq!(r.ev(0, false, 3), [(mods::LSHIFT, vec![])]);
        assert_eq!(r.ev(1, false, 4), [(0, vec![])]);
        assert_eq!(r.ev(9, true, 5), []); // out of range
    }

    #[test]
    fn momentary_layer_and_transparent() {
        let layers = [[Key(A), Key(B), Mo(1)], [Key(ONE), Trans, Trans]];
        let mut r = Run::new(&layers);
        assert_eq!(r.ev(2, true, 0), []);
        assert_eq!(r.km.active_layers(), 0b11);
        assert_eq!(r.ev(0, true, 1), [(0, vec![ONE])]);
        assert_eq!(r.ev(0, false, 2), [(0, vec![])]);
        assert_eq!(r.ev(1, true, 3), [(0, vec![B])]); // falls through to layer 0
        assert_eq!(r.ev(1, false, 4), [(0, vec![])]);
        assert_eq!(r.ev(2, false, 5), []);
        assert_eq!(r.ev(0, true, 6), [(0, vec![A])]);
    }

    #[test]
    fn key_held_across_layer_change_releases_what_it_pressed() {
        let layers = [[Key(A), Mo(1)], [Key(ONE), Trans]];
        let mut r = Run::new(&layers);
        r.ev(1, true, 0);
        assert_eq!(r.ev(0, true, 1), [(0, vec![ONE])]);
        r.ev(1, false, 2); // layer 1 off while key 0 holds ONE
        assert_eq!(r.km.state().usages().collect::<Vec<_>>(), [ONE]);
        assert_eq!(r.ev(0, false, 3), [(0, vec![])]); // ONE released, not A
        assert!(!r.km.state().is_down(A));
    }

    #[test]
    fn toggle_layer() {
        let layers = [[Key(A), Tg(1)], [Key(ONE), Trans]];
        let mut r = Run::new(&layers);
        r.ev(1, true, 0);
        r.ev(1, false, 1);
        assert_eq!(r.km.active_layers(), 0b11);
        assert_eq!(r.ev(0, true, 2), [(0, vec![ONE])]);
        r.ev(0, false, 3);
        r.ev(1, true, 4); // Trans on layer 1: TG(1) again from layer 0
        r.ev(1, false, 5);
        assert_eq!(r.km.active_layers(), 0b01);
        assert_eq!(r.ev(0, true, 6), [(0, vec![A])]);
    }

    #[test]
    fn default_layer_switch() {
        let layers = [[Key(A), Df(1)], [Key(B), Df(0)]];
        let mut r = Run::new(&layers);
        r.ev(1, true, 0);
        r.ev(1, false, 1);
        assert_eq!((r.km.default_layer(), r.km.active_layers()), (1, 0b10));
        assert_eq!(r.ev(0, true, 2), [(0, vec![B])]);
        r.ev(0, false, 3);
        r.ev(1, true, 4);
        assert_eq!(r.km.default_layer(), 0);
    }

    #[test]
    fn mod_tap_tapped_is_the_key() {
        let layers = [[Mt { mods: mods::LSHIFT, key: SPACE }, Key(A)]];
        let mut r = Run::new(&layers);
        assert_eq!(r.ev(0, true, 0), []);
        assert!(r.km.pending());
        assert_eq!(r.tick(199), []);
        assert_eq!(r.ev(0, false, 150), [(0, vec![SPACE]), (0, vec![])]);
        assert!(!r.km.pending());
    }

    #[test]
    fn mod_tap_held_past_tapping_term_is_the_modifier() {
        let layers = [[Mt { mods: mods::LSHIFT, key: SPACE }, Key(A)]];
        let mut r = Run::new(&layers);
        r.ev(0, true, 0);
        assert_eq!(r.tick(200), [(mods::LSHIFT, vec![])]);
        assert_eq!(r.ev(1, true, 300), [(mods::LSHIFT, vec![A])]);
        r.ev(1, false, 310);
        assert_eq!(r.ev(0, false, 320), [(0, vec![])]); // no space
        // The term also passes without a tick: the next event decides it.
        r.ev(0, true, 1000);
        assert_eq!(r.ev(1, true, 1500), [(mods::LSHIFT, vec![]), (mods::LSHIFT, vec![A])]);
    }

    #[test]
    fn mod_tap_with_another_key_pressed_is_the_modifier() {
        let layers = [[Mt { mods: mods::LCTRL | mods::LALT, key: SPACE }, Key(A)]];
        let mut r = Run::new(&layers);
        r.ev(0, true, 0);
        let both = mods::LCTRL | mods::LALT;
        assert_eq!(r.ev(1, true, 10), [(both, vec![]), (both, vec![A])]);
        assert_eq!(r.ev(1, false, 20), [(both, vec![])]);
        assert_eq!(r.ev(0, false, 30), [(0, vec![])]);
    }

    #[test]
    fn same_usage_from_two_keys_stays_down_until_both_release() {
        let layers = [[Key(A), Key(A)]];
        let mut r = Run::new(&layers);
        r.ev(0, true, 0);
        assert_eq!(r.ev(1, true, 1), []);
        assert_eq!(r.ev(0, false, 2), []);
        assert_eq!(r.ev(1, false, 3), [(0, vec![])]);
    }

    #[test]
    fn release_all_and_bad_layer_references() {
        let layers = [[Key(A), Key(LSHIFT)]];
        let mut r = Run::new(&layers);
        r.ev(0, true, 0);
        r.ev(1, true, 0);
        let mut got = vec![];
        r.km.release_all(|s| got.push(*s));
        assert_eq!(got, [HidState::default()]);
        let bad = [[Key(A), Mo(2)], [Trans, Trans]];
        assert_eq!(Keymap::new(&bad, 200).err(),
                   Some(KeymapError::LayerOutOfRange { layer: 0, key: 1, target: 2 }));
        let none: [[Action; 2]; 0] = [];
        assert_eq!(Keymap::new(&none, 200).err(), Some(KeymapError::LayerCount(0)));
    }
}
