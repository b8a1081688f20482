//! hid - HID state to reports (design.md, "The keyboard"; docs/protocols.md,
//! "keyboard pipeline"). Serves "hid":
//!   HID_STATE -> reply arg 0; the state is encoded as a boot report (8
//!                bytes) and/or an NKRO report (29 bytes), as Kconfig's
//!                KEYBOARD_REPORT_* says (BOTH: boot, then NKRO), and
//!                written out when it differs from the last one written;
//!                the first state after hid (re)starts is always written.
//! Only one connection may send HID_STATE: the first that does (keymap's),
//! until it closes (-E_PERM for others).
//! Where reports go (`Output`): CONFIG_TWIN: one line per report on the
//! board's trace UART (keyboard::trace; its clock enabled through "gpio").
//! Otherwise (arm-m) the keyboard's USB device (usb.rs; userland/usb_kbd,
//! docs/usb.md): the boot report while the host holds interface 0 in
//! boot protocol, the NKRO report otherwise (or the only one built); a
//! busy endpoint keeps the latest state pending until the next poll.
//! With USB, hid also relays the console (docs/protocols.md, "hid"):
//!   HID_SERIAL_WRITE (bytes) -> arg = bytes taken for the CDC-ACM port
//!   HID_SERIAL_READ          -> data/arg = bytes the host sent (<= 200)
//! only on connections init made with CONNECT_HID_SERIAL (the console's);
//! -E_PERM on others, -E_NOSYS without USB.
#![no_std]
#![no_main]

use runtime::service::reply_result as reply;
use keyboard::board as kb;
use keyboard::keymap::HidState;
use keyboard::report::{encode_boot, encode_nkro};
use keyboard::trace::{trace_line, LINE_MAX};
use runtime::abi::*;
use runtime::mmio::Mmio;
use runtime::proto::*;
use runtime::{config, println, service, sys, Channel, Error, Msg, Result};

#[cfg(all(target_arch = "arm", target_os = "none"))]
mod usb;

runtime::entry!(main);

/// Connections allowed HID_SERIAL_* (the console's; a restarted
/// console's new one replaces its old, closed one).
const SERIAL_CONNS: usize = 2;

const NOBODY: i32 = -1;

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            println!("hid: {}", e);
            1
        }
    }
}

/// Which report a line or a USB transfer carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Report {
    Boot,
    Nkro,
}

/// Where reports go: the seam between encoding and transport.
pub trait Output {
    /// Send one report; `stamp` is the SYS_CLOCK of the key change that
    /// caused it (0: none).
    fn report(&mut self, kind: Report, bytes: &[u8], stamp: u64);

    /// A new HID state: its reports, as Kconfig's KEYBOARD_REPORT_* says
    /// (BOTH: boot, then NKRO). USB overrides it (one report at a time).
    #[inline(always)]
    fn state(&mut self, state: &HidState, stamp: u64) {
        if kb::REPORT_BOOT {
            self.report(Report::Boot, &encode_boot(state), stamp);
        }
        if kb::REPORT_NKRO {
            self.report(Report::Nkro, &encode_nkro(state), stamp);
        }
    }

    /// hid listens on `listen` now (USB routes its interrupt there).
    fn attach(&mut self, _listen: Channel) -> Result<()> {
        Ok(())
    }

    /// A NOTIFY_IRQ on the listening channel.
    fn irq(&mut self) {}

    /// HID_SERIAL_WRITE: bytes taken for the host.
    fn serial_write(&mut self, _data: &[u8]) -> Result<u64> {
        Err(Error::NoSys)
    }

    /// HID_SERIAL_READ: bytes from the host into `out`.
    fn serial_read(&mut self, _out: &mut [u8]) -> Result<u64> {
        Err(Error::NoSys)
    }
}

/// The twin's trace UART (an STM32 USART, board.toml [keyboard]
/// trace_uart): transmit only, polled.
struct TraceUart {
    regs: Mmio,
}

