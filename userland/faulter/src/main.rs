//! faulter - a task that misbehaves on purpose, spawned by the shell's
//! `crash` and `spin` commands. arg: 1 = read kernel memory, 2 = read an
//! unmapped user address, 3 = read address 0, 4 = spin forever.
#![no_std]
#![no_main]

runtime::entry!(main);

/// An address in the kernel half (PML4 entry 0, supervisor only).
const KERNEL_ADDR: usize = 0x10_0000;
/// A user address nothing maps (below the image, above the kernel).
const UNMAPPED_ADDR: usize = 0x7000_0000_0000;

fn read(addr: usize) -> u64 {
    // SAFETY: not safe at all, on purpose: this read faults and the kernel
    // kills the task (that is the test). read_volatile keeps the compiler
    // from removing or reordering it.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

fn main(arg: u64) -> i32 {
    match arg {
        1 => read(KERNEL_ADDR) as i32,
        2 => read(UNMAPPED_ADDR) as i32,
        3 => read(0) as i32,
        4 => loop {
            core::hint::spin_loop();
        },
        _ => {
            runtime::debug_println!("faulter: unknown mode {}", arg);
            1
        }
    }
}
