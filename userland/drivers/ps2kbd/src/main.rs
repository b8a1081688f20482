//! ps2kbd - the PS/2 keyboard driver of boards with an i8042
//! (CONFIG_PS2KBD, board.toml [ps2]; the pc). Owns the controller's ports
//! (KS_IOPORT) and the keyboard's IRQ (BOARD_PS2_IRQ, 1 on a PC, as
//! NOTIFY_IRQ on its channel); turns scan codes into terminal bytes
//! (keyboard::ps2) and hands them to the console with CONSOLE_INPUT, so
//! the shell reads them like serial input. init connects it to "console"
//! with CONNECT_CONSOLE_INPUT (policy.rs RIGHTS): no other task may inject.
//!
//! No controller (the status port floats, or it does not answer): one
//! line on the kernel console and the task idles, so that init does not
//! restart it again and again. Console gone: runtime::service::Client
//! finds the restarted one; bytes it could not take are dropped. This
//! task restarted: keys pressed while it was down are lost, nothing else.
//! It compiles for every target; init starts it only when CONFIG_PS2KBD.
#![no_std]
#![no_main]

use keyboard::ps2::Decoder;
use runtime::abi::*;
use runtime::proto::*;
use runtime::{config, ks, service, Channel, Msg, Result};

mod i8042;
use i8042::I8042;

runtime::entry!(main);

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            runtime::debug_println!("ps2kbd: {}", e);
            1
        }
    }
}

fn run() -> Result<()> {
    let listen = Channel::open()?;
    let kbc = match I8042::claim().and_then(|k| k.init().map(|_| k)) {
        Ok(k) => k,
        Err(why) => {
            runtime::debug_println!(
                "ps2kbd: no i8042 at {:#x}/{:#x} ({}); keyboard off",
                config::BOARD_PS2_DATA_PORT,
                config::BOARD_PS2_COMMAND_PORT,
                why
            );
            idle();
        }
    };
    ks::listen_irq(config::BOARD_PS2_IRQ, listen)?;
    let mut d = Driver { kbc, decoder: Decoder::new(), console: service::Client::new("console"), warned: false };
    // Bytes that came before the interrupt was routed raise no new edge.
    d.pump();
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_err() {
            continue;
        }
        if !m.is_notification() {
            service::drop_payloads(&m); // nobody else holds this channel's peer
            continue;
        }
        if m.arg & NOTIFY_IRQ != 0 {
            d.pump();
        }
    }
}

/// Stay out of init's way: a driver without hardware neither runs nor
/// dies (dying would make init restart it, then give up noisily).
fn idle() -> ! {
    loop {
        let _ = service::sleep_ms(1 << 30);
    }
}

struct Driver {
    kbc: I8042,
    decoder: Decoder,
    console: service::Client,
    /// A refused or failed CONSOLE_INPUT was reported (once).
    warned: bool,
}

impl Driver {
    /// Read what the controller holds, decode it, send the bytes on.
    fn pump(&mut self) {
        let mut out = [0u8; CONSOLE_INPUT_MAX];
        let mut n = 0;
        while let Some(code) = self.kbc.read() {
            if let Some(b) = self.decoder.feed(code) {
                out[n] = b;
                n += 1;
                if n == out.len() {
                    self.send(&out[..n]);
                    n = 0;
                }
            }
        }
        if n > 0 {
            self.send(&out[..n]);
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let r = Msg::with_data(CONSOLE_INPUT, bytes).and_then(|mut m| {
            self.console.call(&mut m)?;
            m.result()
        });
        match r {
            Ok(_) => self.warned = false,
            Err(e) if !self.warned => {
                self.warned = true;
                runtime::debug_println!("ps2kbd: console input: {}; keys dropped", e);
            }
            Err(_) => {}
        }
    }
}
