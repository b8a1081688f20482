//! ps2.rs - PS/2 keyboard input as the i8042 delivers it (scan code set 1:
//! the controller translates the keyboard's set 2 by default) to the
//! bytes a serial terminal would send: what `ps2kbd` hands the console.
//! Pure logic, host-tested (`cargo test -p keyboard`).
//!
//! ```text
//!   0x60 bytes ──> Decoder::key ──> (Key, pressed) ──> Decoder::feed ──> byte
//!                  (0xE0 prefix,                       (Shift, Caps Lock,
//!                   0xE1 Pause,                         Ctrl+letter)
//!                   make / break)
//! ```
//!
//! US layout. Enter gives '\r' and Backspace DEL (0x7f), as a terminal on
//! the serial console sends them; Tab '\t', Esc 0x1b; Ctrl+letter the
//! control code (Ctrl+C 0x03); Ctrl+[ \ ] 0x1b..0x1d. Keys without a byte
//! (arrows, function keys, Alt, the GUI keys, keypad keys but * - + / and
//! Enter) give none. Holding a key repeats its make code (typematic): each
//! repeat gives the byte again, and Caps Lock toggles only on its first
//! make.

/// A key, as far as the console cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A letter, lower case: Shift or Caps Lock (not both) make it upper case.
    Letter(u8),
    /// Another printing key: (plain, with Shift).
    Char(u8, u8),
    Enter,
    Backspace,
    Tab,
    Esc,
    LShift,
    RShift,
    LCtrl,
    RCtrl,
    CapsLock,
    /// Known, no byte (arrows, F-keys, Alt, GUI, Num Lock, ...).
    Other,
}

use Key::*;

/// Set-1 make codes 0x00..=0x58 without a prefix.
const PLAIN: [Key; 0x59] = [
    Other, Esc, Char(b'1', b'!'), Char(b'2', b'@'), Char(b'3', b'#'), Char(b'4', b'$'),
    Char(b'5', b'%'), Char(b'6', b'^'), Char(b'7', b'&'), Char(b'8', b'*'),
    Char(b'9', b'('), Char(b'0', b')'), Char(b'-', b'_'), Char(b'=', b'+'), Backspace, Tab,
    // 0x10
    Letter(b'q'), Letter(b'w'), Letter(b'e'), Letter(b'r'), Letter(b't'), Letter(b'y'),
    Letter(b'u'), Letter(b'i'), Letter(b'o'), Letter(b'p'), Char(b'[', b'{'), Char(b']', b'}'),
    Enter, LCtrl, Letter(b'a'), Letter(b's'),
    // 0x20
    Letter(b'd'), Letter(b'f'), Letter(b'g'), Letter(b'h'), Letter(b'j'), Letter(b'k'),
    Letter(b'l'), Char(b';', b':'), Char(b'\'', b'"'), Char(b'`', b'~'), LShift,
    Char(b'\\', b'|'), Letter(b'z'), Letter(b'x'), Letter(b'c'), Letter(b'v'),
    // 0x30
    Letter(b'b'), Letter(b'n'), Letter(b'm'), Char(b',', b'<'), Char(b'.', b'>'),
    Char(b'/', b'?'), RShift, Char(b'*', b'*'), Other /* LAlt */, Char(b' ', b' '), CapsLock,
    Other, Other, Other, Other, Other, // F1..F5
    // 0x40
    Other, Other, Other, Other, Other, // F6..F10
    Other, Other, // Num Lock, Scroll Lock
    Other, Other, Other, Char(b'-', b'-'), // keypad 7 8 9 -
    Other, Other, Other, Char(b'+', b'+'), // keypad 4 5 6 +
    Other, // keypad 1
    // 0x50
    Other, Other, Other, Other, // keypad 2 3 0 .
    Other, Other, Other, Other, Other, // SysRq, -, 102nd key, F11, F12
];

/// A key after an 0xE0 prefix.
fn extended(code: u8) -> Key {
    match code {
        0x1c => Enter,           // keypad Enter
        0x1d => RCtrl,
        0x35 => Char(b'/', b'/'), // keypad /
        _ => Other,              // RAlt, arrows, Home/End, Insert/Delete, GUI, ...
    }
}

/// Scan code set 1 decoder plus the modifier state that turns keys into
/// bytes.
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    /// The previous byte was 0xE0.
    e0: bool,
    /// Bytes of a Pause sequence (E1 1D 45 E1 9D C5) still to skip.
    skip: u8,
    lshift: bool,
    rshift: bool,
    lctrl: bool,
    rctrl: bool,
    caps: bool,
    caps_down: bool,
}

