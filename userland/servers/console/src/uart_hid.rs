//! uart_hid.rs - the console on the keyboard's USB CDC-ACM interface
//! (board.toml [console] usb_cdc = true, in a CONFIG_TWIN=n image with
//! CONFIG_KEYBOARD: the real nagi-kb, which has no probe UART). The port
//! belongs to the USB device in the `hid` task; this backend relays
//! through it (docs/protocols.md, "hid"): HID_SERIAL_WRITE with up to
//! HID_SERIAL_MAX bytes of output, HID_SERIAL_READ for input, on a
//! connection init grants CONNECT_HID_SERIAL (policy::RIGHTS). The console
//! polls (no interrupt of its own): every POLL_MS and on every request.
//!
//! NEVER RUN ON HARDWARE: QEMU has no USB model of this machine.
//!
//! Output collects in a buffer that goes to hid when full and at the end
//! of every console write (`flush`). If hid's ring is full, the rest is
//! retried for at most FLUSH_TRIES * FLUSH_WAIT_MS while hid keeps taking
//! bytes, then dropped: the console never blocks on a slow host. hid
//! itself discards output while no terminal has the port open. hid gone
//! (E_CLOSED, restarted by init): looked up again on the next use; lookups
//! that fail are retried at most every RETRY_MS.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use runtime::abi::*;
use runtime::proto::*;
use runtime::{ks, service, Channel, Error, Msg, Result};

/// Tries for one flush while hid's ring is full, and the pause between.
const FLUSH_TRIES: u32 = 10;
const FLUSH_WAIT_MS: u32 = 2;
/// Pause between failed lookups of "hid".
const RETRY_MS: u64 = 1000;

struct Bufs {
    out: [u8; HID_SERIAL_MAX],
    out_len: usize,
    input: [u8; HID_SERIAL_MAX],
    in_head: usize,
    in_len: usize,
}

/// The buffers live in a static (only an image with this backend links
/// it): the console's stack and its other backends stay as they were.
struct Static(UnsafeCell<Bufs>);
// SAFETY: TAKEN hands out the only reference, once; the console has one thread.
unsafe impl Sync for Static {}
static BUFS: Static =
    Static(UnsafeCell::new(Bufs { out: [0; HID_SERIAL_MAX], out_len: 0, input: [0; HID_SERIAL_MAX], in_head: 0, in_len: 0 }));
static TAKEN: AtomicBool = AtomicBool::new(false);

pub struct HidSerial {
    b: &'static mut Bufs,
    hid: Option<Channel>,
    /// No lookup before this uptime (ms) after one failed.
    retry_at: u64,
    /// A failed lookup was said (once, on the kernel's UART).
    said: bool,
}

impl HidSerial {
    pub fn new() -> Result<HidSerial> {
        if TAKEN.swap(true, Ordering::AcqRel) {
            return Err(Error::Busy);
        }
        // SAFETY: the swap above made this the only reference.
        let b = unsafe { &mut *BUFS.0.get() };
        Ok(HidSerial { b, hid: None, retry_at: 0, said: false })
    }

    /// Call hid, connecting first if needed; a closed channel is dropped
    /// (the next call looks hid up again).
    fn call(&mut self, m: &mut Msg) -> Result<u64> {
        let ch = match self.hid {
            Some(ch) => ch,
            None => {
                if ks::uptime() < self.retry_at {
                    return Err(Error::NoEnt);
                }
                match service::lookup("hid") {
                    Ok(ch) => *self.hid.insert(ch),
                    Err(e) => {
                        self.retry_at = ks::uptime() + RETRY_MS;
                        if !self.said {
                            self.said = true;
                            runtime::debug_println!("console: USB console: no hid ({}); output is lost until it runs", e);
                        }
                        return Err(e);
                    }
                }
            }
        };
        let r = ch.call(m).and_then(|_| m.result());
        if r == Err(Error::Closed) {
            let _ = ch.close();
            self.hid = None;
        }
        r
    }

    /// Always: output waits in the buffer (flushed when full).
    pub fn tx_ready(&self) -> bool {
        true
    }

    pub fn put(&mut self, byte: u8) {
        if self.b.out_len == HID_SERIAL_MAX {
            self.flush();
        }
        if self.b.out_len < HID_SERIAL_MAX {
            self.b.out[self.b.out_len] = byte;
            self.b.out_len += 1;
        }
    }

    /// Hand the buffered output to hid (bounded retries, then dropped).
    pub fn flush(&mut self) {
        let mut done = 0;
        let mut idle = 0;
        while done < self.b.out_len && idle < FLUSH_TRIES {
            let mut m = Msg::new(HID_SERIAL_WRITE);
            let _ = m.push_bytes(&self.b.out[done..self.b.out_len]);
            match self.call(&mut m) {
                Ok(0) => {
                    idle += 1;
                    let _ = service::sleep_ms(FLUSH_WAIT_MS);
                }
                Ok(n) => done += (n as usize).min(self.b.out_len - done),
                Err(_) => break, // no hid (yet): the output is lost, as on an unplugged UART
            }
        }
        self.b.out_len = 0;
    }

    /// One byte from the host, if any (refilled by HID_SERIAL_READ).
    pub fn try_read(&mut self) -> (Option<u8>, bool) {
        if self.b.in_len == 0 {
            let mut m = Msg::new(HID_SERIAL_READ);
            if let Ok(n) = self.call(&mut m) {
                let n = (n as usize).min(m.payload().len()).min(HID_SERIAL_MAX);
                self.b.input[..n].copy_from_slice(&m.payload()[..n]);
                self.b.in_head = 0;
                self.b.in_len = n;
            }
        }
        if self.b.in_len == 0 {
            return (None, false);
        }
        let byte = self.b.input[self.b.in_head];
        self.b.in_head += 1;
        self.b.in_len -= 1;
        (Some(byte), false)
    }
}

/// The image puts the console on USB (see the module docs).
pub const ENABLED: bool = runtime::config::CONFIG_KEYBOARD
    && !runtime::config::CONFIG_TWIN
    && runtime::config::BOARD_CONSOLE_USB_CDC != 0;

#[allow(dead_code)]
const _: () = assert!(HID_SERIAL_MAX <= MSG_INLINE_MAX);
