//! uart_stm32.rs - the STM32L4 USART (CONFIG_CONSOLE_UART = "stm32-usart")
//! at CONFIG_CONSOLE_BASE, through KS_MMIO (RM0351, "USART registers").
//! Its clock and pins are the board's (board.toml [console]: rcc_enr,
//! rcc_bit, tx, rx, pin_af -> BOARD_CONSOLE_*); the kernel, which owns the
//! console's early output, enables them (arch/arm-m/console.c) and this
//! task maps no RCC or GPIO. When the kernel already uses the USART the
//! line (BRR) is left as it is and only the receiver and its interrupt
//! (RXNEIE) are turned on; otherwise BRR is BOARD_CONSOLE_DIVISOR
//! (CPU_HZ / CONSOLE_BAUD, rounded). Receive overruns are counted.

use runtime::mmio::Mmio;
use runtime::Result;

const CR1: u32 = 0x00;
const BRR: u32 = 0x0c;
const ISR: u32 = 0x1c;
const ICR: u32 = 0x20;
const RDR: u32 = 0x24;
const TDR: u32 = 0x28;
const BLOCK_LEN: u32 = 0x2c;

const CR1_UE: u32 = 1 << 0;
const CR1_RE: u32 = 1 << 2;
const CR1_TE: u32 = 1 << 3;
const CR1_RXNEIE: u32 = 1 << 5;
const ISR_ORE: u32 = 1 << 3;
const ISR_RXNE: u32 = 1 << 5;
const ISR_TXE: u32 = 1 << 7;
const ICR_ORECF: u32 = 1 << 3;

/// BRR: the board's divisor (BOARD_CONSOLE_DIVISOR, CPU_HZ / CONSOLE_BAUD
/// rounded to the nearest by tools/board_config.py; oversampling by 16),
/// at least 16 as RM0351 requires.
pub const fn brr(div: u32) -> u32 {
    if div < 16 {
        16
    } else {
        div
    }
}

pub struct Usart {
    regs: Mmio,
}

impl Usart {
    pub fn new(base: u32, div: u32) -> Result<Usart> {
        let regs = Mmio::map(base, BLOCK_LEN)?;
        let cr1 = regs.read(CR1);
        if cr1 & CR1_UE == 0 {
            // BRR can only be written while the USART is disabled.
            regs.write(BRR, brr(div));
            regs.write(CR1, CR1_TE | CR1_RE);
            regs.write(CR1, CR1_TE | CR1_RE | CR1_UE);
        } else {
            regs.write(CR1, cr1 | CR1_TE | CR1_RE);
        }
        Ok(Usart { regs })
    }

    pub fn set_rx_interrupt(&self, on: bool) {
        self.regs.set_bits(CR1, CR1_RXNEIE, on);
    }

    /// One received byte, if any, and whether ISR reported an overrun (a
    /// byte lost: this USART has no receive FIFO). ORE keeps the
    /// interrupt asserted until cleared.
    pub fn try_read(&self) -> (Option<u8>, bool) {
        let isr = self.regs.read(ISR);
        let overrun = isr & ISR_ORE != 0;
        if overrun {
            self.regs.write(ICR, ICR_ORECF);
        }
        ((isr & ISR_RXNE != 0).then(|| self.regs.read(RDR) as u8), overrun)
    }

    pub fn tx_ready(&self) -> bool {
        self.regs.read(ISR) & ISR_TXE != 0
    }

    /// A 32-bit write: QEMU's model takes no narrower one.
    pub fn put(&self, b: u8) {
        self.regs.write(TDR, b as u32);
    }
}
