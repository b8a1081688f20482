//! What the `hid` task keeps between the keyboard pipeline, the console
//! and the USB device: pure logic, host-tested (tests/relay.rs), generic
//! over the device so a fake stands in for it.
//!
//! - [`choose`]: which report encoding goes out (docs/usb.md): the boot
//!   report while the host holds interface 0 in boot protocol (a BIOS),
//!   the NKRO report otherwise; when the image builds only one encoding
//!   (Kconfig KEYBOARD_REPORT_BOOT / _NKRO), always that one, on its own
//!   interface.
//! - [`Reports`]: the LATEST HID state's reports and whether it still
//!   waits for its endpoint. A newer state replaces a waiting one (never
//!   a queue that grows: the host wants the current keys, not history);
//!   `flush` on every poll resends it until the endpoint takes it. When
//!   the host switches protocol, the current state goes out again on the
//!   other interface.
//! - [`SerialRelay`]: the console's bytes between the `hid` requests
//!   (HID_SERIAL_WRITE / HID_SERIAL_READ) and the CDC-ACM interface, in
//!   two fixed rings: nothing is buffered without bound, and a full ring
//!   from the host stops reading the interface (usbd-serial then NAKs
//!   the host: backpressure, nothing lost).

use crate::{Busy, BOOT_REPORT_LEN, NKRO_REPORT_LEN};

/// Which report a transfer carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 8 bytes on interface 0 (the boot keyboard).
    Boot,
    /// 29 bytes on interface 1 (the NKRO keyboard).
    Nkro,
}

/// The report to send now: `boot_protocol` is what the host set on
/// interface 0; `boot_built` / `nkro_built` which encodings the image has
/// (at least one; None if neither).
pub const fn choose(boot_protocol: bool, boot_built: bool, nkro_built: bool) -> Option<Kind> {
    match (boot_built, nkro_built) {
        (true, true) => Some(if boot_protocol { Kind::Boot } else { Kind::Nkro }),
        (true, false) => Some(Kind::Boot),
        (false, true) => Some(Kind::Nkro),
        (false, false) => None,
    }
}

/// The device as `Reports` sees it (`UsbKeyboard` implements it).
pub trait ReportSink {
    fn boot_protocol(&self) -> bool;
    fn send_boot(&mut self, report: &[u8; BOOT_REPORT_LEN]) -> Result<(), Busy>;
    fn send_nkro(&mut self, report: &[u8; NKRO_REPORT_LEN]) -> Result<(), Busy>;
}

/// The latest HID state, encoded, and whether it still has to go out.
pub struct Reports {
    boot: [u8; BOOT_REPORT_LEN],
    nkro: [u8; NKRO_REPORT_LEN],
    boot_built: bool,
    nkro_built: bool,
    /// The state has not been taken by its endpoint yet.
    pending: bool,
    /// The interface the latest state went (or is going) out on.
    target: Option<Kind>,
}

impl Reports {
    /// Nothing to send yet (the first `flush` in a configured device
    /// sends the all-keys-up report once).
    pub const fn new(boot_built: bool, nkro_built: bool) -> Self {
        Reports {
            boot: [0; BOOT_REPORT_LEN],
            nkro: [0; NKRO_REPORT_LEN],
            boot_built,
            nkro_built,
            pending: false,
            target: None,
        }
    }

    /// A new state: its boot and NKRO encodings (an encoding the image
    /// does not build is never sent; pass zeros). Replaces a waiting one.
    pub fn set(&mut self, boot: &[u8; BOOT_REPORT_LEN], nkro: &[u8; NKRO_REPORT_LEN]) {
        self.boot = *boot;
        self.nkro = *nkro;
        self.pending = true;
    }

    /// A report waits for its endpoint.
    pub fn pending(&self) -> bool {
        self.pending
    }

    /// Hand the latest state to its endpoint if it waits (or if the host
    /// switched protocol since it went out); on Busy it stays pending for
    /// the next call. Returns the kind sent, if one was.
    pub fn flush<S: ReportSink>(&mut self, dev: &mut S) -> Option<Kind> {
        let kind = choose(dev.boot_protocol(), self.boot_built, self.nkro_built)?;
        if self.target != Some(kind) {
            self.target = Some(kind);
            self.pending = true;
        }
        if !self.pending {
            return None;
        }
        let r = match kind {
            Kind::Boot => dev.send_boot(&self.boot),
            Kind::Nkro => dev.send_nkro(&self.nkro),
        };
        r.ok()?;
        self.pending = false;
        Some(kind)
    }
}

