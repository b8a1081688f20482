//! stm32l4.rs - the STM32L4 registers the gpio server drives (RM0351):
//! RCC clock enables, the LED pin (push-pull output), the button pin
//! (input), SYSCFG routing of the button's EXTI line to its port, and that
//! EXTI line on both edges, and a workaround for QEMU's EXTI model
//! (sync_twin_exti_level). The pins and the IRQ are the board's: its
//! board.toml [gpio] "led" and "button" (on the B-L475E-IOT01A PA5, LD1,
//! and PC13, B1, on EXTI15_10, IRQ 40), generated into runtime::config as
//! BOARD_GPIO_*. Three KS_MMIO regions: the GPIO ports up to the highest
//! one used (0x4800_0000, 0x400 each), SYSCFG + EXTI (0x4001_0000, 2 KiB),
//! RCC (0x4002_1000, 1 KiB).

use runtime::config::{
    BOARD_GPIO_BUTTON_IRQ, BOARD_GPIO_BUTTON_PIN, BOARD_GPIO_BUTTON_PORT, BOARD_GPIO_LED_PIN,
    BOARD_GPIO_LED_PORT,
};
use runtime::mmio::Mmio;
use runtime::{Error, Result};

const GPIO_BASE: u32 = 0x4800_0000; // GPIOA; port n at +0x400 * n
const GPIO_PORT_LEN: u32 = 0x400;
const SYSCFG_BASE: u32 = 0x4001_0000;
const SYSCFG_EXTI_SPAN: u32 = 0x800; // SYSCFG at +0, EXTI at +0x400
const EXTI_OFF: u32 = 0x400;
const RCC_BASE: u32 = 0x4002_1000;
const RCC_LEN: u32 = 0x400;

// RCC
const RCC_AHB2ENR: u32 = 0x4c; // bit n: GPIO port n's clock (GPIOAEN = bit 0)
const RCC_APB2ENR: u32 = 0x60;
const RCC_APB2ENR_SYSCFGEN: u32 = 1 << 0;

// GPIO port
const MODER: u32 = 0x00;
const OTYPER: u32 = 0x04;
const PUPDR: u32 = 0x0c;
const IDR: u32 = 0x10;
const ODR: u32 = 0x14;
const BSRR: u32 = 0x18;
const MODE_INPUT: u32 = 0b00;
const MODE_OUTPUT: u32 = 0b01;
const PULL_UP: u32 = 0b01;
const PULL_DOWN: u32 = 0b10;

// SYSCFG: EXTICR1..4 route EXTI lines 0..15 (4 bits each, the port index)
const SYSCFG_EXTICR1: u32 = 0x08;

// EXTI
const EXTI_IMR1: u32 = 0x00;
const EXTI_RTSR1: u32 = 0x08;
const EXTI_FTSR1: u32 = 0x0c;
const EXTI_PR1: u32 = 0x14;

/// The LED (board.toml [gpio] "led"): port index (A = 0) and pin.
const LED_PORT: u32 = BOARD_GPIO_LED_PORT;
pub const LED_PIN: u32 = BOARD_GPIO_LED_PIN;
/// The user button (board.toml [gpio] "button"); its EXTI line is its pin
/// number, and `irq` the NVIC line that EXTI line raises.
const BUTTON_PORT: u32 = BOARD_GPIO_BUTTON_PORT;
pub const BUTTON_PIN: u32 = BOARD_GPIO_BUTTON_PIN;
pub const BUTTON_IRQ: u32 = BOARD_GPIO_BUTTON_IRQ;
/// The port whose pin of the button's number stands in for the button
/// while the twin's EXTI level is synchronised (sync_twin_exti_level): B,
/// or C when the button itself is on B; never A (PA13/PA14 are SWD).
const TWIN_PORT: u32 = if BUTTON_PORT == 1 { 2 } else { 1 };
/// The GPIO ports mapped: A up to the highest one used.
const GPIO_SPAN: u32 = GPIO_PORT_LEN * (1 + max(max(LED_PORT, BUTTON_PORT), TWIN_PORT));

const fn max(a: u32, b: u32) -> u32 {
    if a > b {
        a
    } else {
        b
    }
}

/// SYSCFG_EXTICRn offset holding EXTI line `line`.
pub const fn exticr(line: u32) -> u32 {
    SYSCFG_EXTICR1 + 4 * (line / 4)
}

/// (clear mask, set bits) of a 2-bit-per-pin field (MODER, PUPDR).
pub const fn field2(pin: u32, v: u32) -> (u32, u32) {
    (0b11 << (2 * pin), (v & 0b11) << (2 * pin))
}

/// (clear mask, set bits) of the EXTICR nibble of EXTI line `line`.
pub const fn exticr_field(line: u32, port: u32) -> (u32, u32) {
    let shift = 4 * (line % 4);
    (0xf << shift, (port & 0xf) << shift)
}

/// BSRR value that drives `pin` high (`on`) or low.
pub const fn bsrr(pin: u32, on: bool) -> u32 {
    if on {
        1 << pin
    } else {
        1 << (pin + 16)
    }
}

pub struct Board {
    led_port: Mmio,
    button_port: Mmio,
    twin_port: Mmio,
    syscfg: Mmio,
    exti: Mmio,
}

