//! uart_cmsdk.rs - the ARM CMSDK APB UART (CONFIG_CONSOLE_UART =
//! "cmsdk-uart", MPS2 boards) at CONFIG_CONSOLE_BASE, through KS_MMIO
//! (ARM DDI 0479, "APB UART"). The kernel may already be printing through
//! it; then its baud divider is kept.

use runtime::mmio::Mmio;
use runtime::Result;

const DATA: u32 = 0x00;
const STATE: u32 = 0x04;
const CTRL: u32 = 0x08;
const INTCLEAR: u32 = 0x0c;
const BAUDDIV: u32 = 0x10;
const BLOCK_LEN: u32 = 0x14;

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_RX_INT_EN: u32 = 1 << 3;
const INT_RX: u32 = 1 << 1;

/// BAUDDIV for `baud` at `hz` (the UART requires at least 16).
pub const fn bauddiv(hz: u32, baud: u32) -> u32 {
    let d = hz / baud;
    if d < 16 {
        16
    } else {
        d
    }
}

pub struct Uart {
    regs: Mmio,
}

impl Uart {
    pub fn new(base: u32, hz: u32, baud: u32) -> Result<Uart> {
        let regs = Mmio::map(base, BLOCK_LEN)?;
        let ctrl = regs.read(CTRL);
        if ctrl & CTRL_TX_EN == 0 {
            regs.write(BAUDDIV, bauddiv(hz, baud));
        }
        regs.write(CTRL, ctrl | CTRL_TX_EN | CTRL_RX_EN);
        Ok(Uart { regs })
    }

    pub fn enable_rx_interrupt(&self) {
        while self.try_read().is_some() {}
        self.regs.modify(CTRL, 0, CTRL_RX_INT_EN);
    }

    pub fn try_read(&self) -> Option<u8> {
        if self.regs.read(STATE) & STATE_RX_FULL == 0 {
            // Nothing (left) to read: acknowledge the RX interrupt.
            self.regs.write(INTCLEAR, INT_RX);
            return None;
        }
        let b = self.regs.read(DATA) as u8;
        self.regs.write(INTCLEAR, INT_RX);
        Some(b)
    }

    pub fn put(&self, b: u8) {
        for _ in 0..100_000 {
            if self.regs.read(STATE) & STATE_TX_FULL == 0 {
                break;
            }
        }
        self.regs.write(DATA, b as u32);
    }
}
