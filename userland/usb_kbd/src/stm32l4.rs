//! The STM32L475's USB OTG FS core (a Synopsys DWC2) as a
//! `synopsys_usb_otg::UsbPeripheral`, for the `hid` task.
//!
//! NEVER RUN ON HARDWARE: this module compiles for thumbv7em-none-eabihf
//! and its constants are checked against RM0351 on the host, but QEMU's
//! b-l475e-iot01a models no USB, and no board has enumerated it yet.
//!
//! # What the task must do first, through `sys` (the owner of RCC, PWR, GPIO)
//!
//! In this order (RM0351, "USB on-the-go full-speed"), before [`take_bus`]'s
//! allocator reaches `UsbKeyboard::new` and its first `poll`:
//!
//! 1. the 48 MHz clock: the kernel has already selected PLLSAI1Q as CLK48
//!    (board.toml `[clock] usb_source`, arch/arm-m/clock.c). Still to do
//!    by someone (docs/usb.md, "Accuracy"): lock MSI to the LSE
//!    (RCC_CR.MSIPLLEN once LSERDY, with a bounded wait), since USB needs
//!    48 MHz within 0.25 %;
//! 2. `RCC_APB1ENR1.PWREN` (bit 28), then `PWR_CR2.USV` (bit 10): VDDUSB is
//!    valid (the USB transceiver's supply is isolated until then);
//! 3. `RCC_AHB2ENR.OTGFSEN` (bit 12): the core's clock. Without it the
//!    registers read as 0 and the driver's reset loop (it waits for
//!    GRSTCTL.AHBIDL with no bound) never ends;
//! 4. PA11 (DM) and PA12 (DP) as alternate function 10 (OTG_FS), very high
//!    speed, no pull; PA9 (VBUS) is not needed: the driver forces the
//!    B-session valid (GCCFG.VBDEN = 0) on this core (CID 0x2000);
//! 5. the OTG_FS interrupt, [`OTG_FS_IRQ`] = 67, routed to the task as a
//!    notification (KS_IRQ): the task calls `UsbKeyboard::poll` on each;
//! 6. the registers mapped: `runtime::ks::mmio(OTG_FS_BASE, OTG_FS_MMIO_SIZE)`.
//!
//! `UsbPeripheral::enable` (which `synopsys_usb_otg` calls from
//! `UsbBus::enable`) does nothing here: an unprivileged task cannot touch
//! RCC, so steps 1..4 are `sys`'s.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

use synopsys_usb_otg::UsbPeripheral;
use usb_device::bus::UsbBusAllocator;

/// The core's registers (RM0351 memory map: OTG_FS at 0x5000_0000, AHB2).
pub const OTG_FS_BASE: u32 = 0x5000_0000;
/// What the task maps with KS_MMIO: the core's registers (0x000..0xE04)
/// and the six endpoints' FIFO windows (0x1000 + n * 0x1000 for n = 0..5,
/// 4 KiB each: up to 0x7000), rounded up to the power of two the MPU needs
/// (arch/arm-m/regions.c: size a power of two >= 32, base aligned to it,
/// inside 0x4000_0000..0x6000_0000). One MPU region of the task's spare ones.
pub const OTG_FS_MMIO_SIZE: u32 = 0x8000;
/// The OTG_FS global interrupt's NVIC line on the STM32L475 (RM0351,
/// "STM32L47x/L48x vector table": position 67).
pub const OTG_FS_IRQ: u32 = 67;
/// The core's FIFO RAM: 1.25 KiB = 320 words (RM0351, "OTG_FS FIFO").
pub const FIFO_DEPTH_WORDS: usize = 320;
/// Bidirectional endpoints including EP0 (RM0351: 6 IN, 6 OUT).
pub const ENDPOINT_COUNT: usize = 6;
/// The RAM the driver copies OUT packets into: one buffer per OUT endpoint
/// of `max_packet_size` bytes, i.e. EP0 (64) + CDC data OUT (64) = 32
/// words; twice that leaves room without the 4 KiB examples use.
pub const EP_MEMORY_WORDS: usize = 64;

/// The STM32L4 OTG FS core, clocked from AHB at `ahb_hz`.
pub struct OtgFs {
    ahb_hz: u32,
}

impl OtgFs {
    /// `ahb_hz`: HCLK, which is SYSCLK on this board (HPRE = 1, as
    /// arch/arm-m/clock.c leaves it): `runtime::config::CONFIG_CPU_HZ`.
    /// The driver sets the turnaround time (GUSBCFG.TRDT) from it; the
    /// core needs HCLK >= 14.2 MHz (RM0351, "OTG_FS ... AHB frequency").
    pub const fn new(ahb_hz: u32) -> Self {
        OtgFs { ahb_hz }
    }
}

// SAFETY: REGISTERS points at the OTG FS core (RM0351 memory map), which
// the task has mapped (KS_MMIO) before it builds the bus; FIFO_DEPTH_WORDS
// and ENDPOINT_COUNT are the STM32L475's (RM0351 "OTG_FS implementation").
unsafe impl UsbPeripheral for OtgFs {
    const REGISTERS: *const () = OTG_FS_BASE as *const ();
    const HIGH_SPEED: bool = false;
    const FIFO_DEPTH_WORDS: usize = FIFO_DEPTH_WORDS;
    const ENDPOINT_COUNT: usize = ENDPOINT_COUNT;

    /// Nothing: `sys` enabled the clock and the pins (module docs).
    fn enable() {}

    fn ahb_frequency_hz(&self) -> u32 {
        self.ahb_hz
    }
}

/// The bus driver type the `hid` task builds `UsbKeyboard<Bus>` on.
pub type Bus = synopsys_usb_otg::UsbBus<OtgFs>;