const USART_CR1: u32 = 0x00;
const USART_BRR: u32 = 0x0c;
const USART_ISR: u32 = 0x1c;
const USART_TDR: u32 = 0x28;
const CR1_UE: u32 = 1 << 0;
const CR1_TE: u32 = 1 << 3;
const ISR_TXE: u32 = 1 << 7;
const TRACE_BAUD: u32 = 115_200;

impl TraceUart {
    /// Enable its clock (through "gpio", the owner of RCC), map it and
    /// turn the transmitter on.
    fn new() -> Result<TraceUart> {
        let gpio = service::lookup("gpio")?;
        let mut m = sys_clock_request(kb::TRACE_UART_RCC_ENR, kb::TRACE_UART_RCC_BIT);
        let r = gpio.call(&mut m).and_then(|_| m.result());
        let _ = gpio.close();
        r?;
        let regs = Mmio::map(kb::TRACE_UART_BASE, 0x400)?;
        regs.write(USART_CR1, 0);
        regs.write(USART_BRR, (config::CONFIG_CPU_HZ + TRACE_BAUD / 2) / TRACE_BAUD);
        regs.write(USART_CR1, CR1_UE | CR1_TE);
        Ok(TraceUart { regs })
    }

    fn write(&self, bytes: &[u8]) {
        for &b in bytes {
            let mut spins = 0u32;
            while self.regs.read(USART_ISR) & ISR_TXE == 0 && spins < 100_000 {
                spins += 1;
            }
            self.regs.write(USART_TDR, b as u32); // 32-bit writes only on the twin
        }
    }
}

impl Output for TraceUart {
    fn report(&mut self, kind: Report, bytes: &[u8], stamp: u64) {
        let mut line = [0u8; LINE_MAX];
        let name = if kind == Report::Boot { "boot" } else { "nkro" };
        let n = trace_line(&mut line, name, bytes, stamp, sys::clock());
        self.write(&line[..n]);
    }
}

/// No USB device on this target (only arm-m has the OTG FS driver):
/// drops the reports.
#[cfg(not(all(target_arch = "arm", target_os = "none")))]
struct NoUsb;

#[cfg(not(all(target_arch = "arm", target_os = "none")))]
impl Output for NoUsb {
    fn report(&mut self, _kind: Report, _bytes: &[u8], _stamp: u64) {}
}

/// The output of a CONFIG_TWIN=n image: the keyboard's USB device (usb.rs).
#[cfg(all(target_arch = "arm", target_os = "none"))]
#[inline(never)] // its set-up messages stay out of the server loop's frame
fn usb_output() -> Result<usb::UsbOut> {
    usb::UsbOut::new()
}

#[cfg(not(all(target_arch = "arm", target_os = "none")))]
fn usb_output() -> Result<NoUsb> {
    println!("hid: no USB device on this target: reports are dropped");
    Ok(NoUsb)
}

struct Server<O: Output> {
    listen: Channel,
    clients: service::Clients<4>,
    out: O,
    last: Option<HidState>,
    /// The connection that sends HID_STATE (keymap's).
    sender: service::Holder,
    /// Connections with CONNECT_HID_SERIAL (-1: free).
    serial: [i32; SERIAL_CONNS],
}

fn run() -> Result<()> {
    if kb::TWIN {
        let out = TraceUart::new()?;
        serve(out)
    } else {
        serve(usb_output()?)
    }
}

fn serve<O: Output>(out: O) -> Result<()> {
    let listen = service::listen("hid")?;
    let mut s = Server { listen, clients: service::Clients::new(), out, last: None, sender: service::Holder::NOBODY,
                         serial: [NOBODY; SERIAL_CONNS] };
    s.out.attach(listen)?;
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            s.handle(&m);
        }
    }
}


