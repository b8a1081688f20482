//! The hid task's pure logic (usb_kbd::relay): boot-vs-NKRO choice, the
//! latest report pending on a busy endpoint, the console's rings.

use usb_kbd::relay::{choose, ByteRing, Kind, ReportSink, Reports, SerialIo, SerialRelay};
use usb_kbd::{Busy, BOOT_REPORT_LEN, NKRO_REPORT_LEN};

#[derive(Default)]
struct FakeDev {
    boot_protocol: bool,
    busy: bool,
    boot_sent: Vec<[u8; BOOT_REPORT_LEN]>,
    nkro_sent: Vec<[u8; NKRO_REPORT_LEN]>,
    /// Bytes the host sent, not yet read.
    from_host: Vec<u8>,
    /// Bytes queued for the host.
    to_host: Vec<u8>,
    /// How many more output bytes the interface takes.
    room: usize,
    open: bool,
}

impl ReportSink for FakeDev {
    fn boot_protocol(&self) -> bool {
        self.boot_protocol
    }
    fn send_boot(&mut self, r: &[u8; BOOT_REPORT_LEN]) -> Result<(), Busy> {
        if self.busy {
            return Err(Busy);
        }
        self.boot_sent.push(*r);
        Ok(())
    }
    fn send_nkro(&mut self, r: &[u8; NKRO_REPORT_LEN]) -> Result<(), Busy> {
        if self.busy {
            return Err(Busy);
        }
        self.nkro_sent.push(*r);
        Ok(())
    }
}

impl SerialIo for FakeDev {
    fn serial_read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.from_host.len());
        buf[..n].copy_from_slice(&self.from_host[..n]);
        self.from_host.drain(..n);
        n
    }
    fn serial_write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.room);
        self.to_host.extend_from_slice(&data[..n]);
        self.room -= n;
        n
    }
    fn serial_open(&self) -> bool {
        self.open
    }
}

fn boot(k: u8) -> [u8; BOOT_REPORT_LEN] {
    [0, 0, k, 0, 0, 0, 0, 0]
}

fn nkro(k: u8) -> [u8; NKRO_REPORT_LEN] {
    let mut r = [0; NKRO_REPORT_LEN];
    r[1 + k as usize / 8] |= 1 << (k % 8);
    r
}

#[test]
fn boot_in_boot_protocol_nkro_otherwise_or_the_only_one_built() {
    assert_eq!(choose(true, true, true), Some(Kind::Boot));
    assert_eq!(choose(false, true, true), Some(Kind::Nkro));
    assert_eq!(choose(false, true, false), Some(Kind::Boot));
    assert_eq!(choose(true, true, false), Some(Kind::Boot));
    assert_eq!(choose(true, false, true), Some(Kind::Nkro));
    assert_eq!(choose(false, false, true), Some(Kind::Nkro));
    assert_eq!(choose(true, false, false), None);
}

#[test]
fn one_state_goes_out_once_on_the_chosen_interface() {
    let mut dev = FakeDev::default();
    let mut r = Reports::new(true, true);
    r.set(&boot(4), &nkro(4));
    assert_eq!(r.flush(&mut dev), Some(Kind::Nkro));
    assert_eq!(r.flush(&mut dev), None);
    assert_eq!(dev.nkro_sent, vec![nkro(4)]);
    assert!(dev.boot_sent.is_empty(), "never the same keys on both interfaces");
}

#[test]
fn busy_endpoint_keeps_only_the_latest_state() {
    let mut dev = FakeDev { busy: true, boot_protocol: true, ..FakeDev::default() };
    let mut r = Reports::new(true, true);
    for k in 4..40 {
        r.set(&boot(k), &nkro(k));
        assert_eq!(r.flush(&mut dev), None);
        assert!(r.pending());
    }
    dev.busy = false;
    assert_eq!(r.flush(&mut dev), Some(Kind::Boot));
    assert!(!r.pending());
    assert_eq!(dev.boot_sent, vec![boot(39)], "the latest, once: no queue of old states");
    assert_eq!(r.flush(&mut dev), None);
}

