//! stm32l4.rs - the STM32L4 registers the gpio (sys) task owns (RM0351):
//! RCC clock enables, every GPIO port up to the highest one the board
//! uses, SYSCFG routing of EXTI lines to ports, EXTI edge detection, and
//! (in an image with USB) PWR_CR2.USV and the LSE: the MSI is locked to
//! the 32.768 kHz crystal for USB's clock accuracy (start_lse,
//! lock_msi_to_lse; never on the twin). The button and LED are the
//! board's [gpio] "button" and "led" (PA5, LD1, and PC13, B1, on EXTI15_10,
//! IRQ 40 on the Discovery kit), generated into runtime::config as
//! BOARD_GPIO_*; the pins clients may use are board.toml [keyboard]'s
//! (BOARD_KEYBOARD_PINS_<port>), plus USB's PA11/PA12 in an image with USB.
//! Three KS_MMIO regions: the GPIO ports (0x4800_0000, 0x400 each),
//! SYSCFG + EXTI (0x4001_0000, 2 KiB; with USB the 128 KiB from
//! 0x4000_0000, which also holds PWR at 0x4000_7000: a task has three
//! device regions), RCC (0x4002_1000, 1 KiB).

use runtime::config::*;
use runtime::mmio::Mmio;
use runtime::proto::{SysPinConfig, PIN_MODE_AF, PIN_MODE_OUTPUT, SYS_PORTS};
use runtime::{Error, Result};

const GPIO_BASE: u32 = 0x4800_0000; // GPIOA; port n at +0x400 * n
const GPIO_PORT_LEN: u32 = 0x400;
const SYSCFG_BASE: u32 = 0x4001_0000;
const EXTI_OFF: u32 = 0x400; // EXTI at SYSCFG + 0x400
const PWR_BASE: u32 = 0x4000_7000;
const RCC_BASE: u32 = 0x4002_1000;
const RCC_LEN: u32 = 0x400;

// RCC
const RCC_CR: u32 = 0x00;
const RCC_CR_MSIPLLEN: u32 = 1 << 2; // MSI PLL mode: locked to the LSE
const RCC_BDCR: u32 = 0x90; // backup domain: write-protected until PWR_CR1.DBP
const RCC_BDCR_LSEON: u32 = 1 << 0;
const RCC_BDCR_LSERDY: u32 = 1 << 1;
const RCC_AHB2ENR: u32 = 0x4c; // bit n: GPIO port n's clock (GPIOAEN = bit 0)
const RCC_AHB2ENR_OTGFSEN: u32 = 12;
const RCC_APB1ENR1: u32 = 0x58;
const RCC_APB1ENR1_PWREN: u32 = 1 << 28;
const RCC_APB2ENR: u32 = 0x60;
const RCC_APB2ENR_SYSCFGEN: u32 = 1 << 0;

// PWR
const PWR_CR1: u32 = 0x00;
const PWR_CR1_DBP: u32 = 1 << 8; // backup domain (RCC_BDCR) write access
const PWR_CR2: u32 = 0x04;
const PWR_CR2_USV: u32 = 1 << 10;

// GPIO port
const MODER: u32 = 0x00;
const OTYPER: u32 = 0x04;
const OSPEEDR: u32 = 0x08;
const PUPDR: u32 = 0x0c;
const IDR: u32 = 0x10;
const ODR: u32 = 0x14;
const BSRR: u32 = 0x18;
const AFRL: u32 = 0x20;
const MODE_INPUT: u32 = 0b00;
const MODE_OUTPUT: u32 = 0b01;
const MODE_AF: u32 = 0b10;
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

/// The image drives USB (keyboard on the real wiring): sys then lets a
/// client enable OTG FS's clock, configure PA11/PA12 and set PWR_CR2.USV.
pub const USB: bool = CONFIG_KEYBOARD && !CONFIG_TWIN;
const USB_PINS_A: u16 = (1 << 11) | (1 << 12);

