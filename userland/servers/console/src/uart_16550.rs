//! uart_16550.rs - the PC's 16550 (CONFIG_CONSOLE_UART = "16550"), reached
//! through I/O ports granted by KS_IOPORT. The kernel has set the line up
//! (115200 8N1, FIFOs, OUT2); we only turn on the receive interrupt, poll
//! for input and write bytes out. A PC without the port (many recent ones
//! have no COM1) reads all ones there: `new` finds that out through the
//! scratch register, so that the console does not take the floating
//! line-status register's "data ready" for an endless stream of 0xff.
//! I/O ports exist on x86 only: elsewhere KS_IOPORT fails with -E_NOTSUP
//! before any port is touched.

use runtime::{ks, Error, Result};

const RBR_THR: u16 = 0; // receive buffer / transmit holding
const IER: u16 = 1; // interrupt enable
const IIR: u16 = 2; // interrupt identification
const MCR: u16 = 4; // modem control
const LSR: u16 = 5; // line status
const SCR: u16 = 7; // scratch: any byte written reads back
const LSR_DATA_READY: u8 = 0x01;
const LSR_OVERRUN: u8 = 0x02; // cleared by reading LSR
const LSR_THR_EMPTY: u8 = 0x20;
const MCR_OUT2: u8 = 0x08;

pub struct Uart {
    base: u16,
}

#[cfg(target_arch = "x86_64")]
fn outb(port: u16, v: u8) {
    // SAFETY: the kernel granted this task ports 0x3f8..0x3ff (KS_IOPORT);
    // writing a UART register has no effect on memory.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags)) }
}

#[cfg(target_arch = "x86_64")]
fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for outb; reading a UART register has no memory effect.
    unsafe { core::arch::asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags)) }
    v
}

// No port I/O on this CPU; Uart::new() has already failed (KS_IOPORT).
#[cfg(not(target_arch = "x86_64"))]
fn outb(_port: u16, _v: u8) {}

#[cfg(not(target_arch = "x86_64"))]
fn inb(_port: u16) -> u8 {
    0
}

impl Uart {
    /// Ask for the UART's eight ports; -E_NOENT when no UART answers
    /// there (the scratch register does not keep what was written).
    pub fn new(base: u16) -> Result<Uart> {
        ks::ioport(base, 8)?;
        let saved = inb(base + SCR);
        let present = [0x55u8, 0xaa].iter().all(|&v| {
            outb(base + SCR, v);
            inb(base + SCR) == v
        });
        outb(base + SCR, saved);
        if present { Ok(Uart { base }) } else { Err(Error::NoEnt) }
    }

    /// IER = 1 (received data available) or 0; keep OUT2 so the IRQ
    /// reaches the PIC.
    pub fn set_rx_interrupt(&self, on: bool) {
        outb(self.base + MCR, inb(self.base + MCR) | MCR_OUT2);
        outb(self.base + IER, on as u8);
        let _ = inb(self.base + IIR);
    }

    /// One received byte, if any, and whether the line status reported
    /// an overrun (reading LSR clears it).
    pub fn try_read(&self) -> (Option<u8>, bool) {
        let lsr = inb(self.base + LSR);
        let byte = (lsr & LSR_DATA_READY != 0).then(|| inb(self.base + RBR_THR));
        (byte, lsr & LSR_OVERRUN != 0)
    }

    pub fn tx_ready(&self) -> bool {
        inb(self.base + LSR) & LSR_THR_EMPTY != 0
    }

    pub fn put(&self, b: u8) {
        outb(self.base + RBR_THR, b);
    }
}
