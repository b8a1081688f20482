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
const STATE_RX_OVERRUN: u32 = 1 << 3; // write 1 to clear
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_RX_INT_EN: u32 = 1 << 3;
const INT_RX: u32 = 1 << 1;

/// BAUDDIV: the board's divisor (BOARD_CONSOLE_DIVISOR, CPU_HZ /
/// CONSOLE_BAUD rounded to the nearest by tools/board_config.py), at least
/// 16 as the UART requires.
pub const fn bauddiv(div: u32) -> u32 {
    if div < 16 {
        16
    } else {
        div
    }
}

pub struct Uart {
    regs: Mmio,
}

impl Uart {
    pub fn new(base: u32, div: u32) -> Result<Uart> {
        let regs = Mmio::map(base, BLOCK_LEN)?;
        let ctrl = regs.read(CTRL);
        if ctrl & CTRL_TX_EN == 0 {
            regs.write(BAUDDIV, bauddiv(div));
        }
        regs.write(CTRL, ctrl | CTRL_TX_EN | CTRL_RX_EN);
        Ok(Uart { regs })
    }

    /// The RX interrupt on or off. Off also acknowledges one already
    /// raised: INTSTATUS.RX stays set (and the IRQ line high) until
    /// cleared, whatever CTRL says, and a console that is not reading
    /// (its ring full) would be woken by it again and again.
    pub fn set_rx_interrupt(&self, on: bool) {
        self.regs.set_bits(CTRL, CTRL_RX_INT_EN, on);
        if !on {
            self.regs.write(INTCLEAR, INT_RX);
        }
    }

    /// One received byte, if any, and whether STATE reported an overrun
    /// (then cleared). The RX interrupt is acknowledged before STATE is
    /// read: a byte that arrives after that read raises it again
    /// (acknowledging after the read could clear a new byte's interrupt
    /// and leave it unread).
    pub fn try_read(&self) -> (Option<u8>, bool) {
        self.regs.write(INTCLEAR, INT_RX);
        let state = self.regs.read(STATE);
        let overrun = state & STATE_RX_OVERRUN != 0;
        if overrun {
            self.regs.write(STATE, STATE_RX_OVERRUN);
        }
        ((state & STATE_RX_FULL != 0).then(|| self.regs.read(DATA) as u8), overrun)
    }

    pub fn tx_ready(&self) -> bool {
        self.regs.read(STATE) & STATE_TX_FULL == 0
    }

    pub fn put(&self, b: u8) {
        self.regs.write(DATA, b as u32);
    }
}