/// The pins clients may configure, read, drive and watch, per port A..H.
pub const CLIENT_PINS: [u16; SYS_PORTS] = [
    BOARD_KEYBOARD_PINS_A as u16 | if USB { USB_PINS_A } else { 0 },
    BOARD_KEYBOARD_PINS_B as u16,
    BOARD_KEYBOARD_PINS_C as u16,
    BOARD_KEYBOARD_PINS_D as u16,
    BOARD_KEYBOARD_PINS_E as u16,
    BOARD_KEYBOARD_PINS_F as u16,
    BOARD_KEYBOARD_PINS_G as u16,
    BOARD_KEYBOARD_PINS_H as u16,
];

/// The highest port index the board uses (button, LED, twin port, client pins).
const fn max_port() -> u32 {
    let mut m = max(max(LED_PORT, BUTTON_PORT), TWIN_PORT);
    let mut p = 0;
    while p < SYS_PORTS {
        if CLIENT_PINS[p] != 0 && p as u32 > m {
            m = p as u32;
        }
        p += 1;
    }
    m
}

/// The GPIO ports mapped: A up to the highest one used.
pub const PORTS: u32 = 1 + max_port();
const GPIO_SPAN: u32 = GPIO_PORT_LEN * PORTS;
/// The block with SYSCFG and EXTI (and PWR, with USB).
const LOW_BASE: u32 = if USB { PWR_BASE & !0xffff } else { SYSCFG_BASE };
const LOW_LEN: u32 = SYSCFG_BASE + 2 * EXTI_OFF - LOW_BASE;

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

/// BSRR value that drives the `mask` pins to `levels`.
pub const fn bsrr_mask(mask: u16, levels: u16) -> u32 {
    (levels & mask) as u32 | (((!levels & mask) as u32) << 16)
}

/// The NVIC line EXTI line `line` raises on the STM32L4 (RM0351 vector
/// table: EXTI0..4 = 6..10, EXTI9_5 = 23, EXTI15_10 = 40).
pub const fn exti_irq(line: u32) -> u32 {
    match line {
        0..=4 => 6 + line,
        5..=9 => 23,
        _ => 40,
    }
}

/// Whether a client may enable clock (RCC register offset `enr`, `bit`):
/// the board's trace UART, and OTG FS in an image with USB.
pub const fn clock_allowed(enr: u32, bit: u32) -> bool {
    (CONFIG_HAS_KEYBOARD && enr == BOARD_KEYBOARD_TRACE_RCC_ENR && bit == BOARD_KEYBOARD_TRACE_RCC_BIT)
        || (USB && enr == RCC_AHB2ENR && bit == RCC_AHB2ENR_OTGFSEN)
}

/// How long the LSE may take to start, counted from LSEON (the
/// STM32L475 datasheet's tSU(LSE) is about 2 s at the lowest drive; this
/// leaves margin). Past it, sys says so once and USB runs on the free MSI.
pub const LSE_TIMEOUT_MS: u64 = 3000;
/// The bounded wait's step (a sleep: sys serves nobody meanwhile, once).
const LSE_POLL_MS: u32 = 10;

/// Where the MSI-to-LSE lock stands (images with USB only).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lse {
    /// No USB in the image: the LSE is never touched (the twin).
    Off,
    /// LSEON set at this uptime (ms); LSERDY not seen yet.
    Starting(u64),
    /// MSIPLLEN set: MSI (so PLLSAI1's 48 MHz) follows the crystal.
    Locked,
    /// LSERDY never came within LSE_TIMEOUT_MS (said once).
    Failed,
}

pub struct Board {
    gpio: Mmio,
    syscfg: Mmio,
    exti: Mmio,
    rcc: Mmio,
    pwr: Option<Mmio>,
    lse: Lse,
}

