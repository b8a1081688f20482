//! The two HID report descriptors (HID 1.11 §6.2.2), as const byte arrays.
//!
//! Each item is a prefix byte (bits 7..4 tag, 3..2 type: 0 main, 1 global,
//! 2 local; 1..0 data size 0/1/2/4 bytes) and its data, little endian.
//! The reports carry no report ID (one report per interface), so the bytes
//! on the interrupt endpoint are exactly the report.

/// Interface 0, the boot keyboard: HID 1.11 Appendix B.1's 8-byte report
/// (byte 0 modifiers, byte 1 reserved, bytes 2..=7 six key usages), laid
/// out as Appendix E.6 does, so that a BIOS in boot protocol and an OS in
/// report protocol read the same bytes. The host's LED state comes back as
/// a 1-byte output report (5 LEDs + 3 bits padding) on SET_REPORT.
/// The key array's range is 0x00..=0xDF (every key usage `keyboard::report`
/// may put there), not Appendix E.6's 0..=101.
pub const BOOT_KEYBOARD: &[u8] = &[
    0x05, 0x01, //       Usage Page (Generic Desktop)
    0x09, 0x06, //       Usage (Keyboard)
    0xA1, 0x01, //       Collection (Application)
    // byte 0: the eight modifiers, one bit each (usages 0xE0..=0xE7)
    0x05, 0x07, //         Usage Page (Keyboard/Keypad)
    0x19, 0xE0, //         Usage Minimum (Left Control)
    0x29, 0xE7, //         Usage Maximum (Right GUI)
    0x15, 0x00, //         Logical Minimum (0)
    0x25, 0x01, //         Logical Maximum (1)
    0x75, 0x01, //         Report Size (1)
    0x95, 0x08, //         Report Count (8)
    0x81, 0x02, //         Input (Data, Variable, Absolute)
    // byte 1: reserved
    0x95, 0x01, //         Report Count (1)
    0x75, 0x08, //         Report Size (8)
    0x81, 0x01, //         Input (Constant)
    // output byte: LEDs Num Lock .. Kana, then 3 bits of padding
    0x95, 0x05, //         Report Count (5)
    0x75, 0x01, //         Report Size (1)
    0x05, 0x08, //         Usage Page (LEDs)
    0x19, 0x01, //         Usage Minimum (Num Lock)
    0x29, 0x05, //         Usage Maximum (Kana)
    0x91, 0x02, //         Output (Data, Variable, Absolute)
    0x95, 0x01, //         Report Count (1)
    0x75, 0x03, //         Report Size (3)
    0x91, 0x01, //         Output (Constant)
    // bytes 2..=7: six key usages, 0 = none, 0x01 in all six = ErrorRollOver
    0x95, 0x06, //         Report Count (6)
    0x75, 0x08, //         Report Size (8)
    0x15, 0x00, //         Logical Minimum (0)
    0x26, 0xDF, 0x00, //   Logical Maximum (223; two bytes, as one byte 0xDF would be -33)
    0x05, 0x07, //         Usage Page (Keyboard/Keypad)
    0x19, 0x00, //         Usage Minimum (0)
    0x29, 0xDF, //         Usage Maximum (0xDF)
    0x81, 0x00, //         Input (Data, Array, Absolute)
    0xC0, //             End Collection
];

/// Interface 1, the NKRO keyboard: 29 bytes, byte 0 the modifiers (as in
/// the boot report), then one bit per usage 0x00..=0xDF: bit `u % 8` of
/// byte `1 + u / 8` (userland/keyboard/src/report.rs, `encode_nkro`).
/// Bits of usages 0x00..=0x03 are always 0. No output report: the host
/// sends its LED state to the boot interface as well.
pub const NKRO_KEYBOARD: &[u8] = &[
    0x05, 0x01, //       Usage Page (Generic Desktop)
    0x09, 0x06, //       Usage (Keyboard)
    0xA1, 0x01, //       Collection (Application)
    // byte 0: the eight modifiers
    0x05, 0x07, //         Usage Page (Keyboard/Keypad)
    0x19, 0xE0, //         Usage Minimum (Left Control)
    0x29, 0xE7, //         Usage Maximum (Right GUI)
    0x15, 0x00, //         Logical Minimum (0)
    0x25, 0x01, //         Logical Maximum (1)
    0x75, 0x01, //         Report Size (1)
    0x95, 0x08, //         Report Count (8)
    0x81, 0x02, //         Input (Data, Variable, Absolute)
    // bytes 1..=28: the bitmap, usage u = bit u of the 224 that follow
    0x19, 0x00, //         Usage Minimum (0)
    0x29, 0xDF, //         Usage Maximum (0xDF)
    0x95, 0xE0, //         Report Count (224)
    0x81, 0x02, //         Input (Data, Variable, Absolute)
    0xC0, //             End Collection
];
