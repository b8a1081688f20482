//! The keyboard's USB device, on crates.io's `usb-device` 0.3 stack:
//!
//! - [`UsbKeyboard`]: a composite device of a boot keyboard (interface 0),
//!   an NKRO keyboard (interface 1) and a CDC-ACM serial port for the
//!   console (interfaces 2, 3), generic over `usb_device::bus::UsbBus`;
//! - [`descriptors`]: the two HID report descriptors;
//! - [`stm32l4`]: the STM32L475's OTG FS core for `synopsys-usb-otg`, the
//!   endpoint memory, and the critical section of a single-threaded task;
//! - [`relay`]: what the `hid` task keeps between requests and the device
//!   (the latest report waiting for its endpoint, boot-vs-NKRO choice, the
//!   console's rings), pure and host-tested.
//!
//! Report formats are `keyboard::report`'s (`encode_boot`, `encode_nkro`;
//! docs/protocols.md). Host-tested against a fake bus (tests/); never run
//! on hardware (userland/README.md, "usb_kbd").
#![no_std]

pub mod descriptors;
mod device;
pub mod relay;
pub mod stm32l4;

pub use device::{
    Busy, UsbKeyboard, BOOT_INTERFACE, BOOT_REPORT_LEN, CONSOLE_NAME, MANUFACTURER, NKRO_INTERFACE,
    NKRO_REPORT_LEN, POLL_MS, PRODUCT,
};
pub use usb_device;