/// A fixed byte ring.
pub struct ByteRing<const N: usize> {
    buf: [u8; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Default for ByteRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ByteRing<N> {
    pub const fn new() -> Self {
        ByteRing { buf: [0; N], head: 0, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn free(&self) -> usize {
        N - self.len
    }

    /// Append what fits of `data`; how many were taken.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        for &b in &data[..n] {
            self.buf[(self.head + self.len) % N] = b;
            self.len += 1;
        }
        n
    }

    /// Copy up to `out.len()` of the oldest bytes, leaving them in place.
    pub fn peek(&self, out: &mut [u8]) -> usize {
        let n = self.len.min(out.len());
        for (k, o) in out[..n].iter_mut().enumerate() {
            *o = self.buf[(self.head + k) % N];
        }
        n
    }

    /// Drop the `n` oldest bytes (at most len()).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % N;
        self.len -= n;
    }

    /// Take up to `out.len()` of the oldest bytes.
    pub fn pop(&mut self, out: &mut [u8]) -> usize {
        let n = self.peek(out);
        self.consume(n);
        n
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

/// The CDC-ACM interface as `SerialRelay` sees it (`UsbKeyboard`
/// implements it).
pub trait SerialIo {
    /// Bytes the host sent, up to `buf.len()`; 0 when none.
    fn serial_read(&mut self, buf: &mut [u8]) -> usize;
    /// Queue bytes for the host; how many were taken (0 when full).
    fn serial_write(&mut self, data: &[u8]) -> usize;
    /// A terminal holds the port open (DTR) on a configured device.
    fn serial_open(&self) -> bool;
}

/// Bytes moved per step between a ring and the interface: one full-speed
/// bulk packet.
pub const SERIAL_CHUNK: usize = 64;

/// The console's two rings in `hid`.
pub struct SerialRelay<const N: usize> {
    to_host: ByteRing<N>,
    from_host: ByteRing<N>,
    /// Output discarded while no terminal had the port open.
    discarded: u32,
}

impl<const N: usize> Default for SerialRelay<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> SerialRelay<N> {
    pub const fn new() -> Self {
        SerialRelay { to_host: ByteRing::new(), from_host: ByteRing::new(), discarded: 0 }
    }

    /// HID_SERIAL_WRITE: console output for the host; how many bytes were
    /// taken. While no terminal holds the port (`open` false) output is
    /// discarded and counted as taken, as a UART with nobody listening
    /// would lose it (and what waited is dropped: it is stale); otherwise
    /// what fits in the ring (the console retries the rest, bounded).
    pub fn write(&mut self, data: &[u8], open: bool) -> usize {
        if !open {
            self.to_host.clear();
            self.discarded = self.discarded.saturating_add(data.len() as u32);
            return data.len();
        }
        self.to_host.push(data)
    }

    /// HID_SERIAL_READ: up to `out.len()` bytes the host sent.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        self.from_host.pop(out)
    }

    /// Bytes waiting for the host.
    pub fn to_host_len(&self) -> usize {
        self.to_host.len()
    }

    /// Bytes from the host waiting for the console.
    pub fn from_host_len(&self) -> usize {
        self.from_host.len()
    }

    /// Output bytes discarded with no terminal (since the last call).
    pub fn take_discarded(&mut self) -> u32 {
        core::mem::replace(&mut self.discarded, 0)
    }

    /// After every poll: output from the ring into the interface while it
    /// takes bytes, input from the interface into the ring while there is
    /// room (a bounded number of steps: each moves a packet or ends).
    pub fn pump<S: SerialIo>(&mut self, dev: &mut S) {
        let mut chunk = [0u8; SERIAL_CHUNK];
        while !self.to_host.is_empty() {
            let n = self.to_host.peek(&mut chunk);
            let taken = dev.serial_write(&chunk[..n]).min(n);
            self.to_host.consume(taken);
            if taken < n {
                break;
            }
        }
        while self.from_host.free() > 0 {
            let room = self.from_host.free().min(SERIAL_CHUNK);
            let got = dev.serial_read(&mut chunk[..room]).min(room);
            self.from_host.push(&chunk[..got]);
            if got == 0 {
                break;
            }
        }
    }
}
