//! HID keyboard reports: encoding for `hid`, decoding for tests and the kit.
//!
//! Boot keyboard report (HID 1.11, Appendix B), 8 bytes:
//!
//! ```text
//!   byte 0      1         2..=7
//!   ┌────────┬─────────┬──────────────────────────┐
//!   │ mods   │ 0       │ up to six usages, 0 = none│
//!   └────────┴─────────┴──────────────────────────┘
//!   mods bit n = usage 0xE0+n (LCtrl LShift LAlt LGUI RCtrl RShift RAlt RGUI)
//! ```
//!
//! Usages are listed in ascending order (the state is a set, with no press
//! order). More than six keys down: all six slots are ErrorRollOver (0x01),
//! the modifier byte still valid.
//!
//! NKRO report, `NKRO_LEN` = 29 bytes: byte 0 the modifier byte, then a
//! bitmap of usages 0x00..=0xDF: bit `u % 8` of byte `1 + u / 8` set when
//! usage `u` is down (bits of usages 0x00..=0x03 are always 0).
use crate::keymap::{HidState, Usage, FIRST_MODIFIER};

pub const BOOT_LEN: usize = 8;
pub const NKRO_LEN: usize = 1 + FIRST_MODIFIER as usize / 8;
/// The usage that fills every slot of a boot report when too many keys are down.
pub const ERROR_ROLL_OVER: Usage = 0x01;
/// The first usage that is a key (0x00..=0x03 are "no event" and errors).
pub const FIRST_KEY: Usage = 0x04;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportError {
    /// Not `BOOT_LEN` / `NKRO_LEN` bytes.
    Length(usize),
    /// A boot report slot holds a usage that is not a key (0x02, 0x03, a
    /// modifier or above), or mixes ErrorRollOver with keys.
    BadSlot(Usage),
    /// An NKRO report sets a bit below `FIRST_KEY`.
    ReservedBit(Usage),
}

/// A decoded boot report: `state` has the modifiers and, unless `rollover`,
/// the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootReport {
    pub state: HidState,
    pub rollover: bool,
}

pub fn encode_boot(state: &HidState) -> [u8; BOOT_LEN] {
    let mut r = [0u8; BOOT_LEN];
    r[0] = state.mods;
    let mut n = 0;
    for u in state.usages().filter(|&u| (FIRST_KEY..FIRST_MODIFIER).contains(&u)) {
        if n == 6 {
            r[2..].fill(ERROR_ROLL_OVER);
            return r;
        }
        r[2 + n] = u;
        n += 1;
    }
    r
}

pub fn decode_boot(bytes: &[u8]) -> Result<BootReport, ReportError> {
    if bytes.len() != BOOT_LEN {
        return Err(ReportError::Length(bytes.len()));
    }
    let mut state = HidState { mods: bytes[0], ..HidState::default() };
    let slots = &bytes[2..];
    if slots.iter().all(|&u| u == ERROR_ROLL_OVER) {
        return Ok(BootReport { state, rollover: true });
    }
    for &u in slots {
        if u != 0 && !(FIRST_KEY..FIRST_MODIFIER).contains(&u) {
            return Err(ReportError::BadSlot(u));
        }
        state.press(u);
    }
    Ok(BootReport { state, rollover: false })
}

pub fn encode_nkro(state: &HidState) -> [u8; NKRO_LEN] {
    let mut r = [0u8; NKRO_LEN];
    r[0] = state.mods;
    // The bitmap is the state's own, bytes 0..28 (usages 0x00..=0xDF),
    // without the bits of usages 0x00..=0x03.
    r[1..].copy_from_slice(&state.keys[..NKRO_LEN - 1]);
    r[1] &= !0x0f;
    r
}

pub fn decode_nkro(bytes: &[u8]) -> Result<HidState, ReportError> {
    if bytes.len() != NKRO_LEN {
        return Err(ReportError::Length(bytes.len()));
    }
    let mut state = HidState { mods: bytes[0], ..HidState::default() };
    for u in 0..FIRST_MODIFIER {
        if bytes[1 + u as usize / 8] & (1 << (u % 8)) != 0 {
            if u < FIRST_KEY {
                return Err(ReportError::ReservedBit(u));
            }
            state.press(u);
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::mods;

    fn state(m: u8, usages: &[Usage]) -> HidState {
        let mut s = HidState { mods: m, ..HidState::default() };
        for &u in usages {
            s.press(u);
        }
        s
    }

    #[test]
    fn boot_report_bytes() {
        // Left shift + 'b' + 'a': listed ascending.
        let s = state(mods::LSHIFT, &[0x05, 0x04]);
        assert_eq!(encode_boot(&s), [0x02, 0, 0x04, 0x05, 0, 0, 0, 0]);
        assert_eq!(encode_boot(&HidState::default()), [0; 8]);
        // A modifier usage pressed as a key lands in byte 0.
        assert_eq!(encode_boot(&state(0, &[0xE7])), [0x80, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn six_keys_fit_seven_roll_over() {
        let six = [0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        assert_eq!(encode_boot(&state(mods::LCTRL, &six)), [1, 0, 4, 5, 6, 7, 8, 9]);
        let seven = state(mods::LCTRL, &[0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A]);
        let r = encode_boot(&seven);
        assert_eq!(r, [1, 0, 1, 1, 1, 1, 1, 1]);
        assert_eq!(decode_boot(&r), Ok(BootReport { state: state(mods::LCTRL, &[]), rollover: true }));
        // NKRO carries all seven.
        assert_eq!(decode_nkro(&encode_nkro(&seven)), Ok(seven));
    }

    #[test]
    fn boot_round_trip_and_errors() {
        let s = state(mods::RALT | mods::LGUI, &[0x2C, 0x28, 0x04]);
        assert_eq!(decode_boot(&encode_boot(&s)), Ok(BootReport { state: s, rollover: false }));
        assert_eq!(decode_boot(&[0; 7]), Err(ReportError::Length(7)));
        assert_eq!(decode_boot(&[0, 0, 4, 2, 0, 0, 0, 0]), Err(ReportError::BadSlot(2)));
        assert_eq!(decode_boot(&[0, 0, 1, 4, 0, 0, 0, 0]), Err(ReportError::BadSlot(1)));
        assert_eq!(decode_boot(&[0, 0, 0xE0, 0, 0, 0, 0, 0]), Err(ReportError::BadSlot(0xE0)));
    }

    #[test]
    fn nkro_bitmap_layout() {
        assert_eq!(NKRO_LEN, 29);
        let s = state(mods::RSHIFT, &[0x04, 0x2C, 0xDF]);
        let r = encode_nkro(&s);
        assert_eq!(r[0], 0x20);
        assert_eq!(r[1], 0b0001_0000); // 0x04: byte 1 + 0, bit 4
        assert_eq!(r[1 + 0x2C / 8], 1 << (0x2C % 8));
        assert_eq!(r[28], 0x80); // 0xDF: byte 1 + 27, bit 7
        assert_eq!(decode_nkro(&r), Ok(s));
        let mut bad = [0u8; NKRO_LEN];
        bad[1] = 0b10; // usage 0x01
        assert_eq!(decode_nkro(&bad), Err(ReportError::ReservedBit(1)));
        assert_eq!(decode_nkro(&[0; 8]), Err(ReportError::Length(8)));
    }
}
