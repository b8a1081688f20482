//! console - the serial console server: drives the UART CONFIG_CONSOLE_UART
//! names (16550 on the PC, STM32 USART, CMSDK UART; see uart.rs), writes
//! CONSOLE_WRITE data out and answers CONSOLE_READ with buffered input,
//! deferring the reply until input arrives (IRQ CONFIG_CONSOLE_IRQ,
//! delivered as NOTIFY_IRQ on its listening channel). If the kernel will
//! not route that IRQ, the console polls on a timer instead.
//! On a board whose console is the keyboard's USB CDC-ACM port (board.toml
//! [console] usb_cdc, CONFIG_TWIN=n: the real nagi-kb) the bytes go
//! through the hid task instead (uart_hid.rs), polled on that timer; the
//! kernel's own messages stay on the UART.
//!
//! Input path (issue 9.5): UART -> ring (runtime::ring) -> CONSOLE_READ
//! replies. The ring is filled on every wake-up and while output waits for
//! the transmitter; while it is full the console stops reading the UART
//! and turns its receive interrupt off, so the UART holds input back (a
//! QEMU twin then stops taking bytes from its socket: nothing is lost). A
//! real UART without flow control overruns instead; every byte lost is
//! said once on the console: `console: N input bytes dropped`.
//!
//! The keyboard driver (ps2kbd) hands typed bytes in with CONSOLE_INPUT:
//! they go into the same ring, so readers cannot tell them from UART
//! input. Only a connection init made with CONNECT_CONSOLE_INPUT in its
//! INIT_CONNECT `arg` (policy::RIGHTS: the driver's lookups) may do that;
//! on any other it is -E_PERM. A full ring takes what fits (reply arg).
#![no_std]
#![no_main]

use runtime::abi::*;
use runtime::proto::*;
use core::fmt::Write;
use runtime::ring::Ring;
use runtime::{config, ks, service, Channel, Error, Msg};

mod uart;
mod uart_16550;
mod uart_cmsdk;
mod uart_hid;
mod uart_stm32;
use uart::Uart;

runtime::entry!(main);

/// Input buffered for readers (smaller on MCUs: the console lives on a
/// 2 KiB stack there).
const INPUT_MAX: usize = if config::CONFIG_ARCH_HAS_MMU { 1024 } else { 256 };
/// Polling period when the RX interrupt cannot be had.
const POLL_MS: u32 = 20;
const MAX_READERS: usize = 16;
/// Client connections kept at once (a task has 12 channel ids on MCUs).
const MAX_CLIENTS: usize = if config::CONFIG_ARCH_HAS_MMU { 32 } else { 8 };
/// Connections with the right to inject input (the keyboard driver's;
/// a restarted driver's new one replaces its old, closed one).
const MAX_INPUTS: usize = 4;

struct Console {
    uart: Uart,
    input: Ring<INPUT_MAX>,
    /// The receive interrupt is on (off while the ring is full).
    rx_irq: bool,
    /// The last byte written was a newline (a notice starts a line).
    at_line_start: bool,
    readers: [i32; MAX_READERS],
    clients: service::Clients<MAX_CLIENTS>,
    /// Client channels allowed CONSOLE_INPUT (-1: free).
    inputs: [i32; MAX_INPUTS],
}

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            runtime::debug_println!("console: {}", e);
            1
        }
    }
}

fn run() -> Result<(), Error> {
    let uart = Uart::new()?;
    if matches!(uart, Uart::Absent) {
        runtime::debug_println!(
            "console: no UART at {:#x} (its scratch register does not answer); screen and keyboard only",
            config::CONFIG_CONSOLE_BASE
        );
    }
    let listen = Channel::open()?;
    let irq = if uart.polled() { Err(Error::NotSup) } else { ks::listen_irq(config::CONFIG_CONSOLE_IRQ, listen) };
    let polling = match irq {
        Ok(()) => {
            uart.set_rx_interrupt(true);
            false
        }
        Err(_) if uart.polled() => {
            ks::timer(listen, POLL_MS)?;
            true
        }
        Err(e) => {
            runtime::debug_println!(
                "console: IRQ {}: {}; polling every {} ms",
                config::CONFIG_CONSOLE_IRQ,
                e,
                POLL_MS
            );
            ks::timer(listen, POLL_MS)?;
            true
        }
    };
    Channel::BOOTSTRAP.transfer(listen)?;
    service::register("console")?;
    let mut c = Console {
        uart,
        input: Ring::new(),
        rx_irq: !polling,
        at_line_start: true,
        readers: [-1; MAX_READERS],
        clients: service::Clients::new(),
        inputs: [-1; MAX_INPUTS],
    };
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            if polling && m.is_notification() && m.arg & NOTIFY_TIMER != 0 {
                let _ = ks::timer(listen, POLL_MS);
            }
            c.handle(listen, &m);
        }
        c.pump(polling);
    }
}

impl Console {
    fn handle(&mut self, listen: Channel, m: &Msg) {
        let from = Channel::from_raw(m.from);
        if m.label != INIT_CONNECT {
            service::drop_payloads(m); // no console request carries one
        }
        match m.label {
            LABEL_NOTIFICATION => self.clients.on_notification(m),
            CONSOLE_WRITE => {
                self.write(m.payload());
                let mut r = Msg::new(CONSOLE_WRITE);
                r.arg = m.payload().len() as u64;
                let _ = from.reply(&r);
            }
            CONSOLE_READ => self.add_reader(from),
            CONSOLE_INPUT => {
                let r = self.inject(from, m.payload());
                let mut reply = Msg::new(CONSOLE_INPUT);
                reply.arg = runtime::error::to_raw(r);
                let _ = from.reply(&reply);
            }
            INIT_CONNECT => {
                if let Ok(ch) = self.clients.accept(listen, m) {
                    self.note_rights(ch.cid(), m.arg);
                }
            }
            _ => {
                let mut r = Msg::new(m.label);
                r.arg = runtime::error::to_raw(Err(Error::NoSys));
                let _ = from.reply(&r);
            }
        }
    }

