//! fpucheck.rs - the FPU checks of the shell's `fpu` and `fpu leak`
//! commands and of their helpers (ipc_peer's burst, faulter's spy):
//! [`spin_with_fpu`], the one asm block that fills the FP registers, spins
//! on SYS_CLOCK and stores them back, and the pure, host-tested
//! bookkeeping (spin bounds from the clock and tick rates, the comparison
//! of the stored registers, the verdict on what a task without FP state
//! found in the FPU).
//!
//! The 32 "registers" of the `fpu` check are s0-s31 on arm and, on x86_64,
//! the low 64 bits of xmm0-xmm15 as two 32-bit halves (xmm<i> holds
//! seed + 2i, seed + 2i + 1 in each of its quadwords).

use core::fmt;

/// The asm that fills the FP registers with seed + i in the layout above,
/// as a template piece: `asm!(runtime::fp_fill_asm!(), ...)`.
/// arm: r0 = seed (changed); writes s0-s31 (declare d0-d15 clobbered).
#[cfg(target_arch = "arm")]
#[macro_export]
macro_rules! fp_fill_asm {
    () => {
        concat!(
            ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n",
            "vmov s\\i, r0\n",
            "adds r0, r0, #1\n",
            ".endr\n",
        )
    };
}

/// x86_64: eax = seed (changed), rcx and rdx clobbered; writes xmm0-xmm15
/// (both quadwords of xmm<i> = seed + 2i, seed + 2i + 1). User programs are
/// soft-float: the compiler keeps nothing in xmm registers (nor can they be
/// named as clobbers).
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
#[macro_export]
macro_rules! fp_fill_asm {
    () => {
        concat!(
            ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n",
            "lea ecx, [rax + 1]\n",
            "shl rcx, 32\n",
            "mov edx, eax\n",
            "or rdx, rcx\n",
            "movq xmm\\i, rdx\n",
            "punpcklqdq xmm\\i, xmm\\i\n",
            "add eax, 2\n",
            ".endr\n",
        )
    };
}

/// Minimum and maximum spin, in scheduler ticks.
pub const MIN_TICKS: u32 = 3;
pub const MAX_TICKS: u32 = 100;

/// The spin's parameters and results, shared with the asm by address (it
/// takes the field offsets from `offset_of!`).
#[repr(C)]
pub struct Spin {
    /// Spin at least this long, and until preempted once ...
    pub min_cycles: u32,
    /// ... but never longer than this.
    pub max_cycles: u32,
    /// A gap between two clock readings longer than this is a preemption.
    pub gap_cycles: u32,
    pub preempted: u32,
    pub elapsed: u32,
    /// s0..s31 after the spin.
    pub regs: [u32; 32],
}

impl Spin {
    /// Parameters for a CPU clock of `hz` and a tick rate of `tick_hz`.
    pub fn new(hz: u32, tick_hz: u32) -> Spin {
        let tick = (hz / tick_hz.max(1)).max(4);
        Spin {
            min_cycles: tick.saturating_mul(MIN_TICKS),
            max_cycles: tick.saturating_mul(MAX_TICKS),
            gap_cycles: tick / 4,
            preempted: 0,
            elapsed: 0,
            regs: [0; 32],
        }
    }

    /// Spin exactly `cycles`, whether preempted or not (the helper's burst).
    pub fn burst(cycles: u32) -> Spin {
        Spin { min_cycles: cycles, max_cycles: cycles, gap_cycles: u32::MAX, preempted: 0, elapsed: 0, regs: [0; 32] }
    }

    /// The first register that does not hold `seed + i`, with its value.
    pub fn first_mismatch(&self, seed: u32) -> Option<(usize, u32)> {
        self.regs.iter().enumerate().find(|(i, v)| **v != seed.wrapping_add(*i as u32)).map(|(i, v)| (i, *v))
    }
}

