//! e1000 - the Intel 82540EM (QEMU `-device e1000`) driver of boards whose
//! board.toml [nic] names model "e1000" (the pc). It gets its device from
//! the pci enumerator (PCI_CLAIM by the board's ids), maps BAR0
//! (KS_MMIO), puts its descriptor rings and buffers in DMA memory
//! (KS_DMA_ALLOC: the kernel frees them when this task dies), resets the
//! chip, reads the MAC from the EEPROM, and serves "nic" (runtime::nic,
//! docs/protocols.md "NIC drivers") to one client through
//! runtime::nic_server (this file is the hardware side: rings, buffers,
//! registers). The IRQ arrives as
//! NOTIFY_IRQ on its listening channel; reading ICR acknowledges it.
//! Restarted by init, it resets the chip again before anything else.
//! It compiles for every target; init starts it only when CONFIG_E1000.
#![no_std]
#![no_main]

use core::sync::atomic::{fence, Ordering};
use runtime::nic::*;
use runtime::nic_server::{serve_absent, Device, Server};
use runtime::pci::{claim_request, PciDevice, BAR_IO, PCI_SERVICE};
use runtime::{config, ks, service, Error, Msg, Result};

runtime::entry!(main);

// Registers (82540EM, Intel PCI/PCI-X Family of GbE Controllers SDM).
const CTRL: usize = 0x0000;
const STATUS: usize = 0x0008;
const EERD: usize = 0x0014;
const ICR: usize = 0x00c0;
const IMS: usize = 0x00d0;
const IMC: usize = 0x00d8;
const RCTL: usize = 0x0100;
const TCTL: usize = 0x0400;
const TIPG: usize = 0x0410;
const RDBAL: usize = 0x2800;
const RDBAH: usize = 0x2804;
const RDLEN: usize = 0x2808;
const RDH: usize = 0x2810;
const RDT: usize = 0x2818;
const TDBAL: usize = 0x3800;
const TDBAH: usize = 0x3804;
const TDLEN: usize = 0x3808;
const TDH: usize = 0x3810;
const TDT: usize = 0x3818;
const CRCERRS: usize = 0x4000;
const MPC: usize = 0x4010;
const RNBC: usize = 0x40a0;
const MTA: usize = 0x5200;
const RAL0: usize = 0x5400;
const RAH0: usize = 0x5404;

const CTRL_ASDE: u32 = 1 << 5;
const CTRL_SLU: u32 = 1 << 6;
const CTRL_LRST: u32 = 1 << 3;
const CTRL_ILOS: u32 = 1 << 7;
const CTRL_RST: u32 = 1 << 26;
const CTRL_VME: u32 = 1 << 30;
const CTRL_PHY_RST: u32 = 1 << 31;
const STATUS_LU: u32 = 1 << 1;
const EERD_START: u32 = 1 << 0;
const EERD_DONE: u32 = 1 << 4;
const ICR_TXDW: u32 = 1 << 0;
const ICR_LSC: u32 = 1 << 2;
const ICR_RXDMT0: u32 = 1 << 4;
const ICR_RXO: u32 = 1 << 6;
const ICR_RXT0: u32 = 1 << 7;
const RCTL_EN: u32 = 1 << 1;
const RCTL_BAM: u32 = 1 << 15;
const RCTL_SECRC: u32 = 1 << 26; // BSIZE 00: 2048-byte buffers
const TCTL_EN: u32 = 1 << 1;
const TCTL_PSP: u32 = 1 << 3;
const TCTL_CT: u32 = 0x10 << 4;
const TCTL_COLD: u32 = 0x40 << 12;
const RAH_AV: u32 = 1 << 31;

const DESC_DD: u8 = 1 << 0;
const DESC_EOP: u8 = 1 << 1;
const TX_CMD_EOP: u8 = 1 << 0;
const TX_CMD_IFCS: u8 = 1 << 1;
const TX_CMD_RS: u8 = 1 << 3;

/// Descriptors per ring (16 bytes each: both rings fit in one page each)
/// and the buffer behind each (2 KiB: a whole frame).
const RING: usize = 32;
const BUF: usize = 2048;
const PAGE: u64 = 4096;
const BUF_PAGES: u32 = (RING * BUF) as u32 / PAGE as u32;
const MTU: u16 = 1500;

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            runtime::debug_println!("e1000: {}", e);
            1
        }
    }
}

/// A block of DMA memory: where this task sees it and where the device does.
#[derive(Clone, Copy)]
struct Dma {
    va: u64,
    pa: u64,
}

impl Dma {
    fn alloc(va: u64, pages: u32) -> Result<Dma> {
        Ok(Dma { va, pa: ks::dma_alloc(va, pages)? })
    }
    fn ptr(&self, off: usize) -> *mut u8 {
        (self.va as usize + off) as *mut u8
    }
}

