//! print.rs - `print!`/`println!`: text goes to the console server once
//! `set_console` has been called (found again by name if it dies and init
//! restarts it), else (and if the console fails) to the kernel console
//! through SYS_DEBUG_WRITE. Formatting happens in a
//! message-sized buffer, so printing never allocates.

use crate::abi::*;
use crate::chan::Channel;
use crate::proto::CONSOLE_WRITE;
use crate::service;
use crate::sys;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicI32, Ordering};

static CONSOLE: AtomicI32 = AtomicI32::new(-1);

/// Send output to the console server behind `ch` from now on.
pub fn set_console(ch: Channel) {
    CONSOLE.store(ch.cid(), Ordering::Relaxed);
}

pub fn console() -> Option<Channel> {
    match CONSOLE.load(Ordering::Relaxed) {
        cid if cid >= 0 => Some(Channel::from_raw(cid)),
        _ => None,
    }
}

/// IPC_CALL to the console server with an inline request (the reply
/// replaces `m`). If the server died, look "console" up again and resend
/// (service::with_reconnect); if that fails, printing falls back to the
/// kernel console for good. E_NOENT without a console server.
pub fn console_call(m: &mut Msg) -> crate::error::Result<()> {
    let mut slot = console();
    if slot.is_none() {
        return Err(crate::error::Error::NoEnt);
    }
    let req = *m;
    let r = service::with_reconnect(&mut slot, || service::lookup("console"), |ch| {
        *m = req;
        ch.call(m)
    });
    CONSOLE.store(slot.map_or(-1, |ch| ch.cid()), Ordering::Relaxed);
    r
}

/// Write raw bytes to the console (server, else kernel).
pub fn write_bytes(bytes: &[u8]) {
    for chunk in bytes.chunks(MSG_INLINE_MAX) {
        let mut m = Msg::new(CONSOLE_WRITE);
        let sent = m.push_bytes(chunk).is_ok() && console_call(&mut m).is_ok();
        if !sent {
            sys::debug_write(chunk);
        }
    }
}

/// A fixed buffer that flushes to `sink` when full and on drop.
pub struct BufWriter<F: FnMut(&[u8])> {
    buf: [u8; MSG_INLINE_MAX],
    len: usize,
    sink: F,
}

impl<F: FnMut(&[u8])> BufWriter<F> {
    pub fn new(sink: F) -> Self {
        BufWriter { buf: [0; MSG_INLINE_MAX], len: 0, sink }
    }

    pub fn flush(&mut self) {
        if self.len > 0 {
            (self.sink)(&self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl<F: FnMut(&[u8])> Write for BufWriter<F> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

impl<F: FnMut(&[u8])> Drop for BufWriter<F> {
    fn drop(&mut self) {
        self.flush();
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    let mut w = BufWriter::new(write_bytes);
    let _ = w.write_fmt(args);
}

/// Print straight to the kernel console (panics, early boot).
#[doc(hidden)]
pub fn _debug_print(args: fmt::Arguments) {
    let mut w = BufWriter::new(sys::debug_write);
    let _ = w.write_fmt(args);
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::print::_print(format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::print::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Print to the kernel console even when a console server is connected.
#[macro_export]
macro_rules! debug_println {
    ($($arg:tt)*) => { $crate::print::_debug_print(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn bufwriter_flushes_in_message_sized_chunks() {
        let mut out: Vec<Vec<u8>> = Vec::new();
        {
            let mut w = BufWriter::new(|b: &[u8]| out.push(b.to_vec()));
            for i in 0..100 {
                write!(w, "{:03} ", i).unwrap();
            }
        }
        assert!(out.iter().all(|c| c.len() <= MSG_INLINE_MAX));
        let all: Vec<u8> = out.concat();
        assert_eq!(all.len(), 400);
        assert!(all.starts_with(b"000 001 "));
        assert!(all.ends_with(b"099 "));
    }
}
