//! runtime - the library every Nagi user program links: the ABI (abi.rs,
//! generated from kernel/abi.toml), raw syscalls (sys), channels (chan), the
//! kernel-server client (ks), the user protocols (proto, service), console
//! printing (print), the entry point and heap (start, heap), and the pure
//! helpers the shell and console use (args, stats, lineedit, ring, fmt). Pure modules are
//! unit-tested on the host with `cargo test`.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod abi;
pub mod args;
pub mod chan;
pub mod error;
pub mod fmt;
pub mod fpucheck;
pub mod heap;
pub mod ks;
pub mod lineedit;
pub mod mmio;
pub mod lan9118;
pub mod net;
pub mod http;
pub mod nic;
pub mod nic_server;
pub mod pci;
pub mod msg;
pub mod pinclaims;
pub mod print;
pub mod rng;
pub mod proto;
pub mod ring;
pub mod service;
pub mod stats;
pub mod supervise;
pub mod sys;

#[cfg(all(target_os = "none", not(test)))]
mod start;

pub use abi::Msg;
pub use chan::Channel;
pub use error::{Error, Result};

/// Defaults for configuration symbols the generated file may leave out
/// (Kconfig omits bools that are off; the BOARD_* constants exist only on
/// boards whose board.toml has those facts). Items defined by the included
/// file shadow these glob-imported ones.
#[allow(dead_code)]
mod config_defaults {
    pub const CONFIG_BOARD: &str = "pc";
    pub const CONFIG_TICK_HZ: u32 = 100;
    pub const CONFIG_DEBUG_COMMANDS: bool = false;
    pub const CONFIG_BENCH: bool = false;
    pub const CONFIG_FUZZ: bool = false;
    pub const CONFIG_ARCH: &str = "x86_64";
    pub const CONFIG_ARCH_ARM_M: bool = false;
    pub const CONFIG_ARCH_HAS_MMU: bool = false;
    pub const CONFIG_ARCH_HAS_FPU: bool = false;
    pub const CONFIG_CPU_HZ: u32 = 0;
    pub const CONFIG_RAM_BASE: u64 = 0;
    pub const CONFIG_CONSOLE_UART: &str = "16550";
    pub const CONFIG_CONSOLE_BASE: u64 = 0x3f8;
    pub const CONFIG_CONSOLE_IRQ: u32 = 4;
    pub const CONFIG_CONSOLE_BAUD: u32 = 115200;
    pub const CONFIG_GPIO: bool = false;
    // The gpio task's pins (board.toml [gpio] "button", "led"); it runs
    // only where CONFIG_GPIO says the board has them.
    pub const BOARD_GPIO_BUTTON_PORT: u32 = 0;
    pub const BOARD_GPIO_BUTTON_PIN: u32 = 0;
    pub const BOARD_GPIO_BUTTON_IRQ: u32 = 0;
    pub const BOARD_GPIO_LED_PORT: u32 = 0;
    pub const BOARD_GPIO_LED_PIN: u32 = 0;
    pub const BOARD_CONSOLE_DIVISOR: u32 = 0;
    // board.toml [console] usb_cdc: on the real board (CONFIG_TWIN=n) the
    // console server talks through the keyboard's USB CDC-ACM port.
    pub const BOARD_CONSOLE_USB_CDC: u32 = 0;
    // The i8042 (board.toml [ps2]); ps2kbd runs only where CONFIG_PS2KBD.
    pub const CONFIG_PS2KBD: bool = false;
    pub const BOARD_PS2_DATA_PORT: u32 = 0x60;
    pub const BOARD_PS2_COMMAND_PORT: u32 = 0x64;
    pub const BOARD_PS2_IRQ: u32 = 1;
    // board.toml [keyboard] (tools/board_config.py keyboard_constants):
    // the pins the gpio (sys) task lets clients use, per port, and the
    // trace UART's clock enable.
    pub const CONFIG_HAS_KEYBOARD: bool = false;
    pub const CONFIG_KEYBOARD: bool = false;
    pub const CONFIG_TWIN: bool = false;
    pub const BOARD_KEYBOARD_PINS_A: u32 = 0;
    pub const BOARD_KEYBOARD_PINS_B: u32 = 0;
    pub const BOARD_KEYBOARD_PINS_C: u32 = 0;
    pub const BOARD_KEYBOARD_PINS_D: u32 = 0;
    pub const BOARD_KEYBOARD_PINS_E: u32 = 0;
    pub const BOARD_KEYBOARD_PINS_F: u32 = 0;
    pub const BOARD_KEYBOARD_PINS_G: u32 = 0;
    pub const BOARD_KEYBOARD_PINS_H: u32 = 0;
    pub const BOARD_KEYBOARD_TRACE_BASE: u32 = 0;
    pub const BOARD_KEYBOARD_TRACE_IRQ: u32 = 0;
    pub const BOARD_KEYBOARD_TRACE_RCC_ENR: u32 = 0;
    pub const BOARD_KEYBOARD_TRACE_RCC_BIT: u32 = 0;
    // PCI (board.toml [pci]) and the NIC ([nic]: CONFIG_NIC); pci, e1000
    // and lan9118 run only where CONFIG_PCI / CONFIG_E1000 / CONFIG_LAN9118.
    pub const CONFIG_PCI: bool = false;
    pub const CONFIG_NIC: bool = false;
    pub const CONFIG_E1000: bool = false;
    pub const CONFIG_LAN9118: bool = false;
    pub const BOARD_PCI_CONFIG_ADDRESS: u32 = 0xcf8;
    pub const BOARD_PCI_CONFIG_DATA: u32 = 0xcfc;
    pub const BOARD_NIC_PCI_VENDOR: u32 = 0x8086;
    pub const BOARD_NIC_PCI_DEVICE: u32 = 0x100e;
    // An on-board NIC's registers and NVIC line (the lan9118).
    pub const BOARD_NIC_BASE: u32 = 0x4020_0000;
    pub const BOARD_NIC_SIZE: u32 = 0x100;
    pub const BOARD_NIC_IRQ: u32 = 13;
    // The net server and httpd (CONFIG_NET: any [nic]) and their settings.
    pub const CONFIG_NET: bool = false;
    pub const CONFIG_NET_DHCP_TIMEOUT_MS: u32 = 10_000;
    pub const CONFIG_NET_STATIC_ADDRESS: &str = "10.0.2.15";
    pub const CONFIG_NET_STATIC_PREFIX: u32 = 24;
    pub const CONFIG_NET_STATIC_GATEWAY: &str = "10.0.2.1";
    pub const CONFIG_NET_SOCKET_IDS: u32 = 64;
    pub const CONFIG_NET_SOCKETS_PER_CLIENT: u32 = 24;
    pub const CONFIG_NET_TCP_SOCKETS: u32 = 64;
    pub const CONFIG_NET_TCP_RX_BYTES: u32 = 8192;
    pub const CONFIG_NET_TCP_TX_BYTES: u32 = 32768;
    pub const CONFIG_HTTPD_CONNS: u32 = 16;
    pub const CONFIG_HTTPD_BACKLOG: u32 = 32;
}

