//! The composite device: boot keyboard, NKRO keyboard, CDC-ACM console.

use usb_device::bus::{UsbBus, UsbBusAllocator};
use usb_device::class::{ControlOut, UsbClass};
use usb_device::control::{Recipient, RequestType};
use usb_device::device::{
    StringDescriptors, UsbDevice, UsbDeviceBuilder, UsbDeviceState, UsbVidPid,
};
use usbd_hid::hid_class::{
    HIDClass, HidClassSettings, HidCountryCode, HidProtocol, HidSubClass, ProtocolModeConfig,
};
use usbd_serial::SerialPort;

use crate::descriptors::{BOOT_KEYBOARD, NKRO_KEYBOARD};

/// Bytes of a boot keyboard report (HID 1.11 Appendix B.1).
pub const BOOT_REPORT_LEN: usize = 8;
/// Bytes of an NKRO report (`keyboard::report::NKRO_LEN`).
pub const NKRO_REPORT_LEN: usize = 29;
/// How often the host polls the two keyboard endpoints (bInterval, ms at
/// full speed): every frame.
pub const POLL_MS: u8 = 1;
/// String descriptors (US English).
pub const MANUFACTURER: &str = "Nagi";
pub const PRODUCT: &str = "Nagi keyboard";
/// The CDC-ACM interfaces' names (iInterface), which the kit may match on.
pub const CONSOLE_NAME: &str = "Nagi console";

/// The report could not be queued: the endpoint still holds the previous
/// one (the host has not polled it yet), or the host has not configured
/// the device. Try again after the next `poll`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy;

/// The keyboard's USB device: interface 0 the boot keyboard (HID, boot
/// subclass, keyboard protocol), interface 1 the NKRO keyboard (HID, no
/// subclass), interfaces 2 and 3 a CDC-ACM serial port (with an interface
/// association descriptor, hence device class 0xEF/0x02/0x01).
///
/// Single-threaded: call `poll` whenever the bus raises its interrupt (the
/// OTG_FS notification) and at least every few milliseconds while reports
/// or console output are pending.
pub struct UsbKeyboard<B: UsbBus + 'static> {
    device: UsbDevice<'static, B>,
    boot: HIDClass<'static, B>,
    nkro: HIDClass<'static, B>,
    serial: SerialPort<'static, B>,
    protocol: ProtocolWatch,
}

/// Interface 0: the boot keyboard (allocated first in `new`).
pub const BOOT_INTERFACE: u8 = 0;
/// Interface 1: the NKRO keyboard.
pub const NKRO_INTERFACE: u8 = 1;
/// HID 1.11 §7.2.6 SET_PROTOCOL (wValue 0 boot, 1 report).
const HID_SET_PROTOCOL: u8 = 0x0B;

/// Records the protocol the host set on the boot interface; answers
/// nothing (it sits first in the class list, so usbd-hid still accepts
/// the request after it has looked).
struct ProtocolWatch {
    boot: bool,
}

impl<B: UsbBus> UsbClass<B> for ProtocolWatch {
    fn reset(&mut self) {
        self.boot = false; // every device starts in report protocol
    }

    fn control_out(&mut self, xfer: ControlOut<B>) {
        let req = xfer.request();
        if req.request_type == RequestType::Class
            && req.recipient == Recipient::Interface
            && req.request == HID_SET_PROTOCOL
            && req.index == BOOT_INTERFACE as u16
        {
            self.boot = req.value & 0xFF == 0;
        }
    }
}

