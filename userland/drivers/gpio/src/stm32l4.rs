//! stm32l4.rs - the STM32L475 registers the gpio server drives (RM0351):
//! RCC clock enables, GPIOA pin 5 (LED, push-pull output), GPIOC pin 13
//! (user button, input), SYSCFG routing of EXTI13 to port C, and EXTI
//! line 13 on both edges (NVIC IRQ 40, EXTI15_10), and a workaround for
//! QEMU's EXTI model (sync_twin_exti_level). Three KS_MMIO regions:
//! GPIOA..GPIOC (0x4800_0000, 4 KiB), SYSCFG + EXTI (0x4001_0000, 2 KiB),
//! RCC (0x4002_1000, 1 KiB).

use runtime::mmio::Mmio;
use runtime::{Error, Result};

const GPIO_BASE: u32 = 0x4800_0000; // GPIOA; GPIOB +0x400, GPIOC +0x800
const GPIO_SPAN: u32 = 0xc00;
const GPIOA_OFF: u32 = 0x000;
const GPIOB_OFF: u32 = 0x400;
const GPIOC_OFF: u32 = 0x800;
const GPIO_PORT_LEN: u32 = 0x400;
const SYSCFG_BASE: u32 = 0x4001_0000;
const SYSCFG_EXTI_SPAN: u32 = 0x800; // SYSCFG at +0, EXTI at +0x400
const EXTI_OFF: u32 = 0x400;
const RCC_BASE: u32 = 0x4002_1000;
const RCC_LEN: u32 = 0x400;

// RCC
const RCC_AHB2ENR: u32 = 0x4c;
const RCC_AHB2ENR_GPIOAEN: u32 = 1 << 0;
const RCC_AHB2ENR_GPIOBEN: u32 = 1 << 1;
const RCC_AHB2ENR_GPIOCEN: u32 = 1 << 2;
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

// SYSCFG
const SYSCFG_EXTICR4: u32 = 0x14; // EXTI12..15, 4 bits each
const EXTICR_PORT_B: u32 = 1;
const EXTICR_PORT_C: u32 = 2;

// EXTI
const EXTI_IMR1: u32 = 0x00;
const EXTI_RTSR1: u32 = 0x08;
const EXTI_FTSR1: u32 = 0x0c;
const EXTI_PR1: u32 = 0x14;

/// The LED: PA5 (LD1 on the B-L475E-IOT01A).
pub const LED_PIN: u32 = 5;
/// The user button: PC13 (B1).
pub const BUTTON_PIN: u32 = 13;
/// NVIC line of EXTI lines 10..15.
pub const IRQ_EXTI15_10: u32 = 40;

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
    gpioa: Mmio,
    gpiob: Mmio,
    gpioc: Mmio,
    syscfg: Mmio,
    exti: Mmio,
}

impl Board {
    /// Map the registers, enable the clocks, set the pins up (LED off).
    pub fn new() -> Result<Board> {
        let gpio = Mmio::map(GPIO_BASE, GPIO_SPAN)?;
        let sys = Mmio::map(SYSCFG_BASE, SYSCFG_EXTI_SPAN)?;
        let rcc = Mmio::map(RCC_BASE, RCC_LEN)?;
        let b = Board {
            gpioa: gpio.sub(GPIOA_OFF, GPIO_PORT_LEN).ok_or(Error::Inval)?,
            gpiob: gpio.sub(GPIOB_OFF, GPIO_PORT_LEN).ok_or(Error::Inval)?,
            gpioc: gpio.sub(GPIOC_OFF, GPIO_PORT_LEN).ok_or(Error::Inval)?,
            syscfg: sys.sub(0, EXTI_OFF).ok_or(Error::Inval)?,
            exti: sys.sub(EXTI_OFF, EXTI_OFF).ok_or(Error::Inval)?,
        };
        rcc.modify(RCC_AHB2ENR, 0, RCC_AHB2ENR_GPIOAEN | RCC_AHB2ENR_GPIOBEN | RCC_AHB2ENR_GPIOCEN);
        rcc.modify(RCC_APB2ENR, 0, RCC_APB2ENR_SYSCFGEN);
        // A read back: the clock is on before the first access (RM0351
        // asks for a delay after enabling a peripheral clock).
        let _ = rcc.read(RCC_AHB2ENR);
        let _ = rcc.read(RCC_APB2ENR);

        b.gpioa.write(BSRR, bsrr(LED_PIN, false));
        b.gpioa.modify(OTYPER, 1 << LED_PIN, 0);
        let (clr, set) = field2(LED_PIN, MODE_OUTPUT);
        b.gpioa.modify(MODER, clr, set);

        let (clr, set) = field2(BUTTON_PIN, MODE_INPUT);
        b.gpioc.modify(MODER, clr, set);
        let (clr, _) = field2(BUTTON_PIN, 0);
        b.gpioc.modify(PUPDR, clr, 0); // no pull: the board has its own
        Ok(b)
    }

