//! pci - the PCI enumerator of boards with a [pci] table (the pc):
//! reads configuration space through mechanism #1 (CONFIG_ADDRESS /
//! CONFIG_DATA, board.toml [pci], granted as one KS_IOPORT range), walks
//! bus 0 and the buses behind bridges (as the firmware numbered them, at
//! most 8) once at start, sizes each BAR, and serves "pci" (runtime::pci):
//! PCI_CLAIM gives a driver its device (BARs, IRQ line) and turns on
//! decoding and bus mastering; one claim per device, held while the
//! claiming channel lives. A dead claimant's device gets bus mastering
//! turned off, so it cannot write into memory its driver no longer owns.
//! It compiles for every target; init starts it only when CONFIG_PCI.
#![no_std]
#![no_main]

use runtime::service::reply_with as reply_msg;
use runtime::abi::*;
use runtime::pci::*;
use runtime::proto::*;
use runtime::{config, ks, service, Channel, Error, Msg, Result};

runtime::entry!(main);

/// Devices kept (bus 0 has at most 32 x 8 functions; a PC has a dozen).
const DEVICES_MAX: usize = 32;

const REG_ID: u8 = 0x00;
const REG_COMMAND: u8 = 0x04;
const REG_CLASS: u8 = 0x08;
const REG_HEADER: u8 = 0x0c;
const REG_BAR0: u8 = 0x10;
const REG_BUS_NUMBERS: u8 = 0x18; // bridges: primary, secondary, subordinate
const REG_IRQ: u8 = 0x3c;
/// Buses walked at most (bus 0 and those behind bridges).
const BUSES_MAX: usize = 8;
const CMD_IO: u32 = 0x1;
const CMD_MEMORY: u32 = 0x2;
const CMD_BUS_MASTER: u32 = 0x4;

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            runtime::debug_println!("pci: {}", e);
            1
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn outl(port: u16, v: u32) {
    // SAFETY: the kernel granted this task the configuration ports
    // (KS_IOPORT); writing them has no effect on this task's memory.
    unsafe { core::arch::asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags)) }
}

#[cfg(target_arch = "x86_64")]
fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: as for outl.
    unsafe { core::arch::asm!("in eax, dx", out("eax") v, in("dx") port, options(nomem, nostack, preserves_flags)) }
    v
}

#[cfg(not(target_arch = "x86_64"))]
fn outl(_port: u16, _v: u32) {}

#[cfg(not(target_arch = "x86_64"))]
fn inl(_port: u16) -> u32 {
    0xffff_ffff
}

const ADDR: u16 = config::BOARD_PCI_CONFIG_ADDRESS as u16;
const DATA: u16 = config::BOARD_PCI_CONFIG_DATA as u16;

fn read(bus: u8, dev: u8, func: u8, reg: u8) -> u32 {
    match config_address(bus, dev, func, reg) {
        Some(a) => {
            outl(ADDR, a);
            inl(DATA)
        }
        None => 0xffff_ffff,
    }
}

fn write(bus: u8, dev: u8, func: u8, reg: u8, v: u32) {
    if let Some(a) = config_address(bus, dev, func, reg) {
        outl(ADDR, a);
        outl(DATA, v);
    }
}

#[derive(Clone, Copy)]
struct Entry {
    dev: PciDevice,
    /// The claiming connection's channel, or -1.
    owner: i32,
}

struct Server {
    listen: Channel,
    devices: [Option<Entry>; DEVICES_MAX],
    clients: service::Clients<8>,
}

fn run() -> Result<()> {
    ks::ioport(ADDR, DATA - ADDR + 4)?;
    let mut s = Server { listen: Channel::from_raw(-1), devices: [None; DEVICES_MAX], clients: service::Clients::new() };
    let n = s.scan();
    runtime::debug_println!("pci: {} devices", n);
    s.listen = service::listen(PCI_SERVICE)?;
    let mut m = Msg::new(0);
    loop {
        if s.listen.recv(&mut m).is_ok() {
            s.handle(&m);
        }
    }
}


impl Server {
    /// Bus 0, and the buses behind PCI-to-PCI bridges (at most
    /// BUSES_MAX buses in all): every device, every function of a
    /// multi-function one.
    fn scan(&mut self) -> usize {
        let mut n = 0;
        let mut buses = [0u8; BUSES_MAX];
        let mut nbuses = 1;
        let mut next = 0;
        while next < nbuses {
            let bus = buses[next];
            next += 1;
            for dev in 0..32u8 {
                let funcs = if read(bus, dev, 0, REG_HEADER) & 0x0080_0000 != 0 { 8 } else { 1 };
                for func in 0..funcs {
                    let id = read(bus, dev, func, REG_ID);
                    if id & 0xffff == 0xffff {
                        continue;
                    }
                    if n == DEVICES_MAX {
                        return n;
                    }
                    self.devices[n] = Some(Entry { dev: probe(bus, dev, func, id), owner: -1 });
                    n += 1;
                    // A bridge: its secondary bus, once (firmware numbered it).
                    if (read(bus, dev, func, REG_HEADER) >> 16) & 0x7f == 1 {
                        let secondary = (read(bus, dev, func, REG_BUS_NUMBERS) >> 8) as u8;
                        if secondary != 0 && nbuses < BUSES_MAX && !buses[..nbuses].contains(&secondary) {
                            buses[nbuses] = secondary;
                            nbuses += 1;
                        }
                    }
                }
            }
        }
        n
    }