impl<B: UsbBus + 'static> UsbKeyboard<B> {
    /// Allocates the interfaces and endpoints on `bus` and builds the
    /// device. The device appears on the bus (pull-up on) at the first
    /// `poll`. (~1.5 KiB by value: a small task builds it in place with
    /// `init_in` instead.)
    pub fn new(bus: &'static UsbBusAllocator<B>, vid: u16, pid: u16) -> Self {
        // The order fixes the interface numbers: boot 0, NKRO 1, CDC 2 and 3.
        let boot = boot_class(bus);
        let nkro = nkro_class(bus);
        let serial = serial_port(bus);
        let device = build_device(bus, vid, pid);
        UsbKeyboard { device, boot, nkro, serial, protocol: ProtocolWatch { boot: false } }
    }

    /// `new`, built field by field straight into `slot` (a static): the
    /// stack holds one part at a time, not the whole device and its
    /// copies (measured on thumbv7em: `new` into a static took ~4.5 KiB
    /// of stack, more than the hid task has). Same order, same device.
    pub fn init_in<'a>(
        slot: &'a mut core::mem::MaybeUninit<Self>,
        bus: &'static UsbBusAllocator<B>,
        vid: u16,
        pid: u16,
    ) -> &'a mut Self {
        let p = slot.as_mut_ptr();
        // SAFETY: each field is written exactly once through a raw pointer
        // into `slot` (no reference to an uninitialised field is made);
        // after the five writes every field is initialised, so the whole
        // value is (UsbKeyboard has no padding invariants of its own).
        unsafe {
            core::ptr::addr_of_mut!((*p).boot).write(boot_class(bus));
            core::ptr::addr_of_mut!((*p).nkro).write(nkro_class(bus));
            core::ptr::addr_of_mut!((*p).serial).write(serial_port(bus));
            core::ptr::addr_of_mut!((*p).device).write(build_device(bus, vid, pid));
            core::ptr::addr_of_mut!((*p).protocol).write(ProtocolWatch { boot: false });
            slot.assume_init_mut()
        }
    }

    /// Handles what the bus has pending (enumeration, control requests,
    /// completed transfers, console data); true when something happened.
    pub fn poll(&mut self) -> bool {
        self.device.poll(&mut [
            &mut self.protocol,
            &mut self.boot,
            &mut self.nkro,
            &mut self.serial,
        ])
    }

    /// True once the host has set a configuration (reports can flow).
    pub fn configured(&self) -> bool {
        self.device.state() == UsbDeviceState::Configured
    }

    /// True when the host put interface 0 in boot protocol (a BIOS or
    /// boot loader, which reads only the boot keyboard); false in report
    /// protocol, the default after every reset. The rule QMK follows: send
    /// boot reports then, NKRO reports otherwise, never the same keys on
    /// both (an OS reads both interfaces and would see every key twice).
    pub fn boot_protocol(&self) -> bool {
        self.protocol.boot
    }

    /// Queues a boot report on interface 0's interrupt IN endpoint.
    pub fn send_boot(&mut self, report: &[u8; BOOT_REPORT_LEN]) -> Result<(), Busy> {
        if !self.configured() {
            return Err(Busy);
        }
        push(&self.boot, report)
    }

    /// Queues an NKRO report on interface 1's interrupt IN endpoint.
    pub fn send_nkro(&mut self, report: &[u8; NKRO_REPORT_LEN]) -> Result<(), Busy> {
        if !self.configured() {
            return Err(Busy);
        }
        push(&self.nkro, report)
    }

    /// Console bytes the host sent, up to `buf.len()`; 0 when none.
    pub fn serial_read(&mut self, buf: &mut [u8]) -> usize {
        self.serial.read(buf).unwrap_or(0)
    }

    /// Queues console output; returns how many bytes were taken (0 when
    /// the buffer is full or no host has configured the device: the
    /// console drops output rather than block the keyboard).
    pub fn serial_write(&mut self, data: &[u8]) -> usize {
        if !self.configured() {
            return 0;
        }
        self.serial.write(data).unwrap_or(0)
    }

    /// True while the host holds DTR (a terminal has the port open).
    pub fn serial_open(&self) -> bool {
        self.serial.dtr()
    }
}