struct Regs {
    base: usize,
    len: usize,
}

impl Regs {
    fn read(&self, off: usize) -> u32 {
        assert!(off + 4 <= self.len);
        // SAFETY: KS_MMIO mapped [base, base + len) for this task (uncached);
        // the access is aligned and inside it; device registers are not
        // Rust memory.
        unsafe { core::ptr::read_volatile((self.base + off) as *const u32) }
    }
    fn write(&self, off: usize, v: u32) {
        assert!(off + 4 <= self.len);
        // SAFETY: as in read().
        unsafe { core::ptr::write_volatile((self.base + off) as *mut u32, v) }
    }
}

struct Nic {
    regs: Regs,
    rx_ring: Dma,
    tx_ring: Dma,
    rx_bufs: Dma,
    tx_bufs: Dma,
    /// Next receive descriptor to hand to the client / whose frame is
    /// being handed out; `rx_off`: bytes of it already given.
    rx_next: usize,
    rx_off: usize,
    /// Descriptors from rx_next on already counted in info.
    rx_seen: usize,
    /// Next transmit descriptor to fill; oldest not yet reaped.
    tx_tail: usize,
    tx_clean: usize,
    info: NicInfo,
    /// Whether a client holds the device (else received frames are dropped).
    held: bool,
}

fn run() -> Result<()> {
    let dev = match claim() {
        Ok(d) => d,
        Err(e) => {
            runtime::debug_println!(
                "e1000: no {:04x}:{:04x} on the PCI bus ({}); network off",
                config::BOARD_NIC_PCI_VENDOR,
                config::BOARD_NIC_PCI_DEVICE,
                e
            );
            serve_absent();
        }
    };
    let bar = dev.bars[0];
    if bar.size == 0 || bar.flags & BAR_IO != 0 || bar.addr >= 1 << 32 {
        runtime::debug_println!("e1000: BAR0 is not 32-bit memory; network off");
        serve_absent();
    }
    let va = ks::mmio_map(bar.addr as u32, bar.size)?;
    let regs = Regs { base: if va != 0 { va } else { bar.addr } as usize, len: bar.size as usize };
    // A card an earlier instance left running may still write into the
    // rings it had (freed by the kernel): silence it before taking DMA
    // memory, which may be those very pages.
    stop(&regs);
    // DMA memory above the heap (bootinfo), clear of anything mapped.
    let bi = runtime::sys::bootinfo().ok_or(Error::Inval)?;
    let base = bi.heap_base + bi.heap_size + (16 << 20);
    let rings = Dma::alloc(base, 2)?;
    let rx_bufs = Dma::alloc(base + 2 * PAGE, BUF_PAGES)?;
    let tx_bufs = Dma::alloc(base + (2 + BUF_PAGES as u64) * PAGE, BUF_PAGES)?;
    let mut nic = Nic {
        regs,
        rx_ring: rings,
        tx_ring: Dma { va: rings.va + PAGE, pa: rings.pa + PAGE },
        rx_bufs,
        tx_bufs,
        rx_next: 0,
        rx_off: 0,
        rx_seen: 0,
        tx_tail: 0,
        tx_clean: 0,
        info: NicInfo { mtu: MTU, ..Default::default() },
        held: false,
    };
    nic.reset();
    let m = nic.info.mac;
    runtime::debug_println!(
        "e1000: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} irq {} link {}",
        m[0], m[1], m[2], m[3], m[4], m[5], dev.irq,
        if nic.info.link_up { "up" } else { "down" }
    );
    Server::new(&mut nic)?.run(dev.irq as u32)
}

/// Ask the enumerator for the board's card (waits for "pci" to register).
fn claim() -> Result<PciDevice> {
    let pci = service::lookup(PCI_SERVICE)?;
    let mut m = claim_request(config::BOARD_NIC_PCI_VENDOR as u16, config::BOARD_NIC_PCI_DEVICE as u16);
    pci.call(&mut m)?;
    m.result()?;
    // The channel stays open: the claim lasts while it does.
    PciDevice::parse(&m)
}

/// Interrupts off, receive and transmit off, then a full reset
/// (CTRL.RST, bounded wait); the card does no DMA afterwards.
fn stop(r: &Regs) {
    r.write(IMC, 0xffff_ffff);
    r.write(RCTL, 0);
    r.write(TCTL, 0);
    r.write(CTRL, r.read(CTRL) | CTRL_RST);
    for _ in 0..100 {
        if r.read(CTRL) & CTRL_RST == 0 {
            break;
        }
        let _ = service::sleep_ms(1);
    }
    r.write(IMC, 0xffff_ffff);
    let _ = r.read(ICR);
}

