//! uart.rs - the console's UART, chosen by CONFIG_CONSOLE_UART: "16550"
//! (PC COM ports), "stm32-usart" (STM32L4), "cmsdk-uart" (ARM MPS2), at
//! CONFIG_CONSOLE_BASE, BOARD_CONSOLE_DIVISOR (all from board.toml
//! [console]). Bytes pass through unchanged both ways; each driver
//! reports receive overruns for the console's drop notice. In an image
//! whose console is on USB (uart_hid::ENABLED: board.toml [console]
//! usb_cdc, CONFIG_TWIN=n) the "UART" is the keyboard's CDC-ACM port,
//! relayed by the hid task (uart_hid.rs); the kernel keeps the real UART.

use crate::{uart_16550, uart_cmsdk, uart_hid, uart_stm32};
use runtime::{config, str_eq, Error, Result};

pub enum Uart {
    Ns16550(uart_16550::Uart),
    Stm32(uart_stm32::Usart),
    Cmsdk(uart_cmsdk::Uart),
    Hid(uart_hid::HidSerial),
    /// No UART where the board says (a PC without COM1): output goes to
    /// the screen only (the kernel's mirror), input comes from the
    /// keyboard driver only (CONSOLE_INPUT).
    Absent,
}

/// The driver names CONFIG_CONSOLE_UART may give.
pub const DRIVERS: [&str; 3] = ["16550", "stm32-usart", "cmsdk-uart"];

impl Uart {
    /// Claim and set up the configured UART.
    pub fn new() -> Result<Uart> {
        let name = config::CONFIG_CONSOLE_UART;
        let base = config::CONFIG_CONSOLE_BASE;
        // Rounded CPU_HZ / CONSOLE_BAUD, from board.toml (tools/board_config.py).
        let div = config::BOARD_CONSOLE_DIVISOR;
        if uart_hid::ENABLED {
            Ok(Uart::Hid(uart_hid::HidSerial::new()?))
        } else if str_eq(name, DRIVERS[0]) {
            let port = u16::try_from(base).map_err(|_| Error::Inval)?;
            match uart_16550::Uart::new(port) {
                Ok(u) => Ok(Uart::Ns16550(u)),
                Err(Error::NoEnt) => Ok(Uart::Absent),
                Err(e) => Err(e),
            }
        } else if str_eq(name, DRIVERS[1]) {
            let base = u32::try_from(base).map_err(|_| Error::Inval)?;
            Ok(Uart::Stm32(uart_stm32::Usart::new(base, div)?))
        } else if str_eq(name, DRIVERS[2]) {
            let base = u32::try_from(base).map_err(|_| Error::Inval)?;
            Ok(Uart::Cmsdk(uart_cmsdk::Uart::new(base, div)?))
        } else {
            Err(Error::NotSup)
        }
    }

    /// Turn the receive interrupt on or off (off: the console's ring is
    /// full and the UART is to hold further input back).
    pub fn set_rx_interrupt(&self, on: bool) {
        match self {
            Uart::Ns16550(u) => u.set_rx_interrupt(on),
            Uart::Stm32(u) => u.set_rx_interrupt(on),
            Uart::Cmsdk(u) => u.set_rx_interrupt(on),
            Uart::Hid(_) | Uart::Absent => {}
        }
    }

    /// The console polls this backend (no interrupt of its own).
    pub fn polled(&self) -> bool {
        uart_hid::ENABLED && matches!(self, Uart::Hid(_))
    }

    /// The end of a console write: buffered output goes out.
    pub fn flush(&mut self) {
        // ENABLED is a constant: images without the USB console (the
        // twins) carry none of this.
        if let (true, Uart::Hid(u)) = (uart_hid::ENABLED, self) {
            u.flush();
        }
    }

    /// The transmitter takes a byte now.
    pub fn tx_ready(&self) -> bool {
        match self {
            Uart::Ns16550(u) => u.tx_ready(),
            Uart::Stm32(u) => u.tx_ready(),
            Uart::Cmsdk(u) => u.tx_ready(),
            Uart::Hid(u) => !uart_hid::ENABLED || u.tx_ready(),
            Uart::Absent => true,
        }
    }

    /// One received byte, if any, and whether the UART lost input
    /// (a receive overrun) since the last read.
    pub fn try_read(&mut self) -> (Option<u8>, bool) {
        match self {
            Uart::Ns16550(u) => u.try_read(),
            Uart::Stm32(u) => u.try_read(),
            Uart::Cmsdk(u) => u.try_read(),
            Uart::Hid(u) => if uart_hid::ENABLED { u.try_read() } else { (None, false) },
            Uart::Absent => (None, false),
        }
    }

    /// Send one byte (tx_ready() first).
    pub fn put(&mut self, b: u8) {
        match self {
            Uart::Ns16550(u) => u.put(b),
            Uart::Stm32(u) => u.put(b),
            Uart::Cmsdk(u) => u.put(b),
            Uart::Hid(u) => {
                if uart_hid::ENABLED {
                    u.put(b)
                }
            }
            Uart::Absent => {}
        }
    }
}
