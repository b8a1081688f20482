// board_none.rs - the keyboard crate's `board` module when NAGI_KEYBOARD_RS is not set
// (host `cargo test`, bare builds): no keys. The build generates the real one
// (tools/board_config.py keyboard_rust) into build/<board>/keyboard_board.rs.
use crate::debounce::Algorithm;
use crate::matrix::Diode;
use crate::keymap::Action;
pub const ENABLED: bool = false;
pub const KEY_COUNT: usize = 0;
pub const TAPPING_TERM_MS: u32 = 200;
pub const KEY_NAMES: [&str; 0] = [];
pub const LAYER_NAMES: [&str; 1] = ["base"];
pub static LAYERS: [[Action; 0]; 1] = [[]];
pub const KEY_PINS: [(u8, u8); 0] = [];
pub const KEY_POS: [(u8, u8); 0] = [];
pub const MATRIX_ROWS: [(u8, u8); 0] = [];
pub const MATRIX_COLS: [(u8, u8); 0] = [];
pub const MATRIX_DIODE: Option<Diode> = None;
pub const DEBOUNCE: Algorithm = Algorithm::AsymEagerDeferPk;
pub const DEBOUNCE_MS: u32 = 5;
pub const SCAN_MS: u32 = 1;
pub const REPORT_BOOT: bool = true;
pub const REPORT_NKRO: bool = true;
pub const TWIN: bool = true;
pub const USB_VID: u16 = 0;
pub const USB_PID: u16 = 0;
pub const TRACE_UART_BASE: u32 = 0;
pub const TRACE_UART_RCC_ENR: u32 = 0;
pub const TRACE_UART_RCC_BIT: u32 = 0;
