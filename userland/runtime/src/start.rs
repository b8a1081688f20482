//! start.rs - how a program begins and ends: the `_start` entry (first
//! argument register = arg, second = message buffer; x86_64: rdi, rsi;
//! arm-m: r0, r1, Thumb), the call of the program's `main(arg)` (declared
//! with `runtime::entry!`), the exit through KS_EXIT, and the panic handler.

use crate::abi::Msg;
use crate::heap::LazyHeap;

#[global_allocator]
static HEAP: LazyHeap = LazyHeap::new();

// The kernel enters with rsp 16-byte aligned; `call` pushes the return
// address, giving the function the alignment the SysV ABI expects.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".section .text._start, \"ax\", @progbits",
    ".global _start",
    ".type _start, @function",
    "_start:",
    "    xor ebp, ebp",
    "    call {start}",
    "    ud2",
    start = sym rt_start,
);

// ARMv7-M: r0 = arg, r1 = message buffer, sp = the stack top the kernel
// set (the AAPCS wants 8-byte alignment at calls: align it down anyway).
// r0 and r1 pass straight through to rt_start.
#[cfg(target_arch = "arm")]
core::arch::global_asm!(
    ".section .text._start, \"ax\", %progbits",
    ".global _start",
    ".type _start, %function",
    ".thumb_func",
    "_start:",
    "    mov r2, sp",
    "    bic r2, r2, #7",
    "    mov sp, r2",
    "    bl {start}",
    "    udf #0",
    start = sym rt_start,
);

extern "Rust" {
    /// The program's main, defined by `runtime::entry!`.
    fn nagi_main(arg: u64) -> i32;
}

/// Called from `_start` with the entry registers (usize-shaped on both
/// architectures: the arg is truncated to 32 bits on arm-m).
extern "C" fn rt_start(arg: usize, buf: *mut Msg) -> ! {
    crate::sys::set_msgbuf(buf);
    if let Some(bi) = crate::sys::bootinfo() {
        HEAP.set_range(bi.heap_base as usize, bi.heap_size as usize);
    }
    // SAFETY: every program crate defines nagi_main through entry!, with
    // exactly this signature (a missing one fails to link).
    let code = unsafe { nagi_main(arg as u64) };
    crate::ks::exit(code)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let name = crate::sys::bootinfo().map(|b| b.name).unwrap_or([0; 32]);
    crate::debug_println!("{}: panic: {}", crate::ks::name_str(&name), info);
    crate::ks::exit(-1)
}

/// The ARM EHABI personality routine some `.ARM.exidx` entries name.
/// Programs are built with panic=abort and user-arm.ld discards the
/// unwind tables, but a reference can survive in the symbol table; this
/// definition keeps the ELF free of undefined symbols. Never called: if it
/// were, the task ends.
#[cfg(target_arch = "arm")]
#[no_mangle]
pub extern "C" fn __aeabi_unwind_cpp_pr0() -> ! {
    crate::ks::exit(-1)
}