    /// A new connection (cid) with the rights init gave it: a cid is
    /// reused only after its channel closed, so an old grant on it ends.
    fn note_rights(&mut self, cid: i32, rights: u64) {
        for slot in self.inputs.iter_mut().filter(|c| **c == cid) {
            *slot = -1;
        }
        if rights & CONNECT_CONSOLE_INPUT == 0 {
            return;
        }
        // Grants whose channel has gone (the driver restarted) make room.
        for slot in self.inputs.iter_mut().filter(|c| **c >= 0) {
            if Channel::from_raw(*slot).send_noblock(&Msg::new(0)) == Err(Error::Closed) {
                *slot = -1;
            }
        }
        if let Some(slot) = self.inputs.iter_mut().find(|c| **c < 0) {
            *slot = cid;
        }
    }

    /// CONSOLE_INPUT: put `bytes` (at most CONSOLE_INPUT_MAX) into the
    /// input ring, as if the UART had received them; how many fit.
    fn inject(&mut self, from: Channel, bytes: &[u8]) -> Result<u64, Error> {
        if from.cid() < 0 || !self.inputs.contains(&from.cid()) {
            return Err(Error::Perm);
        }
        if bytes.len() > CONSOLE_INPUT_MAX {
            return Err(Error::TooBig);
        }
        let mut n = 0;
        for &b in bytes {
            if self.input.is_full() {
                break;
            }
            self.input.push(b);
            n += 1;
        }
        Ok(n)
    }

    /// Remember a reader until input arrives (one pending read per client).
    fn add_reader(&mut self, from: Channel) {
        if self.readers.contains(&from.cid()) {
            return;
        }
        match self.readers.iter_mut().find(|r| **r < 0) {
            Some(slot) => *slot = from.cid(),
            None => {
                let mut r = Msg::new(CONSOLE_READ);
                r.arg = runtime::error::to_raw(Err(Error::Busy));
                let _ = from.reply(&r);
            }
        }
    }

    /// Move input from the UART through the ring to waiting readers until
    /// the UART has nothing more to give (or the ring is full: then the
    /// receive interrupt goes off until a reader makes room). Reading again
    /// after turning the interrupt back on matters: a CMSDK UART raises its
    /// RX interrupt only for a byte that arrives while it is enabled, not
    /// for one already waiting.
    fn pump(&mut self, polling: bool) {
        loop {
            let before = self.input.len();
            self.poll_input();
            let got = self.input.len() != before;
            self.serve_readers();
            let reopened = !polling && !self.rx_irq && !self.input.is_full();
            if !polling {
                self.set_rx_irq(!self.input.is_full());
            }
            if !got && !reopened {
                break;
            }
        }
        self.report_lost();
    }

    /// Move what the UART holds into the ring, leaving the rest in the
    /// UART once the ring is full (backpressure); count its overruns.
    fn poll_input(&mut self) {
        while !self.input.is_full() {
            let (byte, overrun) = self.uart.try_read();
            if overrun {
                self.input.lost(1); // at least one byte
            }
            match byte {
                Some(b) => {
                    self.input.push(b);
                }
                None => break,
            }
        }
    }

    fn set_rx_irq(&mut self, on: bool) {
        if self.rx_irq != on {
            self.uart.set_rx_interrupt(on);
            self.rx_irq = on;
        }
    }

    /// Write bytes, turning "\n" into "\r\n", taking input in while the
    /// transmitter is busy (an STM32 USART holds one received byte only).
    /// On the PC the kernel mirrors them on its screen console (the shell
    /// prompt must show on a monitor too): MCU boards have no screen.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.put(b'\r');
            }
            self.put(b);
        }
        self.uart.flush();
        if config::CONFIG_ARCH_X86_64 {
            runtime::sys::screen_write(bytes);
        }
    }

    fn put(&mut self, b: u8) {
        for _ in 0..100_000 {
            if self.uart.tx_ready() {
                break;
            }
            self.poll_input();
        }
        self.uart.put(b);
        self.at_line_start = b == b'\n';
    }

    /// Say once, on a line of its own, how many input bytes were lost.
    fn report_lost(&mut self) {
        let n = self.input.take_lost();
        if n == 0 {
            return;
        }
        if !self.at_line_start {
            self.write(b"\n");
        }
        let _ = writeln!(Out(self), "console: {} input bytes dropped", n);
    }

    /// Hand buffered input to waiting readers, oldest first.
    fn serve_readers(&mut self) {
        for i in 0..MAX_READERS {
            if self.input.is_empty() {
                return;
            }
            let cid = self.readers[i];
            if cid < 0 {
                continue;
            }
            self.readers[i] = -1;
            let mut r = Msg::new(CONSOLE_READ);
            let n = self.input.peek(&mut r.data[..MSG_INLINE_MAX]);
            r.len = n as u16;
            r.arg = n as u64;
            // A reader that went away (E_NOCALL/E_CLOSED) loses nothing.
            if Channel::from_raw(cid).reply(&r).is_ok() {
                self.input.consume(n);
            }
        }
    }
}

/// core::fmt output straight to the UART (the console's own notices).
struct Out<'a>(&'a mut Console);

impl Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}
