//! Enumerates the composite device the way a host does, over a fake
//! `UsbBus` that plays the host's side of each endpoint: SETUP and OUT
//! packets queue on an OUT endpoint, the device's IN packets wait on their
//! endpoint until the host takes them (then `poll` reports the IN
//! completion), STALL is a flag. Then checks the descriptors the host got
//! and the bytes the reports and the console put on their endpoints.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use keyboard::keymap::{mods, HidState};
use keyboard::report::{encode_boot, encode_nkro, BOOT_LEN, NKRO_LEN};
use usb_device::bus::{PollResult, UsbBus, UsbBusAllocator};
use usb_device::endpoint::{EndpointAddress, EndpointType};
use usb_device::{UsbDirection, UsbError};
use usb_kbd::descriptors::{BOOT_KEYBOARD, NKRO_KEYBOARD};
use usb_kbd::{Busy, UsbKeyboard, BOOT_REPORT_LEN, NKRO_REPORT_LEN};

const VID: u16 = 0x1209;
const PID: u16 = 0x0001;

// ---------------------------------------------------------------- the bus

struct Ep {
    addr: EndpointAddress,
    kind: EndpointType,
    max: u16,
}

#[derive(Default)]
struct State {
    eps: Vec<Ep>,
    out: [VecDeque<(bool, Vec<u8>)>; 16], // (is SETUP, packet) per OUT endpoint
    pending_in: [Option<Vec<u8>>; 16],    // the packet each IN endpoint holds
    in_complete: u16,
    stalled: Vec<EndpointAddress>,
    reset_pending: bool,
    address: u8,
}

struct FakeBus(Arc<Mutex<State>>);

#[derive(Clone)]
struct Host(Arc<Mutex<State>>);

impl UsbBus for FakeBus {
    fn alloc_ep(
        &mut self,
        dir: UsbDirection,
        addr: Option<EndpointAddress>,
        kind: EndpointType,
        max: u16,
        _interval: u8,
    ) -> usb_device::Result<EndpointAddress> {
        let mut s = self.0.lock().unwrap();
        let taken = |s: &State, a: EndpointAddress| s.eps.iter().any(|e| e.addr == a);
        let addr = match addr {
            Some(a) if taken(&s, a) => return Err(UsbError::InvalidEndpoint),
            Some(a) => a,
            // Like synopsys-usb-otg: the lowest free number of that direction, 6 in all.
            None => (1..6)
                .map(|i| EndpointAddress::from_parts(i, dir))
                .find(|&a| !taken(&s, a))
                .ok_or(UsbError::EndpointOverflow)?,
        };
        s.eps.push(Ep { addr, kind, max });
        Ok(addr)
    }

    fn enable(&mut self) {
        self.0.lock().unwrap().reset_pending = true; // the host resets a new device
    }

    fn reset(&self) {
        let mut s = self.0.lock().unwrap();
        s.out.iter_mut().for_each(VecDeque::clear);
        s.pending_in = Default::default();
        s.in_complete = 0;
        s.stalled.clear();
        s.address = 0;
    }

    fn set_device_address(&self, addr: u8) {
        self.0.lock().unwrap().address = addr;
    }

    fn write(&self, ep: EndpointAddress, buf: &[u8]) -> usb_device::Result<usize> {
        let mut s = self.0.lock().unwrap();
        let max = s
            .eps
            .iter()
            .find(|e| e.addr == ep && ep.is_in())
            .ok_or(UsbError::InvalidEndpoint)?
            .max;
        if s.pending_in[ep.index()].is_some() {
            return Err(UsbError::WouldBlock);
        }
        if buf.len() > max as usize {
            return Err(UsbError::BufferOverflow);
        }
        s.pending_in[ep.index()] = Some(buf.to_vec());
        Ok(buf.len())
    }

    fn read(&self, ep: EndpointAddress, buf: &mut [u8]) -> usb_device::Result<usize> {
        let mut s = self.0.lock().unwrap();
        if !s.eps.iter().any(|e| e.addr == ep && ep.is_out()) {
            return Err(UsbError::InvalidEndpoint);
        }
        let queue = &mut s.out[ep.index()];
        match queue.front() {
            None => Err(UsbError::WouldBlock),
            Some((_, p)) if p.len() > buf.len() => Err(UsbError::BufferOverflow),
            Some(_) => {
                let (_, p) = queue.pop_front().unwrap();
                buf[..p.len()].copy_from_slice(&p);
                Ok(p.len())
            }
        }
    }

