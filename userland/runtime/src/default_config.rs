// default_config.rs - the configuration used when NAGI_CONFIG_RS is not set
// (host unit tests, a bare `cargo build`). The Python build generates a file
// of the same shape from Kconfig.
pub const CONFIG_BOARD: &str = "pc";
pub const CONFIG_TICK_HZ: u32 = 100;
pub const CONFIG_DEBUG_COMMANDS: bool = true;
pub const CONFIG_BENCH: bool = true;
