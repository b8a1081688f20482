//! pci.rs - the pci enumerator's protocol (docs/protocols.md, "pci") and
//! the pure parts of PCI configuration space: BAR decoding and sizing,
//! the CONFIG_ADDRESS word. Host-tested; the enumerator
//! (userland/drivers/pci) does the port I/O.

use crate::abi::*;
use crate::error::{Error, Result};

/// Service name of the enumerator.
pub const PCI_SERVICE: &str = "pci";

/// Claim a device: data = u16 vendor, u16 device. Reply data = PciDevice
/// (PCI_DEVICE_SIZE bytes), arg 0; the enumerator has turned on memory
/// and I/O decoding and bus mastering for it. -E_NOENT (no such device),
/// -E_BUSY (another live connection holds it). The claim ends when the
/// claiming channel closes (its driver died): bus mastering goes off
/// again, so a dead driver's device stops reaching memory.
pub const PCI_CLAIM: u16 = 0x0901;
/// Claim by class: data = u8 class, u8 subclass (e.g. 0x02, 0x00: an
/// Ethernet controller). The first such device no other live connection
/// holds; reply as PCI_CLAIM (-E_NOENT: none; -E_BUSY: all held).
pub const PCI_CLAIM_CLASS: u16 = 0x0903;
/// Any connection: the `index`-th device found (arg = index); reply data =
/// PciDevice, -E_NOENT past the end.
pub const PCI_LIST: u16 = 0x0902;

pub const BARS: usize = 6;
pub const BAR_IO: u32 = 0x1;
pub const BAR_MEM64: u32 = 0x2;
pub const BAR_PREFETCH: u32 = 0x4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bar {
    /// Physical (memory) or port (I/O) address; 0 size: no BAR.
    pub addr: u64,
    pub size: u32,
    /// BAR_IO, BAR_MEM64, BAR_PREFETCH.
    pub flags: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PciDevice {
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
    /// Interrupt line from config space (the legacy PIC IRQ the firmware
    /// routed INTx to); 0xff: none.
    pub irq: u8,
    pub vendor: u16,
    pub device: u16,
    /// Class, subclass, prog-if, revision (config dword 0x08).
    pub class: u32,
    pub bars: [Bar; BARS],
}

/// 12 bytes of header, then 16 per BAR.
pub const PCI_DEVICE_SIZE: usize = 12 + 16 * BARS;

impl PciDevice {
    pub fn to_msg(&self, label: u16) -> Msg {
        let mut m = Msg::new(label);
        let _ = m.push_bytes(&[self.bus, self.dev, self.func, self.irq]);
        let _ = m.push_u16(self.vendor);
        let _ = m.push_u16(self.device);
        let _ = m.push_u32(self.class);
        for b in &self.bars {
            let _ = m.push_u64(b.addr);
            let _ = m.push_u32(b.size);
            let _ = m.push_u32(b.flags);
        }
        m
    }

    pub fn parse(m: &Msg) -> Result<PciDevice> {
        let p = m.payload();
        if p.len() != PCI_DEVICE_SIZE {
            return Err(Error::Inval);
        }
        let u16_at = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]);
        let mut d = PciDevice {
            bus: p[0],
            dev: p[1],
            func: p[2],
            irq: p[3],
            vendor: u16_at(4),
            device: u16_at(6),
            class: m.get_u32(8).unwrap_or(0),
            bars: [Bar::default(); BARS],
        };
        for (i, b) in d.bars.iter_mut().enumerate() {
            let o = 12 + 16 * i;
            *b = Bar { addr: m.get_u64(o).unwrap_or(0), size: m.get_u32(o + 8).unwrap_or(0), flags: m.get_u32(o + 12).unwrap_or(0) };
        }
        Ok(d)
    }
}

/// A PCI_CLAIM request.
pub fn claim_request(vendor: u16, device: u16) -> Msg {
    let mut m = Msg::new(PCI_CLAIM);
    let _ = m.push_u16(vendor);
    let _ = m.push_u16(device);
    m
}

/// (vendor, device) of a PCI_CLAIM request.
pub fn parse_claim(m: &Msg) -> Option<(u16, u16)> {
    let p = m.payload();
    (p.len() == 4).then(|| (u16::from_le_bytes([p[0], p[1]]), u16::from_le_bytes([p[2], p[3]])))
}

/// A PCI_CLAIM_CLASS request.
pub fn claim_class_request(class: u8, subclass: u8) -> Msg {
    let mut m = Msg::new(PCI_CLAIM_CLASS);
    let _ = m.push_bytes(&[class, subclass]);
    m
}

/// (class, subclass) of a PCI_CLAIM_CLASS request.
pub fn parse_claim_class(m: &Msg) -> Option<(u8, u8)> {
    let p = m.payload();
    (p.len() == 2).then(|| (p[0], p[1]))
}

