//! usb.rs - hid's USB output (CONFIG_TWIN=n, arm-m): the keyboard's USB
//! device (userland/usb_kbd: boot keyboard, NKRO keyboard, CDC-ACM
//! console on the STM32L475's OTG FS; docs/usb.md).
//!
//! NEVER RUN ON HARDWARE (docs/usb.md, "What has never met real
//! hardware"): compiled for thumbv7em and its logic (usb_kbd::relay)
//! host-tested, but QEMU models no USB for this machine.
//!
//! Set-up, in the order usb_kbd::stm32l4 asks for, through "gpio" (sys,
//! the owner of RCC, PWR and the GPIO ports; its allow-list admits these
//! only in an image with USB):
//! 1. SYS_USB_POWER 1: PWREN + PWR_CR2.USV (VDDUSB valid); sys also
//!    finishes locking MSI to the LSE first (bounded; it started the
//!    crystal at boot);
//! 2. SYS_CLOCK_ENABLE RCC_AHB2ENR.OTGFSEN (bit 12);
//! 3. SYS_PIN_CONFIG PA11 (DM), PA12 (DP): alternate function 10, no pull
//!    (sys sets AF pins to very high speed). hid keeps its channel to sys
//!    open: the pins stay its own (no other client may reconfigure them);
//! 4. KS_MMIO of the core (OTG_FS_BASE, OTG_FS_MMIO_SIZE), then the
//!    device is built (usb_kbd::stm32l4::keyboard_static, in a static);
//! 5. (`attach`, once hid listens) IRQ 67 as NOTIFY_IRQ on the listening
//!    channel; every such notification is one `poll`.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use keyboard::board as kb;
use keyboard::keymap::HidState;
use keyboard::report::{encode_boot, encode_nkro};
use runtime::mmio::Mmio;
use runtime::proto::*;
use runtime::{config, ks, service, Channel, Error, Msg, Result};
use usb_kbd::relay::{Reports, SerialRelay};
use usb_kbd::stm32l4::{self, Bus, OTG_FS_BASE, OTG_FS_IRQ, OTG_FS_MMIO_SIZE};
use usb_kbd::{UsbKeyboard, BOOT_REPORT_LEN, NKRO_REPORT_LEN};

use crate::{Output, Report};

/// RCC_AHB2ENR (offset) and its OTGFSEN bit (RM0351).
const RCC_AHB2ENR: u32 = 0x4c;
const OTGFSEN: u32 = 12;
/// PA11 = OTG_FS_DM, PA12 = OTG_FS_DP: alternate function 10.
const USB_PINS: [u8; 2] = [11, 12];
const AF_OTG_FS: u8 = 10;
/// Each of the console's rings in hid (to the host, from the host).
pub const SERIAL_RING: usize = 256;

/// The console's rings, in a static (as the device): the server loop's
/// stack frame stays as small as the twin's.
struct RelayCell(UnsafeCell<SerialRelay<SERIAL_RING>>);
// SAFETY: RELAY_TAKEN hands out the only reference, once; hid has one thread.
unsafe impl Sync for RelayCell {}
static RELAY: RelayCell = RelayCell(UnsafeCell::new(SerialRelay::new()));
static RELAY_TAKEN: AtomicBool = AtomicBool::new(false);

fn take_relay() -> Option<&'static mut SerialRelay<SERIAL_RING>> {
    if RELAY_TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY: the swap above made this the only reference.
    Some(unsafe { &mut *RELAY.0.get() })
}

pub struct UsbOut {
    dev: &'static mut UsbKeyboard<Bus>,
    reports: Reports,
    serial: &'static mut SerialRelay<SERIAL_RING>,
    /// hid's connection to sys: it holds PA11/PA12.
    _sys: Channel,
    _regs: Mmio,
}

fn sys_call(sys: Channel, m: &mut Msg) -> Result<()> {
    sys.call(m)?;
    m.result().map(|_| ())
}

/// Steps 1..3 of the module docs.
fn sys_setup(sys: Channel) -> Result<()> {
    let mut m = Msg::new(SYS_USB_POWER);
    let _ = m.push_u32(1);
    sys_call(sys, &mut m)?;
    sys_call(sys, &mut sys_clock_request(RCC_AHB2ENR, OTGFSEN))?;
    for pin in USB_PINS {
        let c = SysPinConfig { port: 0, pin, mode: PIN_MODE_AF, pull: PIN_PULL_NONE, af: AF_OTG_FS, level: 0 };
        sys_call(sys, &mut sys_pin_config_request(&c))?;
    }
    Ok(())
}

impl UsbOut {
    /// Steps 1..4: clock, power, pins, registers, the device.
    pub fn new() -> Result<UsbOut> {
        let sys = service::lookup("gpio")?;
        if let Err(e) = sys_setup(sys) {
            let _ = sys.close();
            return Err(e);
        }
        let regs = Mmio::map(OTG_FS_BASE, OTG_FS_MMIO_SIZE)?;
        let dev = stm32l4::keyboard_static(config::CONFIG_CPU_HZ, kb::USB_VID, kb::USB_PID).ok_or(Error::Busy)?;
        Ok(UsbOut {
            dev,
            reports: Reports::new(kb::REPORT_BOOT, kb::REPORT_NKRO),
            serial: take_relay().ok_or(Error::Busy)?,
            _sys: sys,
            _regs: regs,
        })
    }

    /// Poll the device and move what waits: the pending report, console
    /// bytes both ways.
    #[inline(never)] // keeps the USB stack out of the server loop's frame
    fn service(&mut self) {
        self.dev.poll();
        self.reports.flush(self.dev);
        self.serial.pump(self.dev);
    }
}

impl Output for UsbOut {
    fn report(&mut self, _kind: Report, _bytes: &[u8], _stamp: u64) {}

    /// The state's encodings (those the image builds) replace whatever
    /// waited; the one the host reads now goes out if its endpoint is
    /// free, else on a later poll.
    #[inline(never)] // keeps the USB stack out of the server loop's frame
    fn state(&mut self, state: &HidState, _stamp: u64) {
        let boot = if kb::REPORT_BOOT { encode_boot(state) } else { [0; BOOT_REPORT_LEN] };
        let nkro = if kb::REPORT_NKRO { encode_nkro(state) } else { [0; NKRO_REPORT_LEN] };
        self.reports.set(&boot, &nkro);
        self.reports.flush(self.dev);
    }

    #[inline(never)] // keeps the USB stack out of the server loop's frame
    fn attach(&mut self, listen: Channel) -> Result<()> {
        ks::listen_irq(OTG_FS_IRQ, listen)?;
        self.service(); // the first poll: the device appears on the bus
        Ok(())
    }

    #[inline(never)] // keeps the USB stack out of the server loop's frame
    fn irq(&mut self) {
        self.service();
    }

    #[inline(never)] // keeps the USB stack out of the server loop's frame
    fn serial_write(&mut self, data: &[u8]) -> Result<u64> {
        // The trait's: DTR on a configured device.
        let open = <UsbKeyboard<Bus> as usb_kbd::relay::SerialIo>::serial_open(self.dev);
        let n = self.serial.write(data, open);
        self.serial.pump(self.dev);
        Ok(n as u64)
    }

    #[inline(never)] // keeps the USB stack out of the server loop's frame
    fn serial_read(&mut self, out: &mut [u8]) -> Result<u64> {
        self.serial.pump(self.dev);
        let n = self.serial.read(out);
        self.serial.pump(self.dev); // room again: take what the device holds
        Ok(n as u64)
    }
}