/// Fill the FP registers with `seed + i` (s0-s31; x86_64: see the
/// module comment), spin as `spin` says (reading SYS_CLOCK:
/// until min_cycles passed and a preemption was seen, or max_cycles
/// passed), then store them into `spin.regs`. Fill, spin and store are
/// one asm block, so the compiler cannot touch an FP register in between:
/// whatever differs afterwards was changed by someone else (a context
/// switch that lost FPU state).
#[cfg(target_arch = "arm")]
pub fn spin_with_fpu(spin: &mut Spin, seed: u32) {
    use core::mem::offset_of;
    // SAFETY: the asm writes only the registers it declares (r0, r2-r5,
    // r8, r12, d0-d15 = s0-s31, flags) and the Spin it is given by a
    // unique reference, at offsets from offset_of!. `svc #0` with
    // r12 = SYS_CLOCK is the clock system call: the kernel changes only r0
    // (docs/mcu-port.md) and uses its own stack.
    unsafe {
        core::arch::asm!(
            crate::fp_fill_asm!(),
            "mov r12, #{clock}",
            "svc #0",
            "mov r2, r0",        // start
            "mov r3, r0",        // previous reading
            "movs r5, #0",       // preemptions
            "2:",
            "mov r12, #{clock}",
            "svc #0",
            "subs r4, r0, r3",   // gap since the previous reading
            "mov r3, r0",
            "ldr r8, [r1, #{gap}]",
            "cmp r4, r8",
            "it hi",
            "addhi r5, r5, #1",
            "subs r4, r0, r2",   // elapsed
            "ldr r8, [r1, #{max}]",
            "cmp r4, r8",
            "bhs 3f",
            "ldr r8, [r1, #{min}]",
            "cmp r4, r8",
            "blo 2b",
            "cmp r5, #0",
            "beq 2b",
            "3:",
            "str r5, [r1, #{preempted}]",
            "str r4, [r1, #{elapsed}]",
            "add r8, r1, #{regs}",
            "vstmia r8, {{s0-s31}}",
            clock = const crate::abi::SYS_CLOCK,
            min = const offset_of!(Spin, min_cycles),
            max = const offset_of!(Spin, max_cycles),
            gap = const offset_of!(Spin, gap_cycles),
            preempted = const offset_of!(Spin, preempted),
            elapsed = const offset_of!(Spin, elapsed),
            regs = const offset_of!(Spin, regs),
            inout("r0") seed => _,
            in("r1") spin as *mut Spin,
            out("r2") _, out("r3") _, out("r4") _, out("r5") _, out("r8") _, out("r12") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _, out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            out("d8") _, out("d9") _, out("d10") _, out("d11") _, out("d12") _, out("d13") _, out("d14") _, out("d15") _,
            options(nostack),
        );
    }
}

/// x86_64: the same, on xmm0-xmm15 (the low quadwords are stored).
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub fn spin_with_fpu(spin: &mut Spin, seed: u32) {
    use core::mem::offset_of;
    // SAFETY: the asm writes only the registers it declares (rax, rcx,
    // rdx, r8-r11, flags), xmm0-xmm15 (never used by the compiler: user
    // programs are soft-float, see fp_fill_asm!) and the Spin it is given
    // by a unique reference, at offsets from offset_of!. `syscall` with
    // rax = SYS_CLOCK returns in rax and clobbers rcx and r11 only; the
    // kernel uses its own stack.
    unsafe {
        core::arch::asm!(
            crate::fp_fill_asm!(),
            "mov eax, {clock}",
            "syscall",
            "mov r8d, eax",      // start
            "mov r9d, eax",      // previous reading
            "xor r10d, r10d",    // preemptions
            "2:",
            "mov eax, {clock}",
            "syscall",
            "mov edx, eax",
            "sub edx, r9d",      // gap since the previous reading
            "mov r9d, eax",
            "cmp edx, [rdi + {gap}]",
            "jbe 4f",
            "inc r10d",
            "4:",
            "mov edx, eax",
            "sub edx, r8d",      // elapsed
            "cmp edx, [rdi + {max}]",
            "jae 3f",
            "cmp edx, [rdi + {min}]",
            "jb 2b",
            "test r10d, r10d",
            "jz 2b",
            "3:",
            "mov [rdi + {preempted}], r10d",
            "mov [rdi + {elapsed}], edx",
            ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
            "movq [rdi + {regs} + 8 * \\i], xmm\\i",
            ".endr",
            clock = const crate::abi::SYS_CLOCK,
            min = const offset_of!(Spin, min_cycles),
            max = const offset_of!(Spin, max_cycles),
            gap = const offset_of!(Spin, gap_cycles),
            preempted = const offset_of!(Spin, preempted),
            elapsed = const offset_of!(Spin, elapsed),
            regs = const offset_of!(Spin, regs),
            inout("eax") seed => _,
            in("rdi") spin as *mut Spin,
            out("rcx") _, out("rdx") _, out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            options(nostack),
        );
    }
}

