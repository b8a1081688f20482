//! abi.rs - the system-call ABI. Everything but the [`Pod`] trait is
//! generated from kernel/abi.toml by tools/abigen.py (see build.rs), the
//! same description the kernel's abi.h is generated from: constant names
//! are the C names, struct layouts are asserted here and in C alike.

/// Plain old data: a `#[repr(C)]` struct of integers and byte arrays
/// without padding, so it may be viewed as bytes and built from any bytes.
///
/// # Safety
/// Implement only for such types (the generator does, for every ABI struct
/// it has checked).
pub unsafe trait Pod: Copy + 'static {
    /// The value's bytes.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: Self is Pod: no padding, so all size_of bytes are
        // initialised; the slice borrows self.
        unsafe { core::slice::from_raw_parts(self as *const Self as *const u8, core::mem::size_of::<Self>()) }
    }

    /// A value from the first size_of::<Self>() bytes of `b` (None when
    /// `b` is shorter).
    fn from_bytes(b: &[u8]) -> Option<Self> {
        let n = core::mem::size_of::<Self>();
        if b.len() < n {
            return None;
        }
        // SAFETY: Self is Pod (every byte pattern is a value) and b holds
        // at least n bytes; read_unaligned copies them without alignment needs.
        Some(unsafe { core::ptr::read_unaligned(b.as_ptr() as *const Self) })
    }
}

include!(env!("NAGI_ABI_RS"));
