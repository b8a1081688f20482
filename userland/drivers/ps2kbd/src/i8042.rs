//! i8042.rs - the PC's PS/2 controller (board.toml [ps2]: data port 0x60,
//! command/status port 0x64), reached through the ports KS_IOPORT grants.
//! Every wait is bounded (a few tens of ms by the kernel's clock); a
//! controller that does not answer is `Absent`, never a hang. I/O ports
//! exist on x86 only: elsewhere KS_IOPORT fails before a port is touched.

use runtime::{config, ks, Error};

const STATUS_OUTPUT_FULL: u8 = 0x01; // a byte waits at the data port
const STATUS_INPUT_FULL: u8 = 0x02; // the controller has not taken our last byte
const STATUS_AUX: u8 = 0x20; // the waiting byte is from the second (mouse) port

const CMD_READ_CONFIG: u8 = 0x20;
const CMD_WRITE_CONFIG: u8 = 0x60;
const CMD_DISABLE_PORT2: u8 = 0xa7;
const CMD_DISABLE_PORT1: u8 = 0xad;
const CMD_ENABLE_PORT1: u8 = 0xae;

const CONFIG_PORT1_IRQ: u8 = 0x01;
const CONFIG_PORT2_IRQ: u8 = 0x02;
const CONFIG_PORT1_CLOCK_OFF: u8 = 0x10;
const CONFIG_TRANSLATE: u8 = 0x40; // set 2 -> set 1, which keyboard::ps2 decodes

const KBD_ENABLE_SCANNING: u8 = 0xf4;
const KBD_ACK: u8 = 0xfa;

/// How long one step may wait for the controller.
const WAIT_MS: u64 = 50;
/// Bytes thrown away while flushing (the controller's buffer, plus what
/// the keyboard may still send).
const FLUSH_MAX: usize = 64;

pub struct I8042 {
    data: u16,
    command: u16,
}

#[cfg(target_arch = "x86_64")]
fn outb(port: u16, v: u8) {
    // SAFETY: the kernel granted this task the controller's ports
    // (KS_IOPORT); writing them has no effect on memory.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags)) }
}

#[cfg(target_arch = "x86_64")]
fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for outb.
    unsafe { core::arch::asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags)) }
    v
}

#[cfg(not(target_arch = "x86_64"))]
fn outb(_port: u16, _v: u8) {}

#[cfg(not(target_arch = "x86_64"))]
fn inb(_port: u16) -> u8 {
    0xff
}

/// Why the controller cannot be used.
pub enum Absent {
    /// KS_IOPORT refused the ports.
    Ports(Error),
    /// The status port reads 0xff (nothing decodes it: no i8042, or a
    /// PC without legacy emulation).
    Floating,
    /// A step got no answer in time.
    Timeout(&'static str),
}

impl core::fmt::Display for Absent {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            Absent::Ports(e) => write!(f, "ports refused: {}", e),
            Absent::Floating => write!(f, "status port reads 0xff"),
            Absent::Timeout(what) => write!(f, "no answer: {}", what),
        }
    }
}

impl I8042 {
    /// Claim the ports: one range from the lower to the higher (the kernel
    /// grants one range per task; on a PC that is 0x60..=0x64, which
    /// includes 0x61, system control port B).
    pub fn claim() -> core::result::Result<I8042, Absent> {
        let data = config::BOARD_PS2_DATA_PORT as u16;
        let command = config::BOARD_PS2_COMMAND_PORT as u16;
        let (lo, hi) = (data.min(command), data.max(command));
        ks::ioport(lo, hi - lo + 1).map_err(Absent::Ports)?;
        Ok(I8042 { data, command })
    }

    fn status(&self) -> u8 {
        inb(self.command)
    }

    /// Wait until `ready(status)`, at most WAIT_MS.
    fn wait(&self, ready: impl Fn(u8) -> bool, what: &'static str) -> core::result::Result<(), Absent> {
        let deadline = ks::uptime() + WAIT_MS;
        loop {
            if ready(self.status()) {
                return Ok(());
            }
            if ks::uptime() > deadline {
                return Err(Absent::Timeout(what));
            }
            ks::yield_now();
        }
    }

    fn command(&self, cmd: u8) -> core::result::Result<(), Absent> {
        self.wait(|s| s & STATUS_INPUT_FULL == 0, "command")?;
        outb(self.command, cmd);
        Ok(())
    }

    fn write_data(&self, v: u8) -> core::result::Result<(), Absent> {
        self.wait(|s| s & STATUS_INPUT_FULL == 0, "data write")?;
        outb(self.data, v);
        Ok(())
    }

    fn read_data(&self, what: &'static str) -> core::result::Result<u8, Absent> {
        self.wait(|s| s & STATUS_OUTPUT_FULL != 0, what)?;
        Ok(inb(self.data))
    }

    /// Throw away whatever waits in the output buffer (bounded).
    fn flush(&self) {
        for _ in 0..FLUSH_MAX {
            if self.status() & STATUS_OUTPUT_FULL == 0 {
                return;
            }
            let _ = inb(self.data);
        }
    }

    /// Set the controller up for the keyboard on the first port: both
    /// ports off, buffer flushed, translation on (scan code set 1), the
    /// second port's interrupt off; port 1 on, scanning enabled; then its
    /// interrupt on. A byte that arrives meanwhile raises no new edge on
    /// IRQ 1: the caller reads what waits with `read` once it listens.
    pub fn init(&self) -> core::result::Result<(), Absent> {
        if self.status() == 0xff {
            return Err(Absent::Floating);
        }
        self.command(CMD_DISABLE_PORT1)?;
        self.command(CMD_DISABLE_PORT2)?;
        self.flush();
        self.command(CMD_READ_CONFIG)?;
        let cfg = self.read_data("reading the configuration")?;
        let cfg = (cfg | CONFIG_TRANSLATE) & !(CONFIG_PORT1_IRQ | CONFIG_PORT2_IRQ | CONFIG_PORT1_CLOCK_OFF);
        self.command(CMD_WRITE_CONFIG)?;
        self.write_data(cfg)?;
        self.command(CMD_ENABLE_PORT1)?;
        // Scanning is on after the keyboard's reset; a driver restarted
        // after a half-done init makes sure. No keyboard: no ACK, but the
        // controller is there (keys plugged in later still need this).
        self.write_data(KBD_ENABLE_SCANNING)?;
        for _ in 0..4 {
            match self.read_data("keyboard ACK") {
                Ok(KBD_ACK) | Err(_) => break,
                Ok(_) => {} // a key already on its way: dropped
            }
        }
        self.command(CMD_WRITE_CONFIG)?;
        self.write_data(cfg | CONFIG_PORT1_IRQ)?;
        Ok(())
    }

    /// The next byte from the keyboard, if one waits (bytes of the second
    /// port are read and dropped).
    pub fn read(&self) -> Option<u8> {
        for _ in 0..FLUSH_MAX {
            let s = self.status();
            if s & STATUS_OUTPUT_FULL == 0 {
                return None;
            }
            let b = inb(self.data);
            if s & STATUS_AUX == 0 {
                return Some(b);
            }
        }
        None
    }
}