/// Clock cycles per second from a calibration: `cycles` counted over `ms`
/// milliseconds (where the board does not state CONFIG_CPU_HZ: x86_64's
/// TSC). At least 1000, so a tick is never zero cycles.
pub fn hz_from(cycles: u64, ms: u64) -> u32 {
    (cycles.saturating_mul(1000) / ms.max(1)).clamp(1000, u32::MAX as u64) as u32
}

/// What the shell's `fpu leak` puts in the FPU before a task without FP
/// state looks: s0-s31 / the xmm lanes = FPU_SHELL_SEED + i (proto.rs),
/// and these status values (condition and sticky exception flags set).
pub const LEAK_FPSCR: u32 = 0xf000_009f;
pub const LEAK_MXCSR: u32 = 0x1f80 | 0x3f;

/// The first thing that is not clear in the FP state a task without FP
/// state finds (the `fpu leak` spy, faulter mode FAULT_FPU_SPY).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dirty {
    /// A data register (`s3`, `xmm3[1]` = 32-bit lane 1, `st2` bytes)
    /// holds a non-zero 32-bit word.
    Reg(&'static str, usize, Option<usize>, u32),
    /// A control or status register differs from its clear value.
    Status(&'static str, u32),
}

impl fmt::Display for Dirty {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            Dirty::Reg(name, i, None, v) => write!(f, "{}{}={:#010x}", name, i, v),
            Dirty::Reg(name, i, Some(lane), v) => write!(f, "{}{}[{}]={:#010x}", name, i, lane, v),
            Dirty::Status(name, v) => write!(f, "{}={:#x}", name, v),
        }
    }
}

/// arm: s0-s31 and FPSCR as read by a task that never used the FPU.
pub fn check_arm(s: &[u32; 32], fpscr: u32) -> Option<Dirty> {
    if let Some((i, v)) = s.iter().enumerate().find(|(_, v)| **v != 0) {
        return Some(Dirty::Reg("s", i, None, *v));
    }
    (fpscr != 0).then_some(Dirty::Status("fpscr", fpscr))
}