impl PciDevice {
    /// Class and subclass (the top bytes of `class`).
    pub fn class_pair(&self) -> (u8, u8) {
        ((self.class >> 24) as u8, (self.class >> 16) as u8)
    }
}

/// CONFIG_ADDRESS for (bus, dev, func, register); None out of range.
pub fn config_address(bus: u8, dev: u8, func: u8, reg: u8) -> Option<u32> {
    (dev < 32 && func < 8 && reg % 4 == 0)
        .then(|| 0x8000_0000 | (bus as u32) << 16 | (dev as u32) << 11 | (func as u32) << 8 | reg as u32)
}

/// What a BAR's original value and its read-back after writing all ones
/// say: the BAR (its address taking the next dword too when 64-bit:
/// `high` is that dword's original value) and whether it used two slots.
pub fn decode_bar(orig: u32, ones: u32, high: u32) -> (Bar, bool) {
    if orig & 1 != 0 {
        let mask = ones & !0x3 & 0xffff;
        let size = if mask == 0 { 0 } else { (!mask & 0xffff).wrapping_add(1) };
        return (Bar { addr: (orig & !0x3) as u64, size, flags: BAR_IO }, false);
    }
    let kind = (orig >> 1) & 0x3;
    let mask = ones & !0xf;
    let size = if mask == 0 { 0 } else { (!mask).wrapping_add(1) };
    let wide = kind == 2;
    let mut flags = if wide { BAR_MEM64 } else { 0 };
    if orig & 0x8 != 0 {
        flags |= BAR_PREFETCH;
    }
    let addr = (orig & !0xf) as u64 | if wide { (high as u64) << 32 } else { 0 };
    (Bar { addr, size, flags }, wide)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_round_trips() {
        let mut d = PciDevice { bus: 0, dev: 2, func: 0, irq: 11, vendor: 0x8086, device: 0x100e, class: 0x0200_0003, ..Default::default() };
        d.bars[0] = Bar { addr: 0xfeb8_0000, size: 0x20000, flags: 0 };
        d.bars[1] = Bar { addr: 0xc000, size: 0x40, flags: BAR_IO };
        let m = d.to_msg(PCI_CLAIM);
        assert_eq!(m.len as usize, PCI_DEVICE_SIZE);
        assert!(PCI_DEVICE_SIZE <= MSG_INLINE_MAX);
        assert_eq!(PciDevice::parse(&m), Ok(d));
        let mut short = m;
        short.len -= 1;
        assert!(PciDevice::parse(&short).is_err());
    }

    #[test]
    fn claim_request_round_trips() {
        let m = claim_request(0x8086, 0x100e);
        assert_eq!(parse_claim(&m), Some((0x8086, 0x100e)));
        let mut long = m;
        long.len = 5;
        assert_eq!(parse_claim(&long), None);
    }

    #[test]
    fn claim_class_request_round_trips() {
        let m = claim_class_request(0x02, 0x00);
        assert_eq!(parse_claim_class(&m), Some((0x02, 0x00)));
        assert_eq!(parse_claim_class(&claim_request(1, 2)), None);
        let d = PciDevice { class: 0x0200_0003, ..Default::default() };
        assert_eq!(d.class_pair(), (0x02, 0x00));
    }

    #[test]
    fn config_address_word() {
        assert_eq!(config_address(0, 2, 0, 0x10), Some(0x8000_1010));
        assert_eq!(config_address(1, 31, 7, 0xfc), Some(0x8001_fffc));
        assert_eq!(config_address(0, 32, 0, 0), None);
        assert_eq!(config_address(0, 0, 8, 0), None);
        assert_eq!(config_address(0, 0, 0, 2), None);
    }

    #[test]
    fn bars_decode() {
        // e1000's BAR0: 128 KiB of 32-bit memory.
        assert_eq!(decode_bar(0xfeb8_0000, 0xfffe_0000, 0), (Bar { addr: 0xfeb8_0000, size: 0x20000, flags: 0 }, false));
        // Its BAR1: 64 I/O ports.
        assert_eq!(decode_bar(0xc001, 0xffff_ffc1, 0), (Bar { addr: 0xc000, size: 0x40, flags: BAR_IO }, false));
        // A 64-bit prefetchable BAR takes two slots.
        let (b, wide) = decode_bar(0x0000_000c, 0xffff_c00c, 0x1);
        assert!(wide);
        assert_eq!(b, Bar { addr: 0x1_0000_0000, size: 0x4000, flags: BAR_MEM64 | BAR_PREFETCH });
        // Unimplemented.
        assert_eq!(decode_bar(0, 0, 0).0.size, 0);
    }
}
