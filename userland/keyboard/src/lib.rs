//! The keyboard pipeline's logic, with no hardware and no IPC:
//!
//! ```text
//!   pins ──> matrix ──> debounce ──> KeyEvent ──> keymap ──> HidState ──> report
//!          (scan, ghost)  (per key)  (index,       (layers,    (mods +      (boot 6KRO,
//!                                     pressed,      mod-tap)    usages)      NKRO bytes)
//!                                     time)
//! ```
//!
//! Planned split into tasks (design.md, "The keyboard"): `keyscan` owns
//! `matrix` and `debounce`, `keymap` owns `keymap`, `hid` owns `report`.
//! None of it is wired into a task yet; everything here is tested on the
//! host with `cargo test -p keyboard`.
#![cfg_attr(not(test), no_std)]

pub mod debounce;
pub mod keymap;
pub mod matrix;
pub mod ps2;
pub mod report;

/// One key changing state, after debounce: what `keyscan` sends `keymap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    /// The key's index in the board's key list (row * cols + col for a matrix).
    pub index: u16,
    pub pressed: bool,
    /// Milliseconds on the scanner's clock (wraps; compare with wrapping_sub).
    pub time: u32,
}

/// `now - then` on a wrapping millisecond clock.
pub(crate) fn elapsed(now: u32, then: u32) -> u32 {
    now.wrapping_sub(then)
}