impl Decoder {
    pub const fn new() -> Decoder {
        Decoder { e0: false, skip: 0, lshift: false, rshift: false, lctrl: false, rctrl: false, caps: false, caps_down: false }
    }

    /// One byte from the controller: a key and whether it went down
    /// (make) or up (break), or None for a prefix, a controller reply
    /// (0xFA ACK, 0xFE resend, 0xEE echo, 0x00/0xFF errors) or an
    /// unknown code. The fake shifts the keyboard wraps around some
    /// extended keys (E0 2A, E0 AA, E0 36, E0 B6) are None too.
    pub fn key(&mut self, code: u8) -> Option<(Key, bool)> {
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        match code {
            0xe0 => {
                self.e0 = true;
                return None;
            }
            0xe1 => {
                self.skip = 2;
                self.e0 = false;
                return None;
            }
            0x00 | 0xfa | 0xfe | 0xee | 0xff => {
                self.e0 = false;
                return None;
            }
            _ => {}
        }
        let e0 = core::mem::replace(&mut self.e0, false);
        let pressed = code & 0x80 == 0;
        let make = code & 0x7f;
        let key = if e0 {
            if make == 0x2a || make == 0x36 {
                return None; // fake shift
            }
            extended(make)
        } else {
            *PLAIN.get(make as usize)?
        };
        Some((key, pressed))
    }

    /// One byte from the controller; the byte it gives the console, if any.
    pub fn feed(&mut self, code: u8) -> Option<u8> {
        let (key, pressed) = self.key(code)?;
        self.apply(key, pressed)
    }

    /// Track modifiers; the byte for a press.
    pub fn apply(&mut self, key: Key, pressed: bool) -> Option<u8> {
        match key {
            LShift => self.lshift = pressed,
            RShift => self.rshift = pressed,
            LCtrl => self.lctrl = pressed,
            RCtrl => self.rctrl = pressed,
            CapsLock => {
                if pressed && !self.caps_down {
                    self.caps = !self.caps;
                }
                self.caps_down = pressed;
            }
            _ if !pressed => {}
            _ => return self.byte(key),
        }
        None
    }

    fn byte(&self, key: Key) -> Option<u8> {
        let shift = self.lshift || self.rshift;
        let ctrl = self.lctrl || self.rctrl;
        match key {
            Letter(c) if ctrl => Some(c & 0x1f),
            Char(c @ (b'[' | b'\\' | b']'), _) if ctrl => Some(c & 0x1f),
            _ if ctrl => None,
            Letter(c) if shift != self.caps => Some(c.to_ascii_uppercase()),
            Letter(c) => Some(c),
            Char(plain, shifted) => Some(if shift { shifted } else { plain }),
            Enter => Some(b'\r'),
            Backspace => Some(0x7f),
            Tab => Some(b'\t'),
            Esc => Some(0x1b),
            _ => None,
        }
    }

