//! mmio.rs - device registers through KS_MMIO (arm-m: the kernel adds an
//! MPU region for the caller). The region rules are the ARMv7-M MPU's:
//! a power-of-two size >= 32, the base aligned to it. `region_for` picks
//! the smallest such region covering a register block (pure, host-tested);
//! `Mmio` maps one and gives volatile 32-bit access relative to a block.

use crate::error::{Error, Result};
use crate::ks;

/// Smallest MPU region size.
pub const REGION_MIN: u32 = 32;

/// The smallest region (base, size) that covers `[base, base + len)`: size
/// a power of two >= REGION_MIN, base aligned to it. None if len is 0 or
/// nothing below 4 GiB covers it.
pub fn region_for(base: u32, len: u32) -> Option<(u32, u32)> {
    if len == 0 {
        return None;
    }
    let end = base as u64 + len as u64;
    let mut size: u64 = REGION_MIN as u64;
    while size <= 1 << 31 {
        let start = base as u64 & !(size - 1);
        if start + size >= end {
            return Some((start as u32, size as u32));
        }
        size <<= 1;
    }
    None
}

/// A register block at `base`, `len` bytes, mapped for this task.
#[derive(Clone, Copy, Debug)]
pub struct Mmio {
    base: usize,
    len: usize,
}

impl Mmio {
    /// Map the region covering `[base, base + len)` (needs CAP_IO).
    pub fn map(base: u32, len: u32) -> Result<Mmio> {
        let (rbase, rsize) = region_for(base, len).ok_or(Error::Inval)?;
        ks::mmio(rbase, rsize)?;
        Ok(Mmio { base: base as usize, len: len as usize })
    }

    /// The same mapping seen from another block inside it (e.g. GPIOC in a
    /// region that covers GPIOA..GPIOC): no new KS_MMIO.
    pub fn sub(&self, offset: u32, len: u32) -> Option<Mmio> {
        let off = offset as usize;
        (off.checked_add(len as usize)? <= self.len).then_some(Mmio { base: self.base + off, len: len as usize })
    }

    fn addr(&self, off: u32) -> *mut u32 {
        let off = off as usize;
        assert!(off % 4 == 0 && off + 4 <= self.len, "mmio offset {:#x} outside the block", off);
        (self.base + off) as *mut u32
    }

    /// Read the 32-bit register at `off`.
    pub fn read(&self, off: u32) -> u32 {
        // SAFETY: Mmio values exist only after KS_MMIO granted the region
        // covering [base, base + len) (map) or a part of one (sub), and
        // addr() keeps the access aligned and inside it. Device registers
        // are not Rust memory, so no reference aliases them.
        unsafe { core::ptr::read_volatile(self.addr(off)) }
    }

    /// Write the 32-bit register at `off`.
    pub fn write(&self, off: u32, v: u32) {
        // SAFETY: as in read().
        unsafe { core::ptr::write_volatile(self.addr(off), v) }
    }

    /// Read-modify-write: clear `clear`, then set `set`.
    pub fn modify(&self, off: u32, clear: u32, set: u32) {
        self.write(off, (self.read(off) & !clear) | set);
    }

    /// Set (`on`) or clear the bits `mask`.
    pub fn set_bits(&self, off: u32, mask: u32, on: bool) {
        if on {
            self.modify(off, 0, mask);
        } else {
            self.modify(off, mask, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_mpu_shaped() {
        // STM32L4 USART1 registers 0x00..0x2c.
        assert_eq!(region_for(0x4001_3800, 0x2c), Some((0x4001_3800, 64)));
        assert_eq!(region_for(0x4000_4000, 0x14), Some((0x4000_4000, 32)));
        // GPIOA..GPIOC in one region.
        assert_eq!(region_for(0x4800_0000, 0xc00), Some((0x4800_0000, 4096)));
        // SYSCFG + EXTI.
        assert_eq!(region_for(0x4001_0000, 0x420), Some((0x4001_0000, 2048)));
        // A block straddling an alignment boundary needs a larger region.
        assert_eq!(region_for(0x4000_0ff0, 0x20), Some((0x4000_0000, 8192)));
        assert_eq!(region_for(0x1000, 0), None);
        assert_eq!(region_for(0xffff_fff0, 0x20), None);
        for (b, l) in [(0x4002_1000u32, 0x98u32), (0x4001_0400, 0x18), (0x123, 0x456)] {
            let (rb, rs) = region_for(b, l).unwrap();
            assert!(rs.is_power_of_two() && rs >= REGION_MIN && rb % rs == 0);
            assert!(rb <= b && b as u64 + l as u64 <= rb as u64 + rs as u64);
        }
    }

    #[test]
    fn sub_blocks_stay_inside() {
        let m = Mmio { base: 0x4800_0000, len: 0xc00 };
        let c = m.sub(0x800, 0x400).unwrap();
        assert_eq!(c.base, 0x4800_0800);
        assert!(m.sub(0x800, 0x401).is_none());
        assert!(m.sub(u32::MAX, 2).is_none());
    }
}