    fn set_stalled(&self, ep: EndpointAddress, stalled: bool) {
        let mut s = self.0.lock().unwrap();
        s.stalled.retain(|&a| a != ep);
        if stalled {
            s.stalled.push(ep);
        }
    }

    fn is_stalled(&self, ep: EndpointAddress) -> bool {
        self.0.lock().unwrap().stalled.contains(&ep)
    }

    fn suspend(&self) {}
    fn resume(&self) {}

    fn poll(&self) -> PollResult {
        let mut s = self.0.lock().unwrap();
        if std::mem::take(&mut s.reset_pending) {
            return PollResult::Reset;
        }
        let (mut ep_out, mut ep_setup) = (0u16, 0u16);
        for (i, q) in s.out.iter().enumerate() {
            match q.front() {
                Some((true, _)) => ep_setup |= 1 << i,
                Some((false, _)) => ep_out |= 1 << i,
                None => {}
            }
        }
        let ep_in_complete = std::mem::take(&mut s.in_complete);
        if ep_out | ep_setup | ep_in_complete == 0 {
            PollResult::None
        } else {
            PollResult::Data {
                ep_out,
                ep_in_complete,
                ep_setup,
            }
        }
    }
}

// ---------------------------------------------------------------- the host

#[derive(Debug, PartialEq)]
struct Stall;

type Kbd = UsbKeyboard<FakeBus>;

impl Host {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }

    /// A SETUP packet on EP0 (which clears a STALL there, as on the wire).
    fn setup(&self, request_type: u8, request: u8, value: u16, index: u16, length: u16) {
        let mut p = vec![request_type, request];
        for v in [value, index, length] {
            p.extend_from_slice(&v.to_le_bytes());
        }
        let mut s = self.state();
        s.stalled.retain(|a| a.index() != 0);
        s.out[0].push_back((true, p));
    }

    fn send_out(&self, ep: u8, data: &[u8]) {
        self.state().out[ep as usize].push_back((false, data.to_vec()));
    }

    /// The packet IN endpoint `ep` holds, if any; taking it completes the
    /// transfer (the device sees that at its next poll).
    fn take_in(&self, ep: u8) -> Option<Vec<u8>> {
        let mut s = self.state();
        let p = s.pending_in[ep as usize].take()?;
        s.in_complete |= 1 << ep;
        Some(p)
    }

    fn ep0_stalled(&self) -> bool {
        self.state().stalled.iter().any(|a| a.index() == 0)
    }

    /// A control read: SETUP, IN data packets until a short one or
    /// `length` bytes, then the zero-length OUT status.
    fn control_in(
        &self,
        kb: &mut Kbd,
        rt: u8,
        req: u8,
        value: u16,
        index: u16,
        length: u16,
    ) -> Result<Vec<u8>, Stall> {
        self.setup(rt, req, value, index, length);
        let mut data = Vec::new();
        for _ in 0..200 {
            kb.poll();
            if let Some(p) = self.take_in(0) {
                let short = p.len() < 64;
                data.extend(p);
                if short || data.len() >= length as usize {
                    kb.poll(); // the device sees the last IN complete (it may queue a ZLP)
                    if let Some(zlp) = self.take_in(0) {
                        assert!(zlp.is_empty(), "extra data after {length} bytes: {zlp:?}");
                        kb.poll();
                    }
                    self.send_out(0, &[]);
                    kb.poll();
                    assert!(self.state().out[0].is_empty(), "status stage not taken");
                    return Ok(data);
                }
            } else if self.ep0_stalled() {
                return Err(Stall);
            }
        }
        panic!("control read {rt:#x}/{req:#x} never finished; got {data:?}");
    }

    /// A control write: SETUP, the data (one packet here), then the
    /// device's zero-length IN status.
    fn control_out(
        &self,
        kb: &mut Kbd,
        rt: u8,
        req: u8,
        value: u16,
        index: u16,
        data: &[u8],
    ) -> Result<(), Stall> {
        assert!(data.len() <= 64);
        self.setup(rt, req, value, index, data.len() as u16);
        kb.poll();
        if !data.is_empty() {
            self.send_out(0, data);
        }
        for _ in 0..200 {
            if let Some(status) = self.take_in(0) {
                assert!(status.is_empty(), "status stage carried {status:?}");
                kb.poll(); // the device sees the status complete (SET_ADDRESS takes effect)
                return Ok(());
            }
            if self.ep0_stalled() {
                return Err(Stall);
            }
            kb.poll();
        }
        panic!("control write {rt:#x}/{req:#x} never finished");
    }

    fn get_descriptor(
        &self,
        kb: &mut Kbd,
        recipient: u8,
        kind: u8,
        index: u8,
        w_index: u16,
        length: u16,
    ) -> Vec<u8> {
        let value = (kind as u16) << 8 | index as u16;
        self.control_in(kb, 0x80 | recipient, 6, value, w_index, length)
            .expect("GET_DESCRIPTOR stalled")
    }
}

