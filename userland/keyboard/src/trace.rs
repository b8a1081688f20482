//! The twin's HID trace line (docs/protocols.md, "keyboard pipeline"): one
//! line per report on the trace UART, which hil_tests read:
//!
//! ```text
//! HID boot <16 hex digits> <stamp> <now>\n
//! HID nkro <58 hex digits> <stamp> <now>\n
//! ```
//!
//! lowercase hex of the report bytes; `stamp` the SYS_CLOCK reading of the
//! scan that saw the key change (0: none), `now` SYS_CLOCK just before the
//! line is written, both decimal.

/// Longest line: "HID nkro " + 58 hex + 2 x (" " + 20 digits) + "\n".
pub const LINE_MAX: usize = 9 + 2 * crate::report::NKRO_LEN + 2 * 21 + 1;

/// Writes the line into `buf`; returns its length. `kind` is "boot" or "nkro".
pub fn trace_line(buf: &mut [u8; LINE_MAX], kind: &str, report: &[u8], stamp: u64, now: u64) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut n = 0;
    let mut put = |b: u8, n: &mut usize| {
        if *n < LINE_MAX {
            buf[*n] = b;
            *n += 1;
        }
    };
    for &b in b"HID ".iter().chain(kind.as_bytes()).chain(b" ") {
        put(b, &mut n);
    }
    for &b in report.iter().take(crate::report::NKRO_LEN) {
        put(HEX[(b >> 4) as usize], &mut n);
        put(HEX[(b & 0xf) as usize], &mut n);
    }
    for v in [stamp, now] {
        put(b' ', &mut n);
        let mut digits = [0u8; 20];
        let (mut v, mut d) = (v, 0);
        loop {
            digits[d] = b'0' + (v % 10) as u8;
            d += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for i in (0..d).rev() {
            put(digits[i], &mut n);
        }
    }
    put(b'\n', &mut n);
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::HidState;
    use crate::report::{encode_boot, encode_nkro};

    #[test]
    fn boot_and_nkro_lines_are_exact() {
        let mut s = HidState::default();
        s.press(0x04);
        s.press(0xE1);
        let mut buf = [0u8; LINE_MAX];
        let n = trace_line(&mut buf, "boot", &encode_boot(&s), 1234, 5678);
        assert_eq!(core::str::from_utf8(&buf[..n]).unwrap(), "HID boot 0200040000000000 1234 5678\n");
        let n = trace_line(&mut buf, "nkro", &encode_nkro(&s), 0, u64::MAX);
        let line = core::str::from_utf8(&buf[..n]).unwrap();
        assert_eq!(line, format!("HID nkro 0210{} 0 18446744073709551615\n", "0".repeat(54)));
        let n = trace_line(&mut buf, "nkro", &encode_nkro(&s), u64::MAX, u64::MAX);
        assert_eq!((n, buf[n - 1]), (LINE_MAX, b'\n'), "the longest line fits exactly");
    }
}
