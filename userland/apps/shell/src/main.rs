//! shell - the interactive shell on the serial console: reads lines
//! through the console server (echoing and editing them) and runs the
//! commands of docs/protocols.md, whose output formats the HIL tests match.
#![no_std]
#![no_main]

extern crate alloc;

mod bench;
mod commands;
mod fpu;
mod fuzz;
mod gpio;
mod ipctest;
mod netcmd;
mod nic;
mod pci;

use runtime::lineedit::{Action, LineEditor};
use runtime::print::{console_call, set_console, write_bytes};
use runtime::proto::CONSOLE_READ;
use runtime::{service, Channel, Msg, Result};

runtime::entry!(main);

pub const PROMPT: &str = "nagi> ";

/// Channels to the services the shell uses, looked up on first use.
pub struct Services {
    memory: Option<Channel>,
    peer: Option<Channel>,
    bench: Option<Channel>,
    gpio: Option<Channel>,
    /// The NIC driver, found again after it restarts.
    pub nic: service::Client,
    /// The TCP/IP server (CONFIG_NET), found again after it restarts.
    pub net: runtime::net::Net,
}

fn lazy(slot: &mut Option<Channel>, name: &str) -> Result<Channel> {
    if slot.is_none() {
        *slot = Some(service::lookup(name)?);
    }
    Ok(slot.unwrap())
}

impl Services {
    /// The pager (none without an MMU: no waiting for a lookup then).
    pub fn memory(&mut self) -> Result<Channel> {
        if !runtime::config::CONFIG_ARCH_HAS_MMU {
            return Err(runtime::Error::NoEnt);
        }
        lazy(&mut self.memory, "memory")
    }

    pub fn peer(&mut self) -> Result<Channel> {
        lazy(&mut self.peer, "ipc_peer")
    }

    pub fn bench(&mut self) -> Result<Channel> {
        lazy(&mut self.bench, "bench_server")
    }

    pub fn gpio(&mut self) -> Result<Channel> {
        lazy(&mut self.gpio, "gpio")
    }
}

fn main(_arg: u64) -> i32 {
    let console = connect_console();
    set_console(console);
    let mut svc = Services { memory: None, peer: None, bench: None, gpio: None, nic: service::Client::new(runtime::nic::NIC_SERVICE), net: runtime::net::Net::new() };
    let mut editor = LineEditor::new();
    runtime::print!("{}", PROMPT);
    loop {
        let mut m = Msg::new(CONSOLE_READ);
        // console_call finds a restarted console again by name.
        if console_call(&mut m).is_err() || m.result().is_err() {
            let _ = service::sleep_ms(100);
            continue;
        }
        let input = m;
        feed(&mut svc, &mut editor, input.payload());
    }
}

/// The console server (init answers after it registers; retry until then).
fn connect_console() -> Channel {
    loop {
        match service::lookup("console") {
            Ok(ch) => return ch,
            Err(e) => runtime::debug_println!("shell: console lookup failed ({}), retrying", e),
        }
    }
}

/// Run input through the line editor: echo, and run complete lines.
fn feed(svc: &mut Services, editor: &mut LineEditor, input: &[u8]) {
    let mut echo = [0u8; 3 * runtime::abi::MSG_INLINE_MAX];
    let mut n = 0;
    for &b in input {
        match editor.feed(b) {
            Action::None => {}
            Action::Echo(c) => {
                echo[n] = c;
                n += 1;
            }
            Action::Erase => {
                echo[n..n + 3].copy_from_slice(b"\x08 \x08");
                n += 3;
            }
            Action::Done => {
                write_bytes(&echo[..n]);
                n = 0;
                write_bytes(b"\n");
                if editor.overflow() > 0 {
                    runtime::println!(
                        "shell: line too long ({} characters, limit {}); not run",
                        editor.line().len() + editor.overflow(),
                        runtime::lineedit::LINE_MAX
                    );
                } else {
                    commands::run(svc, editor.line());
                }
                editor.clear();
                runtime::print!("{}", PROMPT);
            }
        }
    }
    write_bytes(&echo[..n]);
}