impl Board {
    /// Map the registers, enable the clocks, set the pins up (LED off).
    pub fn new() -> Result<Board> {
        let gpio = Mmio::map(GPIO_BASE, GPIO_SPAN)?;
        let low = Mmio::map(LOW_BASE, LOW_LEN)?;
        let rcc = Mmio::map(RCC_BASE, RCC_LEN)?;
        let sub = |off: u32, len: u32| low.sub(off, len).ok_or(Error::Inval);
        let mut b = Board {
            gpio,
            syscfg: sub(SYSCFG_BASE - LOW_BASE, EXTI_OFF)?,
            exti: sub(SYSCFG_BASE - LOW_BASE + EXTI_OFF, EXTI_OFF)?,
            rcc,
            pwr: if USB { Some(sub(PWR_BASE - LOW_BASE, 0x400)?) } else { None },
            lse: Lse::Off,
        };
        if USB {
            b.start_lse();
        }
        // Every mapped port's clock: button, LED, twin port and client pins.
        b.rcc.modify(RCC_AHB2ENR, 0, (1 << PORTS) - 1);
        b.rcc.modify(RCC_APB2ENR, 0, RCC_APB2ENR_SYSCFGEN);
        // A read back: the clock is on before the first access (RM0351
        // asks for a delay after enabling a peripheral clock).
        let _ = b.rcc.read(RCC_AHB2ENR);
        let _ = b.rcc.read(RCC_APB2ENR);

        let led = b.port(LED_PORT);
        led.write(BSRR, bsrr(LED_PIN, false));
        led.modify(OTYPER, 1 << LED_PIN, 0);
        let (clr, set) = field2(LED_PIN, MODE_OUTPUT);
        led.modify(MODER, clr, set);

        let button = b.port(BUTTON_PORT);
        let (clr, set) = field2(BUTTON_PIN, MODE_INPUT);
        button.modify(MODER, clr, set);
        let (clr, _) = field2(BUTTON_PIN, 0);
        button.modify(PUPDR, clr, 0); // no pull: the board has its own
        Ok(b)
    }

    /// Port `n`'s registers (n < PORTS).
    fn port(&self, n: u32) -> Mmio {
        self.gpio.sub(n * GPIO_PORT_LEN, GPIO_PORT_LEN).expect("port inside the mapped ports")
    }

    /// Route the button's EXTI line to its pin, trigger on both edges,
    /// clear, unmask.
    pub fn enable_button_interrupt(&self) {
        let twin_pupdr = self.sync_twin_exti_level();
        let (clr, set) = exticr_field(BUTTON_PIN, BUTTON_PORT);
        self.syscfg.modify(exticr(BUTTON_PIN), clr, set);
        self.port(TWIN_PORT).write(PUPDR, twin_pupdr);
        self.enable_line(BUTTON_PIN);
    }

    /// Trigger EXTI line `line` on both edges, clear it, unmask it.
    fn enable_line(&self, line: u32) {
        let bit = 1 << line;
        self.exti.modify(EXTI_RTSR1, 0, bit);
        self.exti.modify(EXTI_FTSR1, 0, bit);
        self.exti.write(EXTI_PR1, bit);
        self.exti.modify(EXTI_IMR1, 0, bit);
    }

    /// Mask EXTI line `line` and stop its triggers.
    pub fn disable_line(&self, line: u32) {
        let bit = 1 << line;
        self.exti.modify(EXTI_IMR1, bit, 0);
        self.exti.modify(EXTI_RTSR1, bit, 0);
        self.exti.modify(EXTI_FTSR1, bit, 0);
        self.exti.write(EXTI_PR1, bit);
    }

    /// Route EXTI line `pin` to port `port` and enable it (both edges).
    /// The twin's EXTI model detects edges against the level it last saw
    /// on the line, which came from the port routed before (see
    /// sync_twin_exti_level): after routing, the pin's pull is flipped
    /// and restored so that the model sees the pin's own level (an
    /// undriven pin follows its pull). On real hardware no trigger of
    /// the line is on yet, so this changes nothing.
    pub fn watch_pin(&self, port: u32, pin: u32) {
        let (clr, set) = exticr_field(pin, port);
        self.syscfg.modify(exticr(pin), clr, set);
        let p = self.port(port);
        let pupdr = p.read(PUPDR);
        let high = p.read(IDR) & (1 << pin) != 0;
        let (clr, flip) = field2(pin, if high { PULL_DOWN } else { PULL_UP });
        p.modify(PUPDR, clr, flip);
        p.write(PUPDR, pupdr);
        self.enable_line(pin);
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
        let twin = self.port(TWIN_PORT);
        let pupdr = twin.read(PUPDR);
        let (clr, up) = field2(BUTTON_PIN, PULL_UP);
        twin.modify(PUPDR, clr, up);
        if !self.button() {
            let (clr, down) = field2(BUTTON_PIN, PULL_DOWN);
            twin.modify(PUPDR, clr, down);
        }
        pupdr
    }