    /// Route EXTI13 to PC13, trigger on both edges, clear, unmask.
    pub fn enable_button_interrupt(&self) {
        let pb_pupdr = self.sync_twin_exti_level();
        let (clr, set) = exticr_field(BUTTON_PIN, EXTICR_PORT_C);
        self.syscfg.modify(SYSCFG_EXTICR4, clr, set);
        self.gpiob.write(PUPDR, pb_pupdr);
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
    /// PC13's first rising edge. Real hardware detects edges on the
    /// selected pin. Work around the twin without touching PA13 (the debug
    /// link on a real board): route EXTI13 to PB13 and move PB13 (an
    /// unconnected input, analog at reset) with its pull resistors to
    /// PC13's level; the caller routes EXTI13 to PC13, then restores
    /// PB13's PUPDR (returned here). On real hardware this changes
    /// nothing (no trigger is enabled yet; pulls are inactive in analog
    /// mode).
    fn sync_twin_exti_level(&self) -> u32 {
        let (clr, set) = exticr_field(BUTTON_PIN, EXTICR_PORT_B);
        self.syscfg.modify(SYSCFG_EXTICR4, clr, set);
        let pupdr = self.gpiob.read(PUPDR);
        let (clr, up) = field2(BUTTON_PIN, PULL_UP);
        self.gpiob.modify(PUPDR, clr, up);
        if !self.button() {
            let (clr, down) = field2(BUTTON_PIN, PULL_DOWN);
            self.gpiob.modify(PUPDR, clr, down);
        }
        pupdr
    }

    /// Was an edge latched on EXTI13? Clears it (PR1 is write-1-to-clear).
    pub fn take_edge(&self) -> bool {
        let bit = 1 << BUTTON_PIN;
        let pending = self.exti.read(EXTI_PR1) & bit != 0;
        if pending {
            self.exti.write(EXTI_PR1, bit);
        }
        pending
    }

    /// PC13's input level.
    pub fn button(&self) -> bool {
        self.gpioc.read(IDR) & (1 << BUTTON_PIN) != 0
    }

    /// Whether PA5 is driven high.
    pub fn led(&self) -> bool {
        self.gpioa.read(ODR) & (1 << LED_PIN) != 0
    }

    pub fn set_led(&self, on: bool) {
        self.gpioa.write(BSRR, bsrr(LED_PIN, on));
    }
}

// The register arithmetic, checked at compile time (RM0351 values).
const _: () = assert!(field2(LED_PIN, MODE_OUTPUT).0 == 0b11 << 10 && field2(LED_PIN, MODE_OUTPUT).1 == 0b01 << 10);
const _: () = assert!(field2(BUTTON_PIN, MODE_INPUT).0 == 0b11 << 26 && field2(BUTTON_PIN, MODE_INPUT).1 == 0);
const _: () = assert!(exticr_field(13, EXTICR_PORT_C).0 == 0xf0 && exticr_field(13, EXTICR_PORT_C).1 == 0x20);
const _: () = assert!(bsrr(5, true) == 0x20 && bsrr(5, false) == 0x20_0000);
const _: () = assert!(GPIOC_OFF + GPIO_PORT_LEN <= GPIO_SPAN && EXTI_OFF + EXTI_OFF <= SYSCFG_EXTI_SPAN);
