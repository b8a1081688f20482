//! lineedit.rs - the shell's line editor: feed it input bytes, it says what
//! to echo and when a line is complete. CR, LF and CR LF each end a line;
//! backspace (0x08) and DEL (0x7f) erase one character. Characters past
//! LINE_MAX are not kept but counted (`overflow`), so the shell can refuse
//! the line with a message instead of running it cut short. Pure logic,
//! host-tested.

pub const LINE_MAX: usize = 200;

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to show.
    None,
    /// Echo this byte.
    Echo(u8),
    /// Erase the last character on screen ("\x08 \x08").
    Erase,
    /// The line is complete: echo a newline and run `line()`.
    Done,
}

pub struct LineEditor {
    buf: [u8; LINE_MAX],
    len: usize,
    overflow: usize,
    last_cr: bool,
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

impl LineEditor {
    pub const fn new() -> Self {
        LineEditor { buf: [0; LINE_MAX], len: 0, overflow: 0, last_cr: false }
    }

    /// Process one input byte.
    pub fn feed(&mut self, b: u8) -> Action {
        let after_cr = core::mem::replace(&mut self.last_cr, b == b'\r');
        match b {
            b'\n' if after_cr => Action::None,
            b'\r' | b'\n' => Action::Done,
            0x08 | 0x7f if self.overflow > 0 => {
                self.overflow -= 1;
                Action::Erase
            }
            0x08 | 0x7f if self.len > 0 => {
                self.len -= 1;
                Action::Erase
            }
            0x20..=0x7e if self.len < LINE_MAX => {
                self.buf[self.len] = b;
                self.len += 1;
                Action::Echo(b)
            }
            0x20..=0x7e => {
                self.overflow += 1;
                Action::Echo(b)
            }
            _ => Action::None,
        }
    }

    /// The current line (printable ASCII only, so always valid UTF-8).
    pub fn line(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// Characters typed past LINE_MAX (0: the line is whole).
    pub fn overflow(&self) -> usize {
        self.overflow
    }

    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(e: &mut LineEditor, s: &[u8]) -> std::vec::Vec<Action> {
        s.iter().map(|&b| e.feed(b)).collect()
    }

    #[test]
    fn typing_and_enter() {
        let mut e = LineEditor::new();
        let acts = feed_all(&mut e, b"ps\r");
        assert_eq!(acts, [Action::Echo(b'p'), Action::Echo(b's'), Action::Done]);
        assert_eq!(e.line(), "ps");
    }

    #[test]
    fn crlf_is_one_line_end() {
        let mut e = LineEditor::new();
        assert_eq!(e.feed(b'\r'), Action::Done);
        assert_eq!(e.feed(b'\n'), Action::None);
        assert_eq!(e.feed(b'\n'), Action::Done, "a lone LF ends a line");
    }

    #[test]
    fn backspace() {
        let mut e = LineEditor::new();
        feed_all(&mut e, b"ecx");
        assert_eq!(e.feed(0x7f), Action::Erase);
        assert_eq!(e.feed(0x08), Action::Erase);
        feed_all(&mut e, b"cho");
        assert_eq!(e.line(), "echo");
        e.clear();
        assert_eq!(e.feed(0x08), Action::None, "nothing to erase");
    }

    #[test]
    fn controls_ignored_and_length_capped() {
        let mut e = LineEditor::new();
        assert_eq!(e.feed(0x1b), Action::None);
        for _ in 0..LINE_MAX {
            e.feed(b'a');
        }
        assert_eq!(e.overflow(), 0, "exactly LINE_MAX fits");
        for _ in 0..10 {
            assert_eq!(e.feed(b'a'), Action::Echo(b'a'), "echoed as typed");
        }
        assert_eq!(e.line().len(), LINE_MAX);
        assert_eq!(e.overflow(), 10, "what did not fit is counted, not silently cut");
        assert_eq!(e.feed(b'\r'), Action::Done);
        e.clear();
        assert_eq!(e.overflow(), 0);
    }

    #[test]
    fn erasing_the_overflow_makes_the_line_whole() {
        let mut e = LineEditor::new();
        for _ in 0..LINE_MAX + 2 {
            e.feed(b'x');
        }
        assert_eq!(e.feed(0x7f), Action::Erase);
        assert_eq!(e.feed(0x7f), Action::Erase);
        assert_eq!(e.overflow(), 0);
        assert_eq!(e.feed(0x7f), Action::Erase);
        assert_eq!(e.line().len(), LINE_MAX - 1);
    }
}