    /// The EXTI lines of `mask` with an edge latched; clears them (PR1 is
    /// write-1-to-clear).
    pub fn take_pending(&self, mask: u32) -> u32 {
        let pending = self.exti.read(EXTI_PR1) & mask;
        if pending != 0 {
            self.exti.write(EXTI_PR1, pending);
        }
        pending
    }

    /// The button pin's input level.
    pub fn button(&self) -> bool {
        self.port(BUTTON_PORT).read(IDR) & (1 << BUTTON_PIN) != 0
    }

    /// Whether the LED pin is driven high.
    pub fn led(&self) -> bool {
        self.port(LED_PORT).read(ODR) & (1 << LED_PIN) != 0
    }

    pub fn set_led(&self, on: bool) {
        self.port(LED_PORT).write(BSRR, bsrr(LED_PIN, on));
    }

    /// Set the RCC enable bit (allow-listed by the caller).
    pub fn enable_clock(&self, enr: u32, bit: u32) {
        self.rcc.modify(enr, 0, 1 << bit);
        let _ = self.rcc.read(enr);
    }

    /// Configure a pin (mode, pull, alternate function; an output's level
    /// is set before it drives).
    pub fn configure_pin(&self, c: &SysPinConfig) {
        let (port, pin) = (c.port as u32, c.pin as u32);
        let p = self.port(port);
        let (clr, set) = field2(pin, c.pull as u32);
        p.modify(PUPDR, clr, set);
        let mode = match c.mode {
            PIN_MODE_OUTPUT => {
                p.write(BSRR, bsrr(pin, c.level != 0));
                p.modify(OTYPER, 1 << pin, 0);
                MODE_OUTPUT
            }
            PIN_MODE_AF => {
                let afr = AFRL + 4 * (pin / 8);
                let shift = 4 * (pin % 8);
                p.modify(afr, 0xf << shift, (c.af as u32 & 0xf) << shift);
                let (clr, fast) = field2(pin, 0b11); // very high speed (USB)
                p.modify(OSPEEDR, clr, fast);
                MODE_AF
            }
            _ => MODE_INPUT,
        };
        let (clr, set) = field2(pin, mode);
        p.modify(MODER, clr, set);
    }

    /// Port `port`'s input levels (0 for a port not mapped).
    pub fn read_port(&self, port: u32) -> u16 {
        if port < PORTS {
            self.port(port).read(IDR) as u16
        } else {
            0
        }
    }

    pub fn write_pins(&self, port: u32, mask: u16, levels: u16) {
        self.port(port).write(BSRR, bsrr_mask(mask, levels));
    }

    /// PWR_CR2.USV: VDDUSB is valid (RM0351: the USB transceiver is
    /// isolated until it is set). -E_NOSYS without USB in the image.
    /// Turning it on first finishes the MSI-to-LSE lock (`lock_msi_to_lse`:
    /// a bounded wait, once), so the device starts on an accurate clock.
    pub fn usb_power(&mut self, on: bool) -> Result<()> {
        let pwr = self.pwr.as_ref().ok_or(Error::NoSys)?;
        self.rcc.modify(RCC_APB1ENR1, 0, RCC_APB1ENR1_PWREN);
        let _ = self.rcc.read(RCC_APB1ENR1);
        pwr.set_bits(PWR_CR2, PWR_CR2_USV, on);
        if USB && on {
            self.lock_msi_to_lse();
        }
        Ok(())
    }