impl<O: Output> Server<O> {
    fn handle(&mut self, m: &Msg) {
        let from = Channel::from_raw(m.from);
        if m.label != INIT_CONNECT {
            service::drop_payloads(m); // no hid message carries one
        }
        match m.label {
            LABEL_NOTIFICATION => {
                if m.is_notification() && m.arg & NOTIFY_IRQ != 0 {
                    self.out.irq();
                }
                if m.is_notification() && m.arg & NOTIFY_PEER_CLOSED != 0 {
                    self.forget_gone_sender();
                }
                self.clients.on_notification(m);
            }
            INIT_CONNECT => {
                self.forget_gone_sender(); // before the sweep in accept reuses its cid
                if let Ok(ch) = self.clients.accept(self.listen, m) {
                    self.note_rights(ch.cid(), m.arg);
                }
            }
            HID_SERIAL_WRITE => self.serial_write(from, m),
            HID_SERIAL_READ => self.serial_read(from, m),
            HID_STATE => {
                if m.from == BOOTSTRAP_CID || !self.sender.allows(m.from) {
                    return reply(from, m.label, Err(Error::Perm));
                }
                let Some((stamp, mods, keys)) = parse_hid_state(m) else {
                    return reply(from, m.label, Err(Error::Inval));
                };
                self.sender.take(m.from);
                let state = HidState { mods, keys };
                // The report goes out before keymap hears back (the key's
                // latency ends when the report is handed over).
                if self.last != Some(state) {
                    self.last = Some(state);
                    self.out.state(&state, stamp);
                }
                reply(from, m.label, Ok(0));
            }
            label => reply(from, label, Err(Error::NoSys)),
        }
    }

    /// A new connection (cid) with the rights init gave it (INIT_CONNECT
    /// arg): a cid is reused only after its channel closed, so an old
    /// grant on it ends here.
    #[inline(never)] // its probe messages stay out of the server loop's frame
    fn note_rights(&mut self, cid: i32, rights: u64) {
        for slot in self.serial.iter_mut().filter(|c| **c == cid) {
            *slot = NOBODY;
        }
        if rights & CONNECT_HID_SERIAL == 0 {
            return;
        }
        for slot in self.serial.iter_mut().filter(|c| **c != NOBODY) {
            if Channel::from_raw(*slot).send_noblock(&Msg::new(0)) == Err(Error::Closed) {
                *slot = NOBODY;
            }
        }
        if let Some(slot) = self.serial.iter_mut().find(|c| **c == NOBODY) {
            *slot = cid;
        }
    }

    /// HID_SERIAL_WRITE (out of line, as serial_read).
    #[inline(never)]
    fn serial_write(&mut self, from: Channel, m: &Msg) {
        let data = m.payload();
        let r = if !self.may_serial(m.from) {
            Err(Error::Perm)
        } else if data.is_empty() {
            Err(Error::Inval)
        } else if data.len() > HID_SERIAL_MAX {
            Err(Error::TooBig)
        } else {
            self.out.serial_write(data)
        };
        reply(from, m.label, r);
    }

    /// HID_SERIAL_READ: its reply message lives in this frame only (not
    /// in the server loop's, which every other path shares).
    #[inline(never)]
    fn serial_read(&mut self, from: Channel, m: &Msg) {
        if !self.may_serial(m.from) {
            return reply(from, m.label, Err(Error::Perm));
        }
        if m.len != 0 {
            return reply(from, m.label, Err(Error::Inval));
        }
        let mut r = Msg::new(HID_SERIAL_READ);
        match self.out.serial_read(&mut r.data[..HID_SERIAL_MAX]) {
            Ok(n) => {
                r.len = n as u16;
                r.arg = n;
            }
            Err(e) => r.arg = runtime::error::to_raw(Err(e)),
        }
        let _ = from.reply(&r);
    }

    /// HID_SERIAL_* from `from`: only on a connection with CONNECT_HID_SERIAL.
    fn may_serial(&self, from: i32) -> bool {
        from >= 0 && from != BOOTSTRAP_CID && self.serial.contains(&from)
    }

    fn forget_gone_sender(&mut self) {
        self.sender.release_if_gone();
    }
}
