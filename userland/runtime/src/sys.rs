//! sys.rs - the raw system calls and the task's message buffer.
//! x86_64: `syscall`, rax = number, rdi rsi rdx r10 r8 = arguments, result
//! in rax; rcx and r11 clobbered. ARMv7-M (docs/mcu-port.md): `svc #0`,
//! r0..r3 = a0..a3, r4 = a4, r12 = number, result in r0 (32-bit values;
//! the kernel changes no other register). On the host (unit tests) every
//! call fails with -E_NOSYS so that code above it still compiles.

use crate::abi::*;
use core::sync::atomic::{AtomicPtr, Ordering};

#[cfg(all(target_os = "none", target_arch = "x86_64", not(test)))]
#[inline(always)]
fn raw(nr: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64) -> i64 {
    let ret: i64;
    // SAFETY: `syscall` enters the kernel, which preserves every register
    // but rax, rcx and r11 (arch/x86_64/entry.S) and uses its own stack.
    // Memory may change (IPC writes the message buffer), so the asm is not
    // marked nomem. Arguments are plain integers; the kernel checks every
    // pointer itself, so no argument can make this call unsound.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            in("r8") a4,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// ARMv7-M: every argument and the result are 32 bits wide (arguments are
/// truncated, the result is sign-extended so errors stay negative).
#[cfg(all(target_os = "none", target_arch = "arm", not(test)))]
#[inline(always)]
fn raw(nr: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64) -> i64 {
    let ret: u32;
    // SAFETY: `svc #0` enters the kernel, which reads r0-r3, r4 and r12,
    // writes only the stacked r0 (docs/mcu-port.md) and runs on its own
    // stack. Memory may change (IPC writes the message buffer), so the asm
    // is not marked nomem. Every argument is a plain integer the kernel
    // checks itself.
    unsafe {
        core::arch::asm!(
            "svc #0",
            inlateout("r0") a0 as u32 => ret,
            in("r1") a1 as u32,
            in("r2") a2 as u32,
            in("r3") a3 as u32,
            in("r4") a4 as u32,
            in("r12") nr as u32,
            options(nostack),
        );
    }
    ret as i32 as i64
}

#[cfg(not(all(target_os = "none", any(target_arch = "x86_64", target_arch = "arm"), not(test))))]
fn raw(_nr: u64, _a0: u64, _a1: u64, _a2: u64, _a3: u64, _a4: u64) -> i64 {
    -E_NOSYS
}

/// SYS_NOP: the null system call.
#[inline(always)]
pub fn nop() -> i64 {
    raw(SYS_NOP, 0, 0, 0, 0, 0)
}

/// SYS_IPC on `cid` with `flags`, using the message buffer.
#[inline(always)]
pub fn ipc(cid: i32, flags: u64) -> i64 {
    raw(SYS_IPC, cid as i64 as u64, flags, 0, 0, 0)
}

pub fn open() -> i64 {
    raw(SYS_OPEN, 0, 0, 0, 0, 0)
}

pub fn close(cid: i32) -> i64 {
    raw(SYS_CLOSE, cid as i64 as u64, 0, 0, 0, 0)
}

pub fn link(a: i32, b: i32) -> i64 {
    raw(SYS_LINK, a as i64 as u64, b as i64 as u64, 0, 0, 0)
}

pub fn transfer(src: i32, dst: i32) -> i64 {
    raw(SYS_TRANSFER, src as i64 as u64, dst as i64 as u64, 0, 0, 0)
}

pub fn notify(cid: i32, bits: u64) -> i64 {
    raw(SYS_NOTIFY, cid as i64 as u64, bits, 0, 0, 0)
}

/// SYS_DEBUG_WRITE with a raw address: the kernel checks it (ipctest
/// passes bad ones on purpose), so this is safe to call with any value.
pub fn debug_write_raw(addr: u64, len: u64) -> i64 {
    raw(SYS_DEBUG_WRITE, addr, len, 0, 0, 0)
}

/// Write bytes to the kernel console (at most 256 per call).
pub fn debug_write(bytes: &[u8]) {
    for chunk in bytes.chunks(256) {
        debug_write_raw(chunk.as_ptr() as u64, chunk.len() as u64);
    }
}

/// Show bytes on the screen console only (SYS_DEBUG_WRITE with
/// DEBUG_WRITE_SCREEN): for output the caller has already written to the
/// console UART itself (the console server). Nothing where the kernel has
/// no screen.
pub fn screen_write(bytes: &[u8]) {
    for chunk in bytes.chunks(256) {
        raw(SYS_DEBUG_WRITE, chunk.as_ptr() as u64, chunk.len() as u64, DEBUG_WRITE_SCREEN, 0, 0);
    }
}

/// SYS_CLOCK: the CPU cycle counter as the kernel reads it (x86_64: the
/// TSC; arm-m: CPU clock cycles since boot). It is as wide as a machine
/// word (64 bits on x86_64, 32 on arm-m), so take differences with
/// [`clock_delta`]. A negative raw value is an error (e.g. -E_NOSYS from a
/// kernel without SYS_CLOCK); see [`clock_checked`].
pub fn clock() -> u64 {
    raw(SYS_CLOCK, 0, 0, 0, 0, 0) as usize as u64
}

/// The bits of [`clock`] that count (the counter wraps at this mask).
pub const CLOCK_MASK: u64 = usize::MAX as u64;

/// `t1 - t0` of two [`clock`] readings, modulo the counter width.
pub const fn clock_delta(t0: u64, t1: u64) -> u64 {
    crate::stats::wrap_delta(t0, t1, CLOCK_MASK)
}

/// SYS_CLOCK, or the error the kernel gave. A 32-bit counter can look
/// negative for one count in 2^31, so a small negative value (an error
/// code) is read twice before it is believed.
pub fn clock_checked() -> Result<u64, crate::Error> {
    for _ in 0..2 {
        let r = raw(SYS_CLOCK, 0, 0, 0, 0, 0);
        if !(-64..0).contains(&r) {
            return Ok(r as usize as u64);
        }
    }
    crate::error::check(raw(SYS_CLOCK, 0, 0, 0, 0, 0)).map(|v| v as usize as u64)
}

/// Any syscall number (for testing E_NOSYS).
pub fn raw_syscall(nr: u64, a0: u64, a1: u64) -> i64 {
    raw(nr, a0, a1, 0, 0, 0)
}

/// Any syscall number with all five arguments (the fuzzer).
pub fn raw_syscall5(nr: u64, a: [u64; 5]) -> i64 {
    raw(nr, a[0], a[1], a[2], a[3], a[4])
}

static MSGBUF: AtomicPtr<Msg> = AtomicPtr::new(core::ptr::null_mut());

/// Record the message buffer address the kernel gave at entry.
pub fn set_msgbuf(buf: *mut Msg) {
    MSGBUF.store(buf, Ordering::Relaxed);
}

/// The message buffer, or null before entry (and on the host).
pub fn msgbuf() -> *mut Msg {
    MSGBUF.load(Ordering::Relaxed)
}

/// Copy `m` into the message buffer (header + used inline bytes).
pub fn put_msg(m: &Msg) {
    let buf = msgbuf();
    if buf.is_null() {
        return;
    }
    // SAFETY: buf is the task's message buffer page (mapped writable by the
    // kernel for the task's whole life, 4 KiB >= MSG_SIZE). Tasks are single
    // threaded and the kernel only writes it during our own SYS_IPC, so
    // nothing else accesses it during the copy; m.used_size() <= MSG_SIZE.
    unsafe {
        core::ptr::copy_nonoverlapping(m as *const Msg as *const u8, buf as *mut u8, m.used_size());
    }
}

/// Copy the message buffer out into `m`.
pub fn get_msg(m: &mut Msg) {
    let buf = msgbuf();
    if buf.is_null() {
        return;
    }
    // SAFETY: as in put_msg; we read the header first to learn the length,
    // which used_size() clamps to MSG_INLINE_MAX.
    unsafe {
        core::ptr::copy_nonoverlapping(buf as *const u8, m as *mut Msg as *mut u8, MSG_HEADER_SIZE);
        let n = m.used_size();
        core::ptr::copy_nonoverlapping(buf as *const u8, m as *mut Msg as *mut u8, n);
    }
}

/// The boot information the kernel left after the message buffer.
pub fn bootinfo() -> Option<BootInfo> {
    let buf = msgbuf();
    if buf.is_null() {
        return None;
    }
    // SAFETY: the kernel writes struct nagi_bootinfo at buffer + 512 in the
    // same mapped page before the task starts; it is plain old data.
    Some(unsafe { core::ptr::read((buf as *const u8).add(BOOTINFO_OFFSET) as *const BootInfo) })
}

/// Read the time-stamp counter.
#[inline(always)]
pub fn rdtsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc only reads the TSC; it is allowed in user mode
        // (the kernel does not set CR4.TSD) and touches no memory.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        0
    }
}