/// `a == b` in const context (to select code by string Kconfig symbols,
/// e.g. `str_eq(config::CONFIG_CONSOLE_UART, "stm32-usart")`).
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The build configuration: NAGI_CONFIG_RS (generated from Kconfig), or
/// src/default_config.rs when that is not set (see build.rs).
#[allow(dead_code, clippy::all)]
pub mod config {
    #[allow(unused_imports)]
    pub use super::config_defaults::*;
    include!(env!("NAGI_CONFIG_RS"));
}

/// Declare the program's entry: `runtime::entry!(main);` with
/// `fn main(arg: u64) -> i32`. The runtime calls it after setting up the
/// message buffer and heap, and exits with its result.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        pub fn nagi_main(arg: u64) -> i32 {
            let f: fn(u64) -> i32 = $main;
            f(arg)
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn config_has_every_symbol() {
        assert!(!super::config::CONFIG_BOARD.is_empty());
        assert!(super::config::CONFIG_TICK_HZ > 0);
        let _ = super::config::CONFIG_DEBUG_COMMANDS;
        let _ = super::config::CONFIG_BENCH;
        let _ = (super::config::CONFIG_GPIO, super::config::CONFIG_CONSOLE_IRQ);
        assert!(!super::config::CONFIG_CONSOLE_UART.is_empty());
    }

    #[test]
    fn const_str_eq() {
        const PC: bool = super::str_eq(super::config::CONFIG_CONSOLE_UART, "16550");
        assert!(PC);
        assert!(super::str_eq("arm-m", "arm-m"));
        assert!(!super::str_eq("arm-m", "arm"));
        assert!(!super::str_eq("abc", "abd"));
    }
}