impl Nic {
    fn rx_desc(&self, i: usize) -> *mut u8 {
        self.rx_ring.ptr(16 * i)
    }
    fn tx_desc(&self, i: usize) -> *mut u8 {
        self.tx_ring.ptr(16 * i)
    }

    /// Reset the chip (also stops whatever a previous instance left
    /// running), read the MAC, set up both rings, turn interrupts on.
    fn reset(&mut self) {
        stop(&self.regs);
        let r = &self.regs;
        let ctrl = r.read(CTRL) & !(CTRL_LRST | CTRL_ILOS | CTRL_VME | CTRL_PHY_RST);
        r.write(CTRL, ctrl | CTRL_SLU | CTRL_ASDE);
        self.info.mac = self.read_mac();
        let m = self.info.mac;
        r.write(RAL0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
        r.write(RAH0, u16::from_le_bytes([m[4], m[5]]) as u32 | RAH_AV);
        for i in 0..128 {
            r.write(MTA + 4 * i, 0);
        }
        // Receive: every descriptor owned by the device but one.
        for i in 0..RING {
            let d = self.rx_desc(i);
            // SAFETY: the descriptor lies in this task's DMA page (rx_ring);
            // the device does not use the ring before RCTL.EN.
            unsafe {
                core::ptr::write_bytes(d, 0, 16);
                core::ptr::write_volatile(d as *mut u64, self.rx_bufs.pa + (i * BUF) as u64);
            }
        }
        for i in 0..RING {
            // SAFETY: as above, the transmit ring page.
            unsafe { core::ptr::write_bytes(self.tx_desc(i), 0, 16) };
        }
        fence(Ordering::SeqCst);
        r.write(RDBAL, self.rx_ring.pa as u32);
        r.write(RDBAH, (self.rx_ring.pa >> 32) as u32);
        r.write(RDLEN, (RING * 16) as u32);
        r.write(RDH, 0);
        r.write(RDT, (RING - 1) as u32);
        r.write(RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
        r.write(TDBAL, self.tx_ring.pa as u32);
        r.write(TDBAH, (self.tx_ring.pa >> 32) as u32);
        r.write(TDLEN, (RING * 16) as u32);
        r.write(TDH, 0);
        r.write(TDT, 0);
        r.write(TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
        r.write(TIPG, 0x0060_200a);
        // Clear the statistics (read to clear).
        let _ = (r.read(CRCERRS), r.read(MPC), r.read(RNBC));
        r.write(IMS, ICR_LSC | ICR_RXT0 | ICR_RXDMT0 | ICR_RXO | ICR_TXDW);
        self.rx_next = 0;
        self.rx_off = 0;
        self.rx_seen = 0;
        self.tx_tail = 0;
        self.tx_clean = 0;
        self.info.link_up = r.read(STATUS) & STATUS_LU != 0;
    }

    /// EEPROM words 0..2 (EERD), else what the chip loaded into RAL0/RAH0.
    fn read_mac(&self) -> [u8; 6] {
        let r = &self.regs;
        let mut mac = [0u8; 6];
        let mut ok = true;
        for w in 0..3 {
            r.write(EERD, EERD_START | (w as u32) << 8);
            let mut v = None;
            for _ in 0..10_000 {
                let x = r.read(EERD);
                if x & EERD_DONE != 0 {
                    v = Some((x >> 16) as u16);
                    break;
                }
            }
            match v {
                Some(v) => mac[2 * w..2 * w + 2].copy_from_slice(&v.to_le_bytes()),
                None => ok = false,
            }
        }
        if !ok || mac == [0; 6] {
            let lo = r.read(RAL0).to_le_bytes();
            let hi = r.read(RAH0).to_le_bytes();
            mac = [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1]];
        }
        mac
    }

    fn rx_status(&self, i: usize) -> (u8, u8, usize) {
        let d = self.rx_desc(i);
        fence(Ordering::SeqCst);
        // SAFETY: the descriptor lies in this task's DMA page; the device
        // writes it, hence the volatile reads.
        unsafe {
            let len = core::ptr::read_volatile(d.add(8) as *const u16) as usize;
            let status = core::ptr::read_volatile(d.add(12));
            let errors = core::ptr::read_volatile(d.add(13));
            (status, errors, len)
        }
    }

    /// Count newly received frames; give bad ones back at once, and every
    /// one when no client holds the device (nobody would take them).
    fn reap_rx(&mut self) {
        // Count what the device filled since last time (descriptors the
        // driver holds have a clear status, so the walk stops there).
        while self.rx_seen < RING {
            let (status, _, len) = self.rx_status((self.rx_next + self.rx_seen) % RING);
            if status & DESC_DD == 0 {
                break;
            }
            self.info.rx_frames += 1;
            self.info.rx_bytes += len as u64;
            self.rx_seen += 1;
        }
        // Drop frames at the head that are bad, or that no one will take.
        loop {
            let (status, errors, len) = self.rx_status(self.rx_next);
            if status & DESC_DD == 0 {
                break;
            }
            let bad = errors != 0 || status & DESC_EOP == 0 || !(FRAME_MIN..=FRAME_MAX).contains(&len);
            if !bad && self.held {
                break;
            }
            if bad {
                self.info.rx_errors += 1;
            } else {
                self.info.rx_drops += 1;
            }
            self.rx_give_back();
        }
    }

    /// The head descriptor back to the device.
    fn rx_give_back(&mut self) {
        let i = self.rx_next;
        // SAFETY: the descriptor lies in this task's DMA page, and the
        // device is done with it (DD).
        unsafe { core::ptr::write_volatile(self.rx_desc(i).add(12), 0u8) };
        fence(Ordering::SeqCst);
        self.regs.write(RDT, i as u32);
        self.rx_next = (i + 1) % RING;
        self.rx_off = 0;
        self.rx_seen = self.rx_seen.saturating_sub(1);
    }

    /// Reap transmit descriptors the device has sent.
    fn reap_tx(&mut self) {
        while self.tx_clean != self.tx_tail {
            let d = self.tx_desc(self.tx_clean);
            fence(Ordering::SeqCst);
            // SAFETY: a descriptor in this task's DMA page; the device sets DD.
            let status = unsafe { core::ptr::read_volatile(d.add(12)) };
            if status & DESC_DD == 0 {
                break;
            }
            self.tx_clean = (self.tx_clean + 1) % RING;
        }
    }
}

impl Device for Nic {
    fn info(&mut self) -> &mut NicInfo {
        &mut self.info
    }

    fn interrupt(&mut self) {
        let icr = self.regs.read(ICR); // reading acknowledges
        if icr & ICR_LSC != 0 {
            self.info.link_up = self.regs.read(STATUS) & STATUS_LU != 0;
        }
        self.reap_rx();
    }

    /// Statistics the device counts itself (clear on read).
    fn update(&mut self) {
        let r = &self.regs;
        self.info.rx_drops += (r.read(MPC) + r.read(RNBC)) as u64;
        self.info.rx_errors += r.read(CRCERRS) as u64;
        self.info.link_up = r.read(STATUS) & STATUS_LU != 0;
        self.reap_rx();
    }

    fn rx_pending(&self) -> bool {
        self.rx_status(self.rx_next).0 & DESC_DD != 0
    }

    fn recv(&mut self) -> Msg {
        self.reap_rx();
        let (status, _, len) = self.rx_status(self.rx_next);
        if status & DESC_DD == 0 {
            return Msg::new(NIC_RECV);
        }
        // SAFETY: the buffer of a descriptor the device is done with, in
        // this task's DMA memory, BUF >= FRAME_MAX >= len bytes.
        let frame = unsafe { core::slice::from_raw_parts(self.rx_bufs.ptr(self.rx_next * BUF), len) };
        let m = fragment_msg(NIC_RECV, frame, self.rx_off).unwrap_or(Msg::new(NIC_RECV));
        let sent = m.len as usize - FRAG_HEADER.min(m.len as usize);
        self.rx_off += sent;
        if self.rx_off >= len || sent == 0 {
            self.rx_give_back();
        }
        m
    }


    fn tx_room(&mut self) -> bool {
        self.reap_tx();
        (self.tx_tail + 1) % RING != self.tx_clean
    }

    /// The buffer of the next transmit descriptor.
    fn tx_buf(&mut self) -> &mut [u8] {
        // SAFETY: descriptor tx_tail's buffer (BUF bytes) in this task's
        // DMA memory; the device does not read it before TDT passes it.
        unsafe { core::slice::from_raw_parts_mut(self.tx_bufs.ptr(self.tx_tail * BUF), BUF) }
    }

    fn transmit(&mut self, len: usize) {
        let i = self.tx_tail;
        let d = self.tx_desc(i);
        // SAFETY: descriptor i in this task's DMA page, not the device's
        // until TDT moves past it.
        unsafe {
            core::ptr::write_volatile(d as *mut u64, self.tx_bufs.pa + (i * BUF) as u64);
            core::ptr::write_volatile(d.add(8) as *mut u16, len as u16);
            core::ptr::write_volatile(d.add(10), 0u8);
            core::ptr::write_volatile(d.add(11), TX_CMD_EOP | TX_CMD_IFCS | TX_CMD_RS);
            core::ptr::write_volatile(d.add(12), 0u8);
        }
        fence(Ordering::SeqCst);
        self.tx_tail = (i + 1) % RING;
        self.regs.write(TDT, self.tx_tail as u32);
    }

    fn holder_changed(&mut self, held: bool) {
        self.held = held;
        self.rx_off = 0; // a new holder gets the head frame whole
        self.reap_rx();
    }
}