    /// Start the 32.768 kHz crystal (RM0351 "Backup domain access",
    /// "LSE clock"): PWREN, PWR_CR1.DBP (RCC_BDCR is write-protected after
    /// reset), read DBP back (the write must land before BDCR is written),
    /// then RCC_BDCR.LSEON. Does not wait: the crystal takes up to ~2 s,
    /// which pass while the other tasks start. Only in images with USB
    /// (never on the twin, which models no backup domain).
    fn start_lse(&mut self) {
        let Some(pwr) = self.pwr.as_ref() else { return };
        self.rcc.modify(RCC_APB1ENR1, 0, RCC_APB1ENR1_PWREN);
        let _ = self.rcc.read(RCC_APB1ENR1);
        pwr.modify(PWR_CR1, 0, PWR_CR1_DBP);
        let mut spins = 0;
        while pwr.read(PWR_CR1) & PWR_CR1_DBP == 0 && spins < 1000 {
            spins += 1;
        }
        self.rcc.modify(RCC_BDCR, 0, RCC_BDCR_LSEON);
        self.lse = Lse::Starting(runtime::ks::uptime());
    }

    /// Wait (bounded: until LSE_TIMEOUT_MS after LSEON) for RCC_BDCR.LSERDY,
    /// then set RCC_CR.MSIPLLEN (RM0351 "MSI clock": PLL mode needs the LSE
    /// on and ready; MSI then trims itself to it continuously). If the LSE
    /// never becomes ready: one line, and USB goes on with MSI unlocked
    /// (possibly outside USB's +-0.25 %). Once; a no-op afterwards.
    fn lock_msi_to_lse(&mut self) {
        let Lse::Starting(since) = self.lse else { return };
        loop {
            if self.rcc.read(RCC_BDCR) & RCC_BDCR_LSERDY != 0 {
                self.rcc.modify(RCC_CR, 0, RCC_CR_MSIPLLEN);
                self.lse = Lse::Locked;
                return;
            }
            if runtime::ks::uptime().saturating_sub(since) >= LSE_TIMEOUT_MS {
                runtime::debug_println!(
                    "gpio: LSE not ready after {} ms: MSI is not locked to it, USB's 48 MHz may be out of spec",
                    LSE_TIMEOUT_MS
                );
                self.lse = Lse::Failed;
                return;
            }
            if runtime::service::sleep_ms(LSE_POLL_MS).is_err() {
                runtime::ks::yield_now();
            }
        }
    }
}

// The register arithmetic, checked at compile time (RM0351 values: PA5
// output, PC13 input on EXTICR4).
const _: () = assert!(field2(5, MODE_OUTPUT).0 == 0b11 << 10 && field2(5, MODE_OUTPUT).1 == 0b01 << 10);
const _: () = assert!(field2(13, MODE_INPUT).0 == 0b11 << 26 && field2(13, MODE_INPUT).1 == 0);
const _: () = assert!(exticr_field(13, 2).0 == 0xf0 && exticr_field(13, 2).1 == 0x20);
const _: () = assert!(exticr(13) == 0x14 && exticr(0) == 0x08);
const _: () = assert!(bsrr(5, true) == 0x20 && bsrr(5, false) == 0x20_0000);
const _: () = assert!(bsrr_mask(0b0110, 0b0100) == 0b0100 | (0b0010 << 16));
const _: () = assert!(exti_irq(0) == 6 && exti_irq(4) == 10 && exti_irq(7) == 23 && exti_irq(13) == 40);
const _: () = assert!(LED_PIN < 16 && BUTTON_PIN < 16 && TWIN_PORT != BUTTON_PORT);
const _: () = assert!(PORTS as usize <= SYS_PORTS);
const _: () = assert!(!USB || (LOW_BASE == 0x4000_0000 && LOW_LEN == 0x1_0800));
const _: () = assert!(CLIENT_PINS[BUTTON_PORT as usize] & (1 << BUTTON_PIN) == 0);