/// The clear x87 control word (FNINIT) and MXCSR (reset value).
pub const FCW_CLEAR: u16 = 0x037f;
pub const MXCSR_CLEAR: u32 = 0x1f80;

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// x86_64: an FXSAVE image (Intel SDM vol. 1, table 10-2) taken by a task
/// that never used the FPU. Clear: FCW 0x37f, FSW 0, FTW 0 (all empty),
/// FOP/FIP/FDP 0, MXCSR 0x1f80, st0-st7 and xmm0-xmm15 zero. (MXCSR_MASK
/// at 28 is the CPU's and not checked; bytes 416.. are not state.)
pub fn check_fxsave(img: &[u8; 512]) -> Option<Dirty> {
    let status = [
        ("fcw", le16(img, 0) as u32, FCW_CLEAR as u32),
        ("fsw", le16(img, 2) as u32, 0),
        ("ftw", img[4] as u32, 0),
        ("fop", le16(img, 6) as u32, 0),
        ("fip", le32(img, 8) | le32(img, 12), 0),
        ("fdp", le32(img, 16) | le32(img, 20), 0),
        ("mxcsr", le32(img, 24), MXCSR_CLEAR),
    ];
    for (i, st) in img[32..160].chunks(16).enumerate() {
        // 80 bits of each x87 register; the rest of its 16 bytes is reserved.
        if let Some(w) = (0..3).map(|k| le32(&st[..12], 4 * k) & if k == 2 { 0xffff } else { !0 }).find(|w| *w != 0) {
            return Some(Dirty::Reg("st", i, None, w));
        }
    }
    for (i, x) in img[160..416].chunks(16).enumerate() {
        if let Some((lane, w)) = (0..4).map(|k| (k, le32(x, 4 * k))).find(|(_, w)| *w != 0) {
            return Some(Dirty::Reg("xmm", i, Some(lane), w));
        }
    }
    status.iter().find(|(_, v, clear)| v != clear).map(|(name, v, _)| Dirty::Status(name, *v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_from_clock() {
        // b-l475e-iot01a: 4 MHz, 100 Hz ticks = 40,000 cycles a tick.
        let s = Spin::new(4_000_000, 100);
        assert_eq!((s.min_cycles, s.max_cycles, s.gap_cycles), (120_000, 4_000_000, 10_000));
        // No clock rate: still a non-zero spin.
        let s = Spin::new(0, 0);
        assert!(s.min_cycles > 0 && s.gap_cycles > 0);
        // The asm's immediates: ldr/str offsets fit, regs stays in reach of add.
        assert!(core::mem::offset_of!(Spin, regs) < 256);
        let b = Spin::burst(500);
        assert_eq!((b.min_cycles, b.max_cycles, b.gap_cycles), (500, 500, u32::MAX));
    }

    #[test]
    fn mismatches() {
        let mut s = Spin::new(25_000_000, 100);
        for (i, r) in s.regs.iter_mut().enumerate() {
            *r = 0x5eed_0000 + i as u32;
        }
        assert_eq!(s.first_mismatch(0x5eed_0000), None);
        s.regs[17] = 0xdead_0011;
        assert_eq!(s.first_mismatch(0x5eed_0000), Some((17, 0xdead_0011)));
        assert_eq!(Spin::new(1, 1).first_mismatch(u32::MAX), Some((0, 0)));
    }

    #[test]
    fn calibration() {
        assert_eq!(hz_from(30_000_000, 10), 3_000_000_000);
        assert_eq!(hz_from(5, 0), 5000);
        assert_eq!(hz_from(0, 10), 1000);
        assert_eq!(hz_from(u64::MAX, 1), u32::MAX);
    }

    #[test]
    fn arm_leak_verdict() {
        let mut s = [0u32; 32];
        assert_eq!(check_arm(&s, 0), None);
        assert_eq!(check_arm(&s, LEAK_FPSCR), Some(Dirty::Status("fpscr", LEAK_FPSCR)));
        s[5] = 0x5eed_0005;
        assert_eq!(check_arm(&s, LEAK_FPSCR), Some(Dirty::Reg("s", 5, None, 0x5eed_0005)));
        extern crate std;
        use std::string::ToString;
        assert_eq!(check_arm(&s, 0).unwrap().to_string(), "s5=0x5eed0005");
        assert_eq!(Dirty::Status("fpscr", 0x9f).to_string(), "fpscr=0x9f");
    }

    fn clean_fxsave() -> [u8; 512] {
        let mut img = [0u8; 512];
        img[0..2].copy_from_slice(&FCW_CLEAR.to_le_bytes());
        img[24..28].copy_from_slice(&MXCSR_CLEAR.to_le_bytes());
        img[28..32].copy_from_slice(&0xffffu32.to_le_bytes()); // MXCSR_MASK: the CPU's
        img[416..512].fill(0xaa); // not state
        img
    }

    #[test]
    fn fxsave_leak_verdict() {
        extern crate std;
        use std::string::ToString;
        let clean = clean_fxsave();
        assert_eq!(check_fxsave(&clean), None);
        let mut img = clean;
        img[160 + 16 * 3 + 4..160 + 16 * 3 + 8].copy_from_slice(&0x5eed_000du32.to_le_bytes());
        assert_eq!(check_fxsave(&img).unwrap().to_string(), "xmm3[1]=0x5eed000d");
        let mut img = clean;
        img[32 + 16 * 2 + 8] = 0xff; // st2's exponent
        assert_eq!(check_fxsave(&img), Some(Dirty::Reg("st", 2, None, 0xff)));
        let mut img = clean;
        img[32 + 16 * 2 + 12] = 0xff; // st2's reserved bytes: not state
        assert_eq!(check_fxsave(&img), None);
        let mut img = clean;
        img[24..28].copy_from_slice(&LEAK_MXCSR.to_le_bytes());
        assert_eq!(check_fxsave(&img).unwrap().to_string(), "mxcsr=0x1fbf");
        let mut img = clean;
        img[0] = 0x7f;
        img[1] = 0x02;
        assert_eq!(check_fxsave(&img), Some(Dirty::Status("fcw", 0x027f)));
    }
}
