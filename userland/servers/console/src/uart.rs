//! uart.rs - the console's UART, chosen by CONFIG_CONSOLE_UART: "16550"
//! (PC COM ports), "stm32-usart" (STM32L4), "cmsdk-uart" (ARM MPS2), at
//! CONFIG_CONSOLE_BASE, CONFIG_CONSOLE_BAUD (all from board.toml [console]). Output turns "\n" into "\r\n" as the kernel
//! console does; input bytes pass through unchanged.

use crate::{uart_16550, uart_cmsdk, uart_stm32};
use runtime::{config, str_eq, Error, Result};

pub enum Uart {
    Ns16550(uart_16550::Uart),
    Stm32(uart_stm32::Usart),
    Cmsdk(uart_cmsdk::Uart),
}

/// The driver names CONFIG_CONSOLE_UART may give.
pub const DRIVERS: [&str; 3] = ["16550", "stm32-usart", "cmsdk-uart"];

impl Uart {
    /// Claim and set up the configured UART.
    pub fn new() -> Result<Uart> {
        let name = config::CONFIG_CONSOLE_UART;
        let base = config::CONFIG_CONSOLE_BASE;
        let (hz, baud) = (config::CONFIG_CPU_HZ, config::CONFIG_CONSOLE_BAUD);
        if str_eq(name, DRIVERS[0]) {
            let port = u16::try_from(base).map_err(|_| Error::Inval)?;
            Ok(Uart::Ns16550(uart_16550::Uart::new(port)?))
        } else if str_eq(name, DRIVERS[1]) {
            let base = u32::try_from(base).map_err(|_| Error::Inval)?;
            Ok(Uart::Stm32(uart_stm32::Usart::new(base, hz, baud)?))
        } else if str_eq(name, DRIVERS[2]) {
            let base = u32::try_from(base).map_err(|_| Error::Inval)?;
            Ok(Uart::Cmsdk(uart_cmsdk::Uart::new(base, hz, baud)?))
        } else {
            Err(Error::NotSup)
        }
    }

    pub fn enable_rx_interrupt(&self) {
        match self {
            Uart::Ns16550(u) => u.enable_rx_interrupt(),
            Uart::Stm32(u) => u.enable_rx_interrupt(),
            Uart::Cmsdk(u) => u.enable_rx_interrupt(),
        }
    }

    pub fn try_read(&self) -> Option<u8> {
        match self {
            Uart::Ns16550(u) => u.try_read(),
            Uart::Stm32(u) => u.try_read(),
            Uart::Cmsdk(u) => u.try_read(),
        }
    }

    fn put(&self, b: u8) {
        match self {
            Uart::Ns16550(u) => u.put(b),
            Uart::Stm32(u) => u.put(b),
            Uart::Cmsdk(u) => u.put(b),
        }
    }

    /// Write bytes, turning "\n" into "\r\n".
    pub fn write(&self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.put(b'\r');
            }
            self.put(b);
        }
    }
}