/// A new device on a fake bus, with the host's handle on it.
fn device() -> (Kbd, Host) {
    let state = Arc::new(Mutex::new(State::default()));
    let alloc: &'static UsbBusAllocator<FakeBus> =
        Box::leak(Box::new(UsbBusAllocator::new(FakeBus(state.clone()))));
    (UsbKeyboard::new(alloc, VID, PID), Host(state))
}

// ---------------------------------------------------------------- descriptors

#[derive(Debug, Default)]
struct Interface {
    number: u8,
    class: u8,
    subclass: u8,
    protocol: u8,
    string: u8,
    hid_report_len: Option<u16>,
    endpoints: Vec<(u8, u8, u16, u8)>, // bEndpointAddress, bmAttributes, wMaxPacketSize, bInterval
}

#[derive(Debug)]
struct Config {
    total_len: u16,
    num_interfaces: u8,
    value: u8,
    max_power_2ma: u8,
    iads: Vec<(u8, u8, u8)>, // bFirstInterface, bInterfaceCount, bFunctionClass
    interfaces: Vec<Interface>,
}

fn parse_config(d: &[u8]) -> Config {
    assert_eq!((d[0], d[1]), (9, 2), "not a configuration descriptor");
    let total_len = u16::from_le_bytes([d[2], d[3]]);
    assert_eq!(total_len as usize, d.len(), "wTotalLength");
    let mut c = Config {
        total_len,
        num_interfaces: d[4],
        value: d[5],
        max_power_2ma: d[8],
        iads: vec![],
        interfaces: vec![],
    };
    let mut i = 9;
    while i < d.len() {
        let (len, kind) = (d[i] as usize, d[i + 1]);
        assert!(len >= 2 && i + len <= d.len(), "descriptor at {i} overruns");
        let b = &d[i..i + len];
        match kind {
            0x0B => c.iads.push((b[2], b[3], b[4])),
            0x04 => c.interfaces.push(Interface {
                number: b[2],
                class: b[5],
                subclass: b[6],
                protocol: b[7],
                string: b[8],
                ..Interface::default()
            }),
            0x21 => {
                assert_eq!(len, 9, "HID descriptor length");
                assert_eq!(b[6], 0x22, "the HID descriptor names a report descriptor");
                c.interfaces.last_mut().unwrap().hid_report_len =
                    Some(u16::from_le_bytes([b[7], b[8]]));
            }
            0x05 => {
                assert_eq!(len, 7, "endpoint descriptor length");
                c.interfaces.last_mut().unwrap().endpoints.push((
                    b[2],
                    b[3],
                    u16::from_le_bytes([b[4], b[5]]),
                    b[6],
                ));
            }
            0x24 => {} // CDC functional descriptors
            other => panic!("unexpected descriptor type {other:#x}"),
        }
        i += len;
    }
    c
}

/// What a host's HID parser needs of a report descriptor: the bits of the
/// input and output reports. Panics on what a parser would reject.
fn report_bits(d: &[u8]) -> (u32, u32) {
    let (mut size, mut count, mut depth, mut input, mut output) = (0u32, 0u32, 0i32, 0u32, 0u32);
    let mut i = 0;
    while i < d.len() {
        let prefix = d[i];
        assert_ne!(prefix, 0xFE, "long items are not used");
        let n = [0, 1, 2, 4][(prefix & 3) as usize];
        assert!(i + 1 + n <= d.len(), "item at {i} overruns");
        let data = d[i + 1..i + 1 + n]
            .iter()
            .rev()
            .fold(0u32, |a, &b| a << 8 | b as u32);
        match prefix & 0xFC {
            0x74 => size = data,  // Report Size
            0x94 => count = data, // Report Count
            0x80 => input += size * count,
            0x90 => output += size * count,
            0xA0 => depth += 1, // Collection
            0xC0 => {
                depth -= 1;
                assert!(depth >= 0, "End Collection without a Collection");
            }
            0x84 => panic!("no report IDs: the endpoint bytes are the report"),
            _ => {}
        }
        i += 1 + n;
    }
    assert_eq!(depth, 0, "unclosed collection");
    (input, output)
}