    fn handle(&mut self, m: &Msg) {
        let from = Channel::from_raw(m.from);
        if m.label != INIT_CONNECT {
            service::drop_payloads(m); // no pci request carries one
        }
        match m.label {
            LABEL_NOTIFICATION => {
                if m.arg & NOTIFY_PEER_CLOSED != 0 {
                    self.release_dead();
                }
                self.clients.on_notification(m);
            }
            INIT_CONNECT => {
                // Before Clients closes dead channels (and their ids are
                // reused): end the claims they held.
                self.release_dead();
                let _ = self.clients.accept(self.listen, m);
            }
            PCI_CLAIM | PCI_CLAIM_CLASS => {
                let r = self.claim(m);
                match r {
                    Ok(d) => reply_msg(from, d.to_msg(m.label), Ok(0)),
                    Err(e) => reply_msg(from, Msg::new(m.label), Err(e)),
                }
            }
            PCI_LIST => {
                let d = self.devices.iter().flatten().nth(m.arg.min(DEVICES_MAX as u64) as usize);
                match d {
                    Some(e) => reply_msg(from, e.dev.to_msg(PCI_LIST), Ok(0)),
                    None => reply_msg(from, Msg::new(PCI_LIST), Err(Error::NoEnt)),
                }
            }
            label => reply_msg(from, Msg::new(label), Err(Error::NoSys)),
        }
    }

    /// PCI_CLAIM (by ids) or PCI_CLAIM_CLASS (the first of that class no
    /// other live connection holds).
    fn claim(&mut self, m: &Msg) -> Result<PciDevice> {
        let by_ids = parse_claim(m).filter(|_| m.label == PCI_CLAIM);
        let by_class = parse_claim_class(m).filter(|_| m.label == PCI_CLAIM_CLASS);
        if by_ids.is_none() && by_class.is_none() {
            return Err(Error::Inval);
        }
        self.release_dead();
        let from = m.from;
        let matches = |d: &PciDevice| match (by_ids, by_class) {
            (Some((v, id)), _) => d.vendor == v && d.device == id,
            (_, Some(c)) => d.class_pair() == c,
            _ => false,
        };
        let mut found = false;
        for e in self.devices.iter_mut().flatten() {
            if !matches(&e.dev) {
                continue;
            }
            found = true;
            if e.owner >= 0 && e.owner != from {
                continue;
            }
            e.owner = from;
            let d = e.dev;
            let cmd = read(d.bus, d.dev, d.func, REG_COMMAND) & 0xffff;
            write(d.bus, d.dev, d.func, REG_COMMAND, cmd | CMD_IO | CMD_MEMORY | CMD_BUS_MASTER);
            return Ok(d);
        }
        Err(if found { Error::Busy } else { Error::NoEnt })
    }

    /// End the claims of connections whose client has gone: bus
    /// mastering off (the driver's DMA memory went back to the kernel).
    fn release_dead(&mut self) {
        for e in self.devices.iter_mut().flatten().filter(|e| e.owner >= 0) {
            let ch = Channel::from_raw(e.owner);
            if ch.send_noblock(&Msg::new(0)) == Err(Error::Closed) {
                let d = e.dev;
                let cmd = read(d.bus, d.dev, d.func, REG_COMMAND) & 0xffff;
                write(d.bus, d.dev, d.func, REG_COMMAND, cmd & !CMD_BUS_MASTER);
                e.owner = -1;
            }
        }
    }
}

/// A device's identity, class, IRQ line and BARs (each sized with
/// decoding off, then restored).
fn probe(bus: u8, dev: u8, func: u8, id: u32) -> PciDevice {
    let mut d = PciDevice {
        bus,
        dev,
        func,
        irq: read(bus, dev, func, REG_IRQ) as u8,
        vendor: id as u16,
        device: (id >> 16) as u16,
        class: read(bus, dev, func, REG_CLASS),
        bars: [Bar::default(); BARS],
    };
    let header = (read(bus, dev, func, REG_HEADER) >> 16) & 0x7f;
    let nbars = match header {
        0 => 6,
        1 => 2, // a PCI-to-PCI bridge
        _ => 0,
    };
    let cmd = read(bus, dev, func, REG_COMMAND) & 0xffff;
    write(bus, dev, func, REG_COMMAND, cmd & !(CMD_IO | CMD_MEMORY));
    let mut i = 0;
    while i < nbars {
        let reg = REG_BAR0 + 4 * i as u8;
        let orig = read(bus, dev, func, reg);
        write(bus, dev, func, reg, 0xffff_ffff);
        let ones = read(bus, dev, func, reg);
        write(bus, dev, func, reg, orig);
        let high = if i + 1 < nbars { read(bus, dev, func, reg + 4) } else { 0 };
        let (bar, wide) = decode_bar(orig, ones, high);
        d.bars[i] = bar;
        i += if wide { 2 } else { 1 };
    }
    write(bus, dev, func, REG_COMMAND, cmd);
    d
}
