//! faulter - a task that misbehaves on purpose, spawned by the shell's
//! `crash` and `spin` commands. arg: 1 = read kernel memory, 2 = read an
//! unmapped user address, 3 = read address 0, 4 = spin forever,
//! 5 = recurse until the stack overflows, 6 = spy on the FPU: read the
//! FP registers before anything else touches them and print what a task
//! without FP state found there (`fpu leak: clean` or `fpu leak: LEAKED
//! <register>=<value>`, on the kernel console; the shell's `fpu leak`).
//! 7 = receive (u32 tid, u32 ms) on the bootstrap channel, sleep ms, kill
//! tid (the shell's deferred `kill <tid> <ms>`; the shell creates it with
//! CAP_TASK and a bootstrap channel for that: a tid does not fit in the
//! 32-bit arg of arm-m together with the rest).
//! On arm-m (no MMU) "kernel" reads the kernel's RAM (CONFIG_RAM_BASE,
//! privileged only) and "unmapped" an address outside every MPU region.
#![no_std]
#![no_main]

use runtime::config;
use runtime::fpucheck;

runtime::entry!(main);

/// x86_64: an address in the kernel half (PML4 entry 0, supervisor only).
/// arm-m: the kernel's static RAM at the start of RAM.
const KERNEL_ADDR: usize = if config::CONFIG_ARCH_ARM_M { config::CONFIG_RAM_BASE as usize } else { 0x10_0000 };
/// A user address nothing maps (x86_64: below the image, above the
/// kernel; arm-m: the external-memory window, in no task's MPU region).
const UNMAPPED_ADDR: usize = if config::CONFIG_ARCH_ARM_M { 0x6000_0000 } else { 0x7000_0000_0000u64 as usize };

fn read(addr: usize) -> u64 {
    // SAFETY: not safe at all, on purpose: this read faults and the kernel
    // kills the task (that is the test). read_volatile keeps the compiler
    // from removing or reordering it.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// Eats 128 bytes of stack per call until the stack runs out (x86_64: into
/// the unmapped page below it; arm-m: into the MPU-protected kernel stack
/// subregion below it).
#[inline(never)]
fn deep(n: u64) -> u64 {
    if n == u64::MAX {
        return 0;
    }
    let mut frame = [0u8; 128];
    // SAFETY: a plain write and read of a local array; volatile so the
    // frame is really used and the recursion is not folded into a loop.
    unsafe { core::ptr::write_volatile(&mut frame[n as usize % 128], n as u8) };
    let below = deep(n + 1);
    // SAFETY: as above.
    below + unsafe { core::ptr::read_volatile(&frame[0]) } as u64
}

/// arm: s0-s31 and FPSCR, read by the first FP instructions this task runs.
#[cfg(target_arch = "arm")]
fn fpu_spy() -> Option<fpucheck::Dirty> {
    let mut s = [0u32; 32];
    let fpscr: u32;
    // SAFETY: stores s0-s31 into `s` (128 bytes, ours) and reads FPSCR;
    // changes no register but the declared output.
    unsafe {
        core::arch::asm!(
            "vstmia {p}, {{s0-s31}}",
            "vmrs {f}, fpscr",
            p = in(reg) s.as_mut_ptr(),
            f = out(reg) fpscr,
            options(nostack),
        );
    }
    fpucheck::check_arm(&s, fpscr)
}

/// x86_64: an FXSAVE image (x87, MXCSR, xmm0-15) taken by this task's
/// first FP instruction.
#[cfg(target_arch = "x86_64")]
fn fpu_spy() -> Option<fpucheck::Dirty> {
    #[repr(C, align(16))]
    struct Image([u8; 512]);
    let mut img = Image([0; 512]);
    // SAFETY: FXSAVE writes the 512 bytes of `img` (16-aligned, ours) and
    // changes no register.
    unsafe {
        core::arch::asm!("fxsave64 [{}]", in(reg) img.0.as_mut_ptr(), options(nostack));
    }
    fpucheck::check_fxsave(&img.0)
}

fn fpu_leak() -> i32 {
    if !config::CONFIG_ARCH_HAS_FPU {
        runtime::debug_println!("fpu leak: no FPU");
        return 1;
    }
    match fpu_spy() {
        None => {
            runtime::debug_println!("fpu leak: clean");
            0
        }
        Some(d) => {
            runtime::debug_println!("fpu leak: LEAKED {}", d);
            1
        }
    }
}

/// Mode 7: the order comes on the bootstrap channel (u32 tid, u32 ms).
fn kill_later() -> i32 {
    let boot = runtime::Channel::BOOTSTRAP;
    let mut m = runtime::Msg::new(0);
    let order = boot.recv(&mut m).ok().and_then(|_| Some((m.get_u32(0)?, m.get_u32(4)?)));
    runtime::service::drop_payloads(&m);
    let _ = boot.close();
    let Some((tid, ms)) = order else {
        runtime::debug_println!("faulter: no kill order");
        return 1;
    };
    let _ = runtime::service::sleep_ms(ms);
    match runtime::ks::kill(tid) {
        Ok(()) => 0,
        Err(e) => {
            runtime::debug_println!("faulter: kill {}: {}", tid, e);
            1
        }
    }
}

fn main(arg: u64) -> i32 {
    match arg {
        1 => read(KERNEL_ADDR) as i32,
        2 => read(UNMAPPED_ADDR) as i32,
        3 => read(0) as i32,
        4 => loop {
            core::hint::spin_loop();
        },
        5 => deep(0) as i32,
        6 => fpu_leak(),
        7 => kill_later(),
        _ => {
            runtime::debug_println!("faulter: unknown mode {}", arg);
            1
        }
    }
}
