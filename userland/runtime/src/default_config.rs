// default_config.rs - the configuration used when NAGI_CONFIG_RS is not set
// (host unit tests, a bare `cargo build`): the pc board. The Python build
// generates a file of the same shape from Kconfig (tools/config.py).
pub const CONFIG_BOARD: &str = "pc";
pub const CONFIG_ARCH: &str = "x86_64";
pub const CONFIG_ARCH_X86_64: bool = true;
pub const CONFIG_ARCH_ARM_M: bool = false;
pub const CONFIG_ARCH_HAS_MMU: bool = true;
pub const CONFIG_ARCH_HAS_FPU: bool = false;
pub const CONFIG_TICK_HZ: u32 = 100;
pub const CONFIG_DEBUG_COMMANDS: bool = true;
pub const CONFIG_BENCH: bool = true;
pub const CONFIG_FUZZ: bool = true;
pub const CONFIG_CONSOLE_UART: &str = "16550";
pub const CONFIG_CONSOLE_BASE: u64 = 0x3f8;
pub const CONFIG_CONSOLE_IRQ: u32 = 4;
pub const CONFIG_CONSOLE_BAUD: u32 = 115200;
pub const CONFIG_GPIO: bool = false;
pub const CONFIG_PS2KBD: bool = true;
pub const CONFIG_PCI: bool = true;
pub const CONFIG_NIC: bool = true;
pub const CONFIG_E1000: bool = true;
pub const CONFIG_NET: bool = true;