fn string(host: &Host, kb: &mut Kbd, index: u8) -> String {
    let d = host.get_descriptor(kb, 0, 3, index, 0x0409, 255);
    assert_eq!(d[1], 3);
    let units: Vec<u16> = d[2..d[0] as usize]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

/// Enumerates as Linux does (device descriptor, address, configuration
/// descriptor, SET_CONFIGURATION); returns the parsed configuration.
fn enumerate(kb: &mut Kbd, host: &Host) -> Config {
    kb.poll(); // the bus reset
    let dev = host.get_descriptor(kb, 0, 1, 0, 0, 64);
    assert_eq!(dev.len(), 18);
    host.control_out(kb, 0x00, 5, 7, 0, &[]).unwrap(); // SET_ADDRESS 7
    assert_eq!(host.state().address, 7);
    let head = host.get_descriptor(kb, 0, 2, 0, 0, 9);
    let total = u16::from_le_bytes([head[2], head[3]]);
    let config = parse_config(&host.get_descriptor(kb, 0, 2, 0, 0, total));
    assert!(!kb.configured());
    host.control_out(kb, 0x00, 9, config.value as u16, 0, &[])
        .unwrap(); // SET_CONFIGURATION
    assert!(kb.configured());
    config
}

fn in_endpoint(config: &Config, interface: u8) -> u8 {
    let ifc = config
        .interfaces
        .iter()
        .find(|i| i.number == interface)
        .unwrap();
    let ep = ifc
        .endpoints
        .iter()
        .find(|e| e.0 & 0x80 != 0)
        .expect("an IN endpoint");
    ep.0 & 0x0F
}

// ---------------------------------------------------------------- tests

#[test]
fn device_descriptor() {
    let (mut kb, host) = device();
    kb.poll();
    let d = host.get_descriptor(&mut kb, 0, 1, 0, 0, 18);
    assert_eq!((d[0], d[1]), (18, 1));
    assert_eq!(
        (d[4], d[5], d[6]),
        (0xEF, 0x02, 0x01),
        "composite with IADs"
    );
    assert_eq!(d[7], 64, "EP0 max packet");
    assert_eq!(u16::from_le_bytes([d[8], d[9]]), VID);
    assert_eq!(u16::from_le_bytes([d[10], d[11]]), PID);
    assert_eq!(d[17], 1, "one configuration");
    // A host's first request asks for 64 bytes and gets the 18 there are.
    assert_eq!(host.get_descriptor(&mut kb, 0, 1, 0, 0, 64), d);
    assert_eq!(string(&host, &mut kb, d[14]), usb_kbd::MANUFACTURER);
    assert_eq!(string(&host, &mut kb, d[15]), usb_kbd::PRODUCT);
}

#[test]
fn configuration_has_boot_nkro_and_cdc_acm() {
    let (mut kb, host) = device();
    let c = enumerate(&mut kb, &host);
    assert_eq!(c.num_interfaces, 4);
    assert!(c.total_len <= 256);
    assert_eq!(c.max_power_2ma, 50, "100 mA");
    let classes: Vec<_> = c
        .interfaces
        .iter()
        .map(|i| (i.number, i.class, i.subclass, i.protocol))
        .collect();
    assert_eq!(
        classes,
        [
            (0, 0x03, 0x01, 0x01), // HID, boot subclass, keyboard
            (1, 0x03, 0x00, 0x00), // HID, no subclass (report protocol only)
            (2, 0x02, 0x02, 0x00), // CDC communications, ACM
            (3, 0x0A, 0x00, 0x00), // CDC data
        ]
    );
    assert_eq!(c.iads, [(2, 2, 0x02)], "one IAD binds the CDC pair");
    // Keyboards: one interrupt IN endpoint each, polled every 1 ms.
    for n in [0, 1] {
        let ifc = &c.interfaces[n];
        assert_eq!(ifc.endpoints.len(), 1);
        let (addr, attrs, max, interval) = ifc.endpoints[0];
        assert!(addr & 0x80 != 0, "IN");
        assert_eq!(attrs & 3, 3, "interrupt");
        assert!(max as usize >= [BOOT_REPORT_LEN, NKRO_REPORT_LEN][n]);
        assert_eq!(max, 64, "usbd-hid's endpoint size");
        assert_eq!(interval, 1);
    }
    assert_ne!(in_endpoint(&c, 0), in_endpoint(&c, 1));
    assert_eq!(
        c.interfaces[0].hid_report_len,
        Some(BOOT_KEYBOARD.len() as u16)
    );
    assert_eq!(
        c.interfaces[1].hid_report_len,
        Some(NKRO_KEYBOARD.len() as u16)
    );
    // CDC: an interrupt IN notification endpoint, bulk IN and OUT of 64.
    let comm = &c.interfaces[2].endpoints;
    assert_eq!((comm.len(), comm[0].0 & 0x80, comm[0].1 & 3), (1, 0x80, 3));
    let mut data: Vec<_> = c.interfaces[3]
        .endpoints
        .iter()
        .map(|e| (e.0 & 0x80, e.1 & 3, e.2))
        .collect();
    data.sort();
    assert_eq!(data, [(0x00, 2, 64), (0x80, 2, 64)]);
    assert_eq!(
        string(&host, &mut kb, c.interfaces[2].string),
        usb_kbd::CONSOLE_NAME
    );
    // 6 endpoints per direction on the STM32L4 OTG FS: EP0 + what we use.
    let s = host.state();
    assert!(s.eps.iter().all(|e| e.addr.index() < 6));
    assert_eq!(
        s.eps
            .iter()
            .filter(|e| e.kind == EndpointType::Interrupt)
            .count(),
        3
    );
}

#[test]
fn hid_report_descriptors_are_served_and_parse() {
    let (mut kb, host) = device();
    enumerate(&mut kb, &host);
    for (interface, want, bits) in [(0u16, BOOT_KEYBOARD, (64, 8)), (1, NKRO_KEYBOARD, (232, 0))] {
        let got = host.get_descriptor(&mut kb, 1, 0x22, 0, interface, want.len() as u16 + 64);
        assert_eq!(got, want, "interface {interface}");
        assert_eq!(
            report_bits(&got),
            bits,
            "interface {interface}: input, output bits"
        );
    }
    assert_eq!(report_bits(BOOT_KEYBOARD).0 / 8, BOOT_LEN as u32);
    assert_eq!(report_bits(NKRO_KEYBOARD).0 / 8, NKRO_LEN as u32);
    assert_eq!((BOOT_REPORT_LEN, NKRO_REPORT_LEN), (BOOT_LEN, NKRO_LEN));
}

#[test]
fn boot_protocol_can_be_selected_on_interface_0_only() {
    let (mut kb, host) = device();
    enumerate(&mut kb, &host);
    // Report protocol after enumeration, until the host asks for boot (0).
    assert!(!kb.boot_protocol());
    host.control_out(&mut kb, 0x21, 0x0B, 0, 0, &[]).unwrap(); // SET_PROTOCOL boot
    assert!(kb.boot_protocol());
    // usbd-hid is forced to boot on interface 0 (so it sends in either
    // protocol): GET_PROTOCOL says boot whatever the host set.
    assert_eq!(host.control_in(&mut kb, 0xA1, 0x03, 0, 0, 1), Ok(vec![0]));
    host.control_out(&mut kb, 0x21, 0x0B, 1, 0, &[]).unwrap(); // back to report
    assert!(!kb.boot_protocol());
    // Interface 1 has no boot protocol: SET_PROTOCOL there stalls.
    assert_eq!(host.control_out(&mut kb, 0x21, 0x0B, 0, 1, &[]), Err(Stall));
    assert!(!kb.boot_protocol());
    // A bus reset returns to report protocol.
    host.control_out(&mut kb, 0x21, 0x0B, 0, 0, &[]).unwrap();
    host.state().reset_pending = true;
    kb.poll();
    assert!(!kb.boot_protocol() && !kb.configured());
    // SET_IDLE (Windows and Linux send it) is accepted on both.
    for interface in [0, 1] {
        host.control_out(&mut kb, 0x21, 0x0A, 0, interface, &[])
            .unwrap();
    }
}

#[test]
fn reports_reach_their_endpoints() {
    let (mut kb, host) = device();
    let c = enumerate(&mut kb, &host);
    let (boot_ep, nkro_ep) = (in_endpoint(&c, 0), in_endpoint(&c, 1));
    // Boot reports go out in report protocol too (what an OS leaves set).
    assert!(!kb.boot_protocol());

    let mut s = HidState {
        mods: mods::LSHIFT,
        ..HidState::default()
    };
    for u in [0x04, 0x05, 0x2C] {
        s.press(u);
    }
    let boot = encode_boot(&s);
    assert_eq!(kb.send_boot(&boot), Ok(()));
    assert_eq!(
        kb.send_boot(&boot),
        Err(Busy),
        "the endpoint still holds the first"
    );
    assert_eq!(
        host.take_in(boot_ep).as_deref(),
        Some(&[0x02, 0, 0x04, 0x05, 0x2C, 0, 0, 0][..])
    );
    assert_eq!(host.take_in(nkro_ep), None);
    kb.poll();
    assert_eq!(kb.send_boot(&[0; 8]), Ok(()));
    assert_eq!(host.take_in(boot_ep), Some(vec![0; 8]));

    for u in [0x06, 0x07, 0x08, 0x09, 0xDF] {
        s.press(u); // eight keys: beyond the boot report, fine for NKRO
    }
    let nkro = encode_nkro(&s);
    assert_eq!(kb.send_nkro(&nkro), Ok(()));
    let got = host.take_in(nkro_ep).expect("an NKRO report");
    assert_eq!(got.len(), 29);
    assert_eq!(got, nkro);
    assert_eq!(got[0], mods::LSHIFT);
    assert_eq!(
        got[1], 0b1111_0000,
        "usages 0x04..=0x07: bits 4..7 of byte 1"
    );
    assert_eq!(got[28], 0x80, "usage 0xDF: bit 7 of byte 28");
    assert_eq!(host.take_in(boot_ep), None);
    assert_eq!(
        encode_boot(&s),
        [0x02, 0, 1, 1, 1, 1, 1, 1],
        "boot report rolls over"
    );
}

#[test]
fn nothing_is_sent_before_configuration() {
    let (mut kb, host) = device();
    kb.poll();
    assert!(!kb.configured());
    assert_eq!(kb.send_boot(&[0; 8]), Err(Busy));
    assert_eq!(kb.send_nkro(&[0; 29]), Err(Busy));
    assert_eq!(kb.serial_write(b"lost"), 0);
    assert!(host.state().pending_in.iter().all(Option::is_none));
}

#[test]
fn console_bytes_flow_both_ways() {
    let (mut kb, host) = device();
    let c = enumerate(&mut kb, &host);
    let data = &c.interfaces[3].endpoints;
    let out_ep = data.iter().find(|e| e.0 & 0x80 == 0).unwrap().0;
    let in_ep = data.iter().find(|e| e.0 & 0x80 != 0).unwrap().0 & 0x0F;
    // SET_CONTROL_LINE_STATE: DTR (a terminal opened the port).
    host.control_out(&mut kb, 0x21, 0x22, 0x0001, 2, &[])
        .unwrap();
    assert!(kb.serial_open());
    host.send_out(out_ep, b"help\r");
    kb.poll();
    let mut buf = [0u8; 64];
    let n = kb.serial_read(&mut buf);
    assert_eq!(&buf[..n], b"help\r");
    assert_eq!(kb.serial_read(&mut buf), 0);
    assert_eq!(kb.serial_write(b"nagi> "), 6);
    kb.poll();
    assert_eq!(host.take_in(in_ep).as_deref(), Some(&b"nagi> "[..]));
}

#[test]
fn the_device_fits_a_small_task() {
    // The hid task keeps UsbKeyboard in a static or on its stack. Pointers
    // are 8 bytes here and 4 on Cortex-M, where the build itself checks
    // usb_kbd::stm32l4::KEYBOARD_RAM_BOUND (1496 bytes measured there).
    let size = std::mem::size_of::<Kbd>();
    assert!(
        size < 2 * usb_kbd::stm32l4::KEYBOARD_RAM_BOUND,
        "{size} bytes on the host"
    );
}

#[test]
fn built_in_place_it_is_the_same_device() {
    // UsbKeyboard::init_in (what the hid task uses, into a static) gives
    // the device `new` gives: same descriptors, same enumeration.
    let (mut a, host_a) = device();
    let state = Arc::new(Mutex::new(State::default()));
    let alloc: &'static UsbBusAllocator<FakeBus> =
        Box::leak(Box::new(UsbBusAllocator::new(FakeBus(state.clone()))));
    let slot: &'static mut core::mem::MaybeUninit<Kbd> = Box::leak(Box::new(core::mem::MaybeUninit::uninit()));
    let b = UsbKeyboard::init_in(slot, alloc, VID, PID);
    let host_b = Host(state);
    let ca = enumerate(&mut a, &host_a);
    let cb = enumerate(b, &host_b);
    assert_eq!(format!("{ca:?}"), format!("{cb:?}"));
    assert!(b.configured() && !b.boot_protocol());
}