    /// Caps Lock is on (for the keyboard's LED).
    pub fn caps_lock(&self) -> bool {
        self.caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Feed scan codes; the bytes out.
    fn run(d: &mut Decoder, codes: &[u8]) -> Vec<u8> {
        codes.iter().filter_map(|&c| d.feed(c)).collect()
    }

    /// Make and break of each code, in turn.
    fn tap(codes: &[u8]) -> Vec<u8> {
        codes.iter().flat_map(|&c| [c, c | 0x80]).collect()
    }

    #[test]
    fn letters_digits_and_space() {
        let mut d = Decoder::new();
        // e c h o ' ' 1 2
        let out = run(&mut d, &tap(&[0x12, 0x2e, 0x23, 0x18, 0x39, 0x02, 0x03]));
        assert_eq!(out, b"echo 12");
    }

    #[test]
    fn every_plain_code_is_mapped_like_a_us_keyboard() {
        let row = b"`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./";
        let codes = [
            0x29, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x10, 0x11, 0x12,
            0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x2b, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
            0x24, 0x25, 0x26, 0x27, 0x28, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
        ];
        assert_eq!(run(&mut Decoder::new(), &tap(&codes)), row);
        let mut shifted = vec![0x2a];
        shifted.extend(tap(&codes));
        shifted.push(0xaa);
        assert_eq!(run(&mut Decoder::new(), &shifted), b"~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:\"ZXCVBNM<>?");
    }

    #[test]
    fn shift_is_held_until_its_break() {
        let mut d = Decoder::new();
        // LShift down, a, 1, LShift up, a ; then RShift + /
        let out = run(&mut d, &[0x2a, 0x1e, 0x9e, 0x02, 0x82, 0xaa, 0x1e, 0x9e, 0x36, 0x35, 0xb5, 0xb6, 0x35]);
        assert_eq!(out, b"A!a?/");
    }

    #[test]
    fn both_shifts_must_be_released() {
        let mut d = Decoder::new();
        let out = run(&mut d, &[0x2a, 0x36, 0xaa, 0x1e, 0xb6, 0x1e]);
        assert_eq!(out, b"Aa");
    }

    #[test]
    fn caps_lock_toggles_letters_only_once_per_press() {
        let mut d = Decoder::new();
        // Caps down (held: typematic repeats), up; a 1; Shift+a; Caps again; a
        let out = run(&mut d, &[0x3a, 0x3a, 0x3a, 0xba, 0x1e, 0x02, 0x2a, 0x1e, 0xaa, 0x3a, 0xba, 0x1e]);
        assert_eq!(out, b"A1aa");
        assert!(!d.caps_lock());
    }

    #[test]
    fn ctrl_letters_are_control_codes() {
        let mut d = Decoder::new();
        // LCtrl+c, RCtrl (E0 1D)+d, Ctrl+[ , then released: c
        let out = run(&mut d, &[0x1d, 0x2e, 0xae, 0x9d, 0xe0, 0x1d, 0x20, 0xe0, 0x9d, 0x1d, 0x1a, 0x02, 0x9d, 0x2e]);
        assert_eq!(out, [0x03, 0x04, 0x1b, b'c']);
    }

    #[test]
    fn enter_backspace_tab_esc_like_a_serial_terminal() {
        let mut d = Decoder::new();
        let out = run(&mut d, &tap(&[0x1c, 0x0e, 0x0f, 0x01]));
        assert_eq!(out, b"\r\x7f\t\x1b");
        // keypad Enter and keypad / are E0-prefixed
        assert_eq!(run(&mut d, &[0xe0, 0x1c, 0xe0, 0x9c, 0xe0, 0x35, 0xe0, 0xb5]), b"\r/");
    }

    #[test]
    fn repeats_give_the_byte_again() {
        let mut d = Decoder::new();
        assert_eq!(run(&mut d, &[0x1e, 0x1e, 0x1e, 0x9e]), b"aaa");
    }

    #[test]
    fn extended_keys_do_not_leak_as_plain_ones() {
        let mut d = Decoder::new();
        // Up arrow (E0 48) is not keypad 8; Delete (E0 53) not keypad '.';
        // RAlt (E0 38) nothing; arrows with Num Lock wrap fake shifts
        // (E0 2A .. E0 AA), which must not shift the next letter.
        let out = run(&mut d, &[0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x53, 0xe0, 0xd3, 0xe0, 0x38, 0xe0, 0xb8,
                                0xe0, 0x2a, 0xe0, 0x4b, 0xe0, 0xcb, 0xe0, 0xaa, 0x1e]);
        assert_eq!(out, b"a");
        assert_eq!(d.key(0xe0), None);
        assert_eq!(d.key(0x48), Some((Other, true)));
    }

    #[test]
    fn pause_sequence_and_controller_replies_are_skipped() {
        let mut d = Decoder::new();
        let out = run(&mut d, &[0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0xfa, 0xfe, 0x00, 0xff, 0xee, 0x1e]);
        assert_eq!(out, b"a", "Pause's 1D must not press Ctrl");
        assert!(!d.lctrl);
    }

    #[test]
    fn unknown_codes_and_breaks_give_nothing() {
        let mut d = Decoder::new();
        for code in 0x59..=0x7fu8 {
            assert_eq!(d.key(code), None, "code {code:#x}");
        }
        for code in 0x80..=0xdfu8 {
            assert_eq!(d.feed(code), None, "break {code:#x}");
        }
        assert_eq!(run(&mut d, &[0x1e]), b"a", "state unharmed");
    }

    #[test]
    fn any_byte_stream_is_safe() {
        // Every byte after every byte: no panic, at most one output per byte.
        let mut d = Decoder::new();
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = d.feed(a);
                let _ = d.feed(b);
            }
        }
    }
}
