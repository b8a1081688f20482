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
//! board's trace UART (keyboard::trace; its clock enabled through "gpio");
//! otherwise USB, which is not wired yet (the USB device crate,
//! userland/usb_kbd, plugs in at `usb_output`): hid says so once, at start.
#![no_std]
#![no_main]

use keyboard::board as kb;
use keyboard::keymap::HidState;
use keyboard::report::{encode_boot, encode_nkro};
use keyboard::trace::{trace_line, LINE_MAX};
use runtime::abi::*;
use runtime::mmio::Mmio;
use runtime::proto::*;
use runtime::{config, println, service, sys, Channel, Error, Msg, Result};

runtime::entry!(main);

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

/// No USB device yet: drops the reports.
struct NoUsb;

impl Output for NoUsb {
    fn report(&mut self, _kind: Report, _bytes: &[u8], _stamp: u64) {}
}

/// The USB output of a CONFIG_TWIN=n image: where the USB keyboard device
/// (userland/usb_kbd: boot + NKRO interfaces on OTG FS, VID/PID
/// keyboard::board::USB_VID/USB_PID; its clock, pins and VDDUSB through
/// gpio's SYS_CLOCK_ENABLE, SYS_PIN_CONFIG and SYS_USB_POWER) plugs in.
fn usb_output() -> NoUsb {
    println!("hid: USB is not wired (no USB device driver yet): reports are dropped");
    NoUsb
}

struct Server<O: Output> {
    listen: Channel,
    clients: service::Clients<4>,
    out: O,
    last: Option<HidState>,
    /// The connection that sends HID_STATE (keymap's).
    sender: i32,
}

fn run() -> Result<()> {
    if kb::TWIN {
        let out = TraceUart::new()?;
        serve(out)
    } else {
        serve(usb_output())
    }
}

fn serve<O: Output>(out: O) -> Result<()> {
    let listen = service::listen("hid")?;
    let mut s = Server { listen, clients: service::Clients::new(), out, last: None, sender: NOBODY };
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            s.handle(&m);
        }
    }
}

fn reply(to: Channel, label: u16, r: Result<u64>) {
    let mut m = Msg::new(label);
    m.arg = runtime::error::to_raw(r);
    let _ = to.reply(&m);
}

impl<O: Output> Server<O> {
    fn handle(&mut self, m: &Msg) {
        let from = Channel::from_raw(m.from);
        if m.label != INIT_CONNECT {
            service::drop_payloads(m); // no hid message carries one
        }
        match m.label {
            LABEL_NOTIFICATION => {
                if m.is_notification() && m.arg & NOTIFY_PEER_CLOSED != 0 {
                    self.forget_gone_sender();
                }
                self.clients.on_notification(m);
            }
            INIT_CONNECT => {
                self.forget_gone_sender(); // before the sweep in accept reuses its cid
                let _ = self.clients.accept(self.listen, m);
            }
            HID_STATE => {
                if m.from == BOOTSTRAP_CID || (self.sender != NOBODY && self.sender != m.from) {
                    return reply(from, m.label, Err(Error::Perm));
                }
                let Some((stamp, mods, keys)) = parse_hid_state(m) else {
                    return reply(from, m.label, Err(Error::Inval));
                };
                self.sender = m.from;
                let state = HidState { mods, keys };
                // The report goes out before keymap hears back (the key's
                // latency ends when the report is handed over).
                if self.last != Some(state) {
                    self.last = Some(state);
                    if kb::REPORT_BOOT {
                        self.out.report(Report::Boot, &encode_boot(&state), stamp);
                    }
                    if kb::REPORT_NKRO {
                        self.out.report(Report::Nkro, &encode_nkro(&state), stamp);
                    }
                }
                reply(from, m.label, Ok(0));
            }
            label => reply(from, label, Err(Error::NoSys)),
        }
    }

    fn forget_gone_sender(&mut self) {
        if self.sender != NOBODY && Channel::from_raw(self.sender).send_noblock(&Msg::new(0)) == Err(Error::Closed) {
            self.sender = NOBODY;
        }
    }
}