#[test]
fn protocol_switch_resends_the_current_state_on_the_other_interface() {
    let mut dev = FakeDev { boot_protocol: true, ..FakeDev::default() };
    let mut r = Reports::new(true, true);
    r.set(&boot(5), &nkro(5));
    assert_eq!(r.flush(&mut dev), Some(Kind::Boot));
    dev.boot_protocol = false;
    assert_eq!(r.flush(&mut dev), Some(Kind::Nkro));
    assert_eq!(dev.nkro_sent, vec![nkro(5)]);
    assert_eq!(r.flush(&mut dev), None);
}

#[test]
fn only_nkro_built_sends_nkro_even_in_boot_protocol() {
    let mut dev = FakeDev { boot_protocol: true, ..FakeDev::default() };
    let mut r = Reports::new(false, true);
    r.set(&[0; BOOT_REPORT_LEN], &nkro(6));
    assert_eq!(r.flush(&mut dev), Some(Kind::Nkro));
    assert!(dev.boot_sent.is_empty());
    let mut r = Reports::new(true, false);
    r.set(&boot(6), &[0; NKRO_REPORT_LEN]);
    dev.boot_protocol = false;
    assert_eq!(r.flush(&mut dev), Some(Kind::Boot));
    assert_eq!(dev.boot_sent, vec![boot(6)]);
}

#[test]
fn byte_ring_wraps_and_bounds() {
    let mut ring: ByteRing<8> = ByteRing::new();
    assert_eq!(ring.push(b"abcdef"), 6);
    let mut out = [0u8; 4];
    assert_eq!(ring.pop(&mut out), 4);
    assert_eq!(&out, b"abcd");
    assert_eq!(ring.push(b"123456789"), 6, "takes what fits");
    assert_eq!(ring.free(), 0);
    let mut all = [0u8; 16];
    assert_eq!(ring.peek(&mut all), 8);
    assert_eq!(&all[..8], b"ef123456");
    ring.consume(100);
    assert!(ring.is_empty());
}

#[test]
fn serial_output_waits_in_a_bounded_ring_and_drains_by_packets() {
    let mut dev = FakeDev { open: true, room: 0, ..FakeDev::default() };
    let mut s: SerialRelay<256> = SerialRelay::new();
    let data: Vec<u8> = (0..200u8).collect();
    assert_eq!(s.write(&data, true), 200);
    assert_eq!(s.write(&data, true), 56, "only what fits: never unbounded");
    s.pump(&mut dev);
    assert_eq!(s.to_host_len(), 256, "the interface took nothing");
    dev.room = 100;
    s.pump(&mut dev);
    assert_eq!(dev.to_host, data[..100].to_vec());
    dev.room = 1000;
    s.pump(&mut dev);
    assert_eq!(s.to_host_len(), 0);
    assert_eq!(dev.to_host.len(), 256);
    assert_eq!(&dev.to_host[200..], &data[..56]);
}

#[test]
fn serial_output_without_a_terminal_is_discarded_not_kept() {
    let mut dev = FakeDev { room: 1000, ..FakeDev::default() };
    let mut s: SerialRelay<64> = SerialRelay::new();
    assert_eq!(s.write(b"hello", true), 5);
    assert_eq!(s.write(b"more output", false), 11);
    assert_eq!(s.to_host_len(), 0, "stale output dropped with the port closed");
    assert_eq!(s.take_discarded(), 11);
    assert_eq!(s.take_discarded(), 0);
    s.pump(&mut dev);
    assert!(dev.to_host.is_empty());
}

#[test]
fn serial_input_fills_the_ring_and_leaves_the_rest_in_the_device() {
    let mut dev = FakeDev { open: true, ..FakeDev::default() };
    dev.from_host = (0..100u8).collect();
    let mut s: SerialRelay<32> = SerialRelay::new();
    s.pump(&mut dev);
    assert_eq!(s.from_host_len(), 32);
    assert_eq!(dev.from_host.len(), 68, "backpressure: the rest stays with the device");
    let mut out = [0u8; 200];
    assert_eq!(s.read(&mut out), 32);
    assert_eq!(&out[..32], &(0..32u8).collect::<Vec<_>>()[..]);
    s.pump(&mut dev);
    assert_eq!(s.read(&mut out[..10]), 10);
    assert_eq!(out[0], 32);
    assert_eq!(s.read(&mut out), 22);
    assert_eq!(s.read(&mut out), 0);
}
