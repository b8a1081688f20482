//! The keyboard pipeline's logic, with no hardware and no IPC:
//!
//! ```text
//!   pins ──> matrix ──> debounce ──> KeyEvent ──> keymap ──> HidState ──> report
//!          (scan, ghost)  (per key)  (index,       (layers,    (mods +      (boot 6KRO,
//!                                     pressed,      mod-tap)    usages)      NKRO bytes)
//!                                     time)
//! ```
//!
//! The tasks (design.md, "The keyboard"; userland/keyboard/tasks):
//! `keyscan` owns `matrix` and `debounce`, `keymap` owns `keymap`, `hid`
//! owns `report`; `proto` is the messages between them. Everything here
//! is tested on the host with `cargo test -p keyboard`.
#![cfg_attr(not(test), no_std)]

/// The board's keyboard as the build configured it: key pins, matrix,
/// keymap layers, Kconfig choices (generated; src/board_none.rs without a
/// board: no keys).
#[allow(dead_code, clippy::all)]
pub mod board {
    include!(env!("NAGI_KEYBOARD_RS"));
}
pub mod debounce;
pub mod keymap;
pub mod matrix;
pub mod ps2;
pub mod report;
pub mod scan;
pub mod trace;

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