impl Board {
    /// Map the registers, enable the clocks, set the pins up (LED off).
    pub fn new() -> Result<Board> {
        let gpio = Mmio::map(GPIO_BASE, GPIO_SPAN)?;
        let sys = Mmio::map(SYSCFG_BASE, SYSCFG_EXTI_SPAN)?;
        let rcc = Mmio::map(RCC_BASE, RCC_LEN)?;
        let port = |n: u32| gpio.sub(n * GPIO_PORT_LEN, GPIO_PORT_LEN).ok_or(Error::Inval);
        let b = Board {
            led_port: port(LED_PORT)?,
            button_port: port(BUTTON_PORT)?,
            twin_port: port(TWIN_PORT)?,
            syscfg: sys.sub(0, EXTI_OFF).ok_or(Error::Inval)?,
            exti: sys.sub(EXTI_OFF, EXTI_OFF).ok_or(Error::Inval)?,
        };
        rcc.modify(RCC_AHB2ENR, 0, (1 << LED_PORT) | (1 << BUTTON_PORT) | (1 << TWIN_PORT));
        rcc.modify(RCC_APB2ENR, 0, RCC_APB2ENR_SYSCFGEN);
        // A read back: the clock is on before the first access (RM0351
        // asks for a delay after enabling a peripheral clock).
        let _ = rcc.read(RCC_AHB2ENR);
        let _ = rcc.read(RCC_APB2ENR);

        b.led_port.write(BSRR, bsrr(LED_PIN, false));
        b.led_port.modify(OTYPER, 1 << LED_PIN, 0);
        let (clr, set) = field2(LED_PIN, MODE_OUTPUT);
        b.led_port.modify(MODER, clr, set);

        let (clr, set) = field2(BUTTON_PIN, MODE_INPUT);
        b.button_port.modify(MODER, clr, set);
        let (clr, _) = field2(BUTTON_PIN, 0);
        b.button_port.modify(PUPDR, clr, 0); // no pull: the board has its own
        Ok(b)
    }

    /// Route the button's EXTI line to its pin, trigger on both edges,
    /// clear, unmask.
    pub fn enable_button_interrupt(&self) {
        let twin_pupdr = self.sync_twin_exti_level();
        let (clr, set) = exticr_field(BUTTON_PIN, BUTTON_PORT);
        self.syscfg.modify(exticr(BUTTON_PIN), clr, set);
        self.twin_port.write(PUPDR, twin_pupdr);
        let bit = 1 << BUTTON_PIN;
        self.exti.modify(EXTI_RTSR1, 0, bit);
        self.exti.modify(EXTI_FTSR1, 0, bit);
        self.exti.write(EXTI_PR1, bit);
        self.exti.modify(EXTI_IMR1, 0, bit);
    }

    /// QEMU's EXTI model (hw/misc/stm32l4x5_exti.c, QEMU 10) detects edges
    /// on the level it last saw per line, and SYSCFG forwards pin changes
    /// only, not EXTICR switches: at reset EXTI13 follows PA13 (SWDIO,
    /// pulled up), so the model believes line 13 is high and ignores
    /// PC13's first rising edge (the Discovery kit's button). Real hardware detects edges on the
    /// selected pin. Work around the twin without touching PA13 (the debug
    /// link on a real board): route EXTI13 to PB13 and move PB13 (an
    /// unconnected input, analog at reset) with its pull resistors to
    /// PC13's level; the caller routes EXTI13 to PC13, then restores
    /// PB13's PUPDR (returned here). On real hardware this changes
    /// nothing (no trigger is enabled yet; pulls are inactive in analog
    /// mode).
    fn sync_twin_exti_level(&self) -> u32 {
        let (clr, set) = exticr_field(BUTTON_PIN, TWIN_PORT);
        self.syscfg.modify(exticr(BUTTON_PIN), clr, set);
        let pupdr = self.twin_port.read(PUPDR);
        let (clr, up) = field2(BUTTON_PIN, PULL_UP);
        self.twin_port.modify(PUPDR, clr, up);
        if !self.button() {
            let (clr, down) = field2(BUTTON_PIN, PULL_DOWN);
            self.twin_port.modify(PUPDR, clr, down);
        }
        pupdr
    }

    /// Was an edge latched on the button's EXTI line? Clears it (PR1 is
    /// write-1-to-clear).
    pub fn take_edge(&self) -> bool {
        let bit = 1 << BUTTON_PIN;
        let pending = self.exti.read(EXTI_PR1) & bit != 0;
        if pending {
            self.exti.write(EXTI_PR1, bit);
        }
        pending
    }

    /// The button pin's input level.
    pub fn button(&self) -> bool {
        self.button_port.read(IDR) & (1 << BUTTON_PIN) != 0
    }

    /// Whether the LED pin is driven high.
    pub fn led(&self) -> bool {
        self.led_port.read(ODR) & (1 << LED_PIN) != 0
    }

    pub fn set_led(&self, on: bool) {
        self.led_port.write(BSRR, bsrr(LED_PIN, on));
    }
}

// The register arithmetic, checked at compile time (RM0351 values: PA5
// output, PC13 input on EXTICR4).
const _: () = assert!(field2(5, MODE_OUTPUT).0 == 0b11 << 10 && field2(5, MODE_OUTPUT).1 == 0b01 << 10);
const _: () = assert!(field2(13, MODE_INPUT).0 == 0b11 << 26 && field2(13, MODE_INPUT).1 == 0);
const _: () = assert!(exticr_field(13, 2).0 == 0xf0 && exticr_field(13, 2).1 == 0x20);
const _: () = assert!(exticr(13) == 0x14 && exticr(0) == 0x08);
const _: () = assert!(bsrr(5, true) == 0x20 && bsrr(5, false) == 0x20_0000);
const _: () = assert!(LED_PIN < 16 && BUTTON_PIN < 16 && TWIN_PORT != BUTTON_PORT);
const _: () = assert!(EXTI_OFF + EXTI_OFF <= SYSCFG_EXTI_SPAN);