/// A static the program fills once at run time (no heap: MCU tasks have
/// none to spare). `take` hands out the only `&'static mut`.
struct Once<T> {
    taken: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: `taken` lets exactly one caller reach `value`.
unsafe impl<T> Sync for Once<T> {}

impl<T> Once<T> {
    const fn new() -> Self {
        Once {
            taken: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    fn take(&'static self, init: T) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the swap above made this the one and only access.
        Some(unsafe { (*self.value.get()).write(init) })
    }

    /// `take`, the value built in place by `init` (for values too big to
    /// pass by value on a small stack).
    fn take_in(&'static self, init: impl FnOnce(&'static mut MaybeUninit<T>) -> &'static mut T) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the swap above made this the one and only access.
        Some(init(unsafe { &mut *self.value.get() }))
    }
}

static EP_MEMORY: Once<[u32; EP_MEMORY_WORDS]> = Once::new();
static BUS: Once<UsbBusAllocator<Bus>> = Once::new();

/// The OTG FS bus allocator, built once over the static endpoint memory;
/// None the second time. Do the steps of the module docs first.
pub fn take_bus(ahb_hz: u32) -> Option<&'static UsbBusAllocator<Bus>> {
    let memory = EP_MEMORY.take([0; EP_MEMORY_WORDS])?;
    let bus = BUS.take(Bus::new(OtgFs::new(ahb_hz), memory))?;
    Some(bus)
}

/// The whole device on the OTG FS core: `take_bus` then
/// `UsbKeyboard::new`; None the second time. (Being a non-generic
/// function, it also makes every board's workspace build compile the
/// driver for `Bus`, not just the generic code.)
pub fn keyboard(ahb_hz: u32, vid: u16, pid: u16) -> Option<crate::UsbKeyboard<Bus>> {
    Some(crate::UsbKeyboard::new(take_bus(ahb_hz)?, vid, pid))
}

static KEYBOARD: Once<crate::UsbKeyboard<Bus>> = Once::new();

/// `keyboard`, built in place in a static (`UsbKeyboard::init_in`: the
/// device is ~1.5 KiB, and built by value then moved it took ~4.5 KiB of
/// the hid task's 2.75 KiB stack), once; None the second time.
pub fn keyboard_static(ahb_hz: u32, vid: u16, pid: u16) -> Option<&'static mut crate::UsbKeyboard<Bus>> {
    let bus = take_bus(ahb_hz)?;
    KEYBOARD.take_in(|slot| crate::UsbKeyboard::init_in(slot, bus, vid, pid))
}

/// What `UsbKeyboard<Bus>` takes of the `hid` task's RAM (a static or its
/// stack, userland/tasks.toml): 1496 bytes when measured on
/// thumbv7em-none-eabihf (EP0's 256-byte control buffer, usbd-hid's two
/// 128-byte SET_REPORT buffers, the console's two 128-byte rings, the
/// string descriptor table). The board build fails if it grows past this.
pub const KEYBOARD_RAM_BOUND: usize = 1536;

#[cfg(target_arch = "arm")]
const _: () = assert!(core::mem::size_of::<crate::UsbKeyboard<Bus>>() <= KEYBOARD_RAM_BOUND);

/// The `critical-section` implementation `synopsys_usb_otg` locks its
/// registers with: none is needed, so acquire and release do nothing.
///
/// Why that is sound here, and only here: a Nagi task on arm-m has one
/// thread, and an interrupt never runs task code (the kernel turns it into
/// a notification the thread receives when it next waits), so no other
/// code can run in this address space between `acquire` and `release` —
/// the guarded data is only ever touched from the one thread, in program
/// order. An interrupt-masking implementation would not even work: the
/// task is unprivileged, and `CPSID i` has no effect when executed
/// unprivileged (ARMv7-M ARM, "CPS"). A task that ran a second thread
/// over this crate would need a real lock instead.
#[cfg(all(target_arch = "arm", target_os = "none"))]
mod single_thread_cs {
    struct SingleThread;
    critical_section::set_impl!(SingleThread);

    // SAFETY: see above: one thread, no code of this task runs from an
    // interrupt, so there is nothing to exclude.
    unsafe impl critical_section::Impl for SingleThread {
        unsafe fn acquire() -> critical_section::RawRestoreState {}
        unsafe fn release(_: critical_section::RawRestoreState) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmio_grant_fits_the_mpu_and_the_fifos() {
        // The MPU: a power of two, the base aligned to it, in device space.
        assert!(OTG_FS_MMIO_SIZE.is_power_of_two() && OTG_FS_MMIO_SIZE >= 32);
        assert_eq!(OTG_FS_BASE % OTG_FS_MMIO_SIZE, 0);
        assert!(OTG_FS_BASE >= 0x4000_0000 && OTG_FS_BASE + OTG_FS_MMIO_SIZE <= 0x6000_0000);
        // The last FIFO window the driver touches (channel ENDPOINT_COUNT-1).
        let last_fifo = 0x1000 + (ENDPOINT_COUNT as u32 - 1) * 0x1000;
        assert!(last_fifo + 4 <= OTG_FS_MMIO_SIZE);
        assert_eq!(<OtgFs as UsbPeripheral>::REGISTERS as usize, 0x5000_0000);
        assert_eq!(OtgFs::new(80_000_000).ahb_frequency_hz(), 80_000_000);
    }

    #[test]
    fn statics_are_taken_once() {
        static CELL: Once<u32> = Once::new();
        assert_eq!(CELL.take(5).map(|v| *v), Some(5));
        assert!(CELL.take(6).is_none());
    }
}