fn push<B: UsbBus>(class: &HIDClass<'_, B>, report: &[u8]) -> Result<(), Busy> {
    // WouldBlock: the previous report is still in the endpoint. Any other
    // error also means it cannot take a packet now (e.g. a bus reset
    // under us); either way the caller retries after the next poll.
    // (A report is one packet: 8 and 29 bytes are below the 64-byte
    // wMaxPacketSize, so a write is never short.)
    class.push_raw_input(report).map(|_| ()).map_err(|_| Busy)
}

impl<B: UsbBus + 'static> crate::relay::ReportSink for UsbKeyboard<B> {
    fn boot_protocol(&self) -> bool {
        UsbKeyboard::boot_protocol(self)
    }

    fn send_boot(&mut self, report: &[u8; BOOT_REPORT_LEN]) -> Result<(), Busy> {
        UsbKeyboard::send_boot(self, report)
    }

    fn send_nkro(&mut self, report: &[u8; NKRO_REPORT_LEN]) -> Result<(), Busy> {
        UsbKeyboard::send_nkro(self, report)
    }
}

impl<B: UsbBus + 'static> crate::relay::SerialIo for UsbKeyboard<B> {
    fn serial_read(&mut self, buf: &mut [u8]) -> usize {
        UsbKeyboard::serial_read(self, buf)
    }

    fn serial_write(&mut self, data: &[u8]) -> usize {
        UsbKeyboard::serial_write(self, data)
    }

    fn serial_open(&self) -> bool {
        self.configured() && UsbKeyboard::serial_open(self)
    }
}

// The parts of the device, one function each (not inlined: each has its
// own stack frame, which `init_in` keeps small).

#[inline(never)]
fn boot_class<B: UsbBus>(bus: &'static UsbBusAllocator<B>) -> HIDClass<'static, B> {
    HIDClass::new_ep_in_with_settings(
        bus,
        BOOT_KEYBOARD,
        POLL_MS,
        HidClassSettings {
            subclass: HidSubClass::Boot,
            protocol: HidProtocol::Keyboard,
            // usbd-hid sends on a boot-subclass interface only while
            // it is in boot protocol, and a device starts in report
            // protocol (HID 1.11 §7.2.6), which most OSes keep: so
            // usbd-hid is told "always boot", and `ProtocolWatch`
            // records what the host actually chose. The 8 bytes are
            // the same in both protocols (the report descriptor
            // describes exactly the boot layout). One consequence:
            // GET_PROTOCOL on interface 0 always answers 0 (boot).
            config: ProtocolModeConfig::ForceBoot,
            locale: HidCountryCode::NotSupported,
        },
    )
}

#[inline(never)]
fn nkro_class<B: UsbBus>(bus: &'static UsbBusAllocator<B>) -> HIDClass<'static, B> {
    HIDClass::new_ep_in_with_settings(
        bus,
        NKRO_KEYBOARD,
        POLL_MS,
        HidClassSettings {
            subclass: HidSubClass::NoSubClass,
            protocol: HidProtocol::Generic,
            config: ProtocolModeConfig::DefaultBehavior,
            locale: HidCountryCode::NotSupported,
        },
    )
}

#[inline(never)]
fn serial_port<B: UsbBus>(bus: &'static UsbBusAllocator<B>) -> SerialPort<'static, B> {
    SerialPort::new_with_interface_names(bus, Some(CONSOLE_NAME), Some(CONSOLE_NAME))
}

#[inline(never)]
fn build_device<B: UsbBus>(bus: &'static UsbBusAllocator<B>, vid: u16, pid: u16) -> UsbDevice<'static, B> {
    UsbDeviceBuilder::new(bus, UsbVidPid(vid, pid))
        .strings(&[StringDescriptors::default().manufacturer(MANUFACTURER).product(PRODUCT)])
        .expect("one language")
        .composite_with_iads()
        .max_packet_size_0(64)
        .expect("64 is a valid EP0 size")
        .max_power(100)
        .expect("100 mA is within 500 mA")
        .build()
}
