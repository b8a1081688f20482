//! console - the serial console server: drives the UART CONFIG_CONSOLE_UART
//! names (16550 on the PC, STM32 USART, CMSDK UART; see uart.rs), writes
//! CONSOLE_WRITE data out and answers CONSOLE_READ with buffered input,
//! deferring the reply until input arrives (IRQ CONFIG_CONSOLE_IRQ,
//! delivered as NOTIFY_IRQ on its listening channel). If the kernel will
//! not route that IRQ, the console polls on a timer instead.
#![no_std]
#![no_main]

use runtime::abi::*;
use runtime::proto::*;
use runtime::{config, ks, service, Channel, Error, Msg};

mod uart;
mod uart_16550;
mod uart_cmsdk;
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

struct Console {
    uart: Uart,
    input: [u8; INPUT_MAX],
    head: usize,
    len: usize,
    readers: [i32; MAX_READERS],
    clients: service::Clients<MAX_CLIENTS>,
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
    let listen = Channel::open()?;
    let polling = match ks::listen_irq(config::CONFIG_CONSOLE_IRQ, listen) {
        Ok(()) => {
            uart.enable_rx_interrupt();
            false
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
    let mut c = Console { uart, input: [0; INPUT_MAX], head: 0, len: 0, readers: [-1; MAX_READERS], clients: service::Clients::new() };
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            if polling && m.is_notification() && m.arg & NOTIFY_TIMER != 0 {
                let _ = ks::timer(listen, POLL_MS);
            }
            c.handle(listen, &m);
        }
        c.poll_input();
        c.serve_readers();
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
                self.uart.write(m.payload());
                let mut r = Msg::new(CONSOLE_WRITE);
                r.arg = m.payload().len() as u64;
                let _ = from.reply(&r);
            }
            CONSOLE_READ => self.add_reader(from),
            INIT_CONNECT => {
                let _ = self.clients.accept(listen, m);
            }
            _ => {
                let mut r = Msg::new(m.label);
                r.arg = runtime::error::to_raw(Err(Error::NoSys));
                let _ = from.reply(&r);
            }
        }
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

    /// Move every byte the UART holds into the input buffer.
    fn poll_input(&mut self) {
        while let Some(b) = self.uart.try_read() {
            if self.len < INPUT_MAX {
                self.input[(self.head + self.len) % INPUT_MAX] = b;
                self.len += 1;
            }
        }
    }

    /// Hand buffered input to waiting readers, oldest first.
    fn serve_readers(&mut self) {
        for i in 0..MAX_READERS {
            if self.len == 0 {
                return;
            }
            let cid = self.readers[i];
            if cid < 0 {
                continue;
            }
            self.readers[i] = -1;
            let mut r = Msg::new(CONSOLE_READ);
            let n = self.len.min(MSG_INLINE_MAX);
            for k in 0..n {
                r.data[k] = self.input[(self.head + k) % INPUT_MAX];
            }
            r.len = n as u16;
            r.arg = n as u64;
            // A reader that went away (E_NOCALL/E_CLOSED) loses nothing.
            if Channel::from_raw(cid).reply(&r).is_ok() {
                self.head = (self.head + n) % INPUT_MAX;
                self.len -= n;
            }
        }
    }
}
