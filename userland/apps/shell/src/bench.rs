//! bench.rs - the `bench` command: cycles (rdtsc deltas) of an empty IPC
//! call to bench_server and of SYS_NOP, 1,000 warm-up then 10,000 measured
//! iterations each, minus the cost of two back-to-back rdtsc (the minimum
//! of 1,000 tries); prints min and median.
//! On arm-m (CONFIG_ARCH_ARM_M) the clock is SYS_CLOCK (CPU_HZ cycles, too
//! coarse for one operation), so each sample is a batch of 100 operations
//! (stats::PLAN_BATCHED) and the line ends in `batch=100 hz=<CPU_HZ>`
//! (docs/mcu-port.md, "Benchmark on arm-m").

use crate::Services;
use alloc::vec;
use runtime::abi::*;
use runtime::stats::{batch_sample, min_median, min_of, subtract_overhead, PLAN_BATCHED};
use runtime::{config, println, sys, Msg};

const WARMUP: usize = 1_000;
const ITERATIONS: usize = 10_000;
const OVERHEAD_TRIES: usize = 1_000;

pub fn run(svc: &mut Services, rest: &str) {
    if config::CONFIG_ARCH_ARM_M {
        return run_batched(svc, rest);
    }
    let overhead = min_of(OVERHEAD_TRIES, || {
        let t0 = sys::rdtsc();
        let t1 = sys::rdtsc();
        t1.wrapping_sub(t0)
    });
    if runtime::config::CONFIG_BENCH {
        match svc.bench() {
            Ok(ch) => measure("ipc_roundtrip", overhead, || {
                sys::put_msg(&Msg::new(0));
                let t0 = sys::rdtsc();
                let r = sys::ipc(ch.cid(), IPC_CALL);
                let t1 = sys::rdtsc();
                (r == 0).then_some(t1.wrapping_sub(t0))
            }),
            Err(e) => println!("bench: ipc_roundtrip: bench_server: {}", e),
        }
    } else {
        println!("bench: ipc_roundtrip: bench_server not built (CONFIG_BENCH)");
    }
    measure("syscall_null", overhead, || {
        let t0 = sys::rdtsc();
        let r = sys::nop();
        let t1 = sys::rdtsc();
        (r == 0).then_some(t1.wrapping_sub(t0))
    });
}

/// Warm up, measure, print `bench: <name> min=.. median=.. iterations=..`.
fn measure(name: &str, overhead: u64, mut once: impl FnMut() -> Option<u64>) {
    for _ in 0..WARMUP {
        if once().is_none() {
            return println!("bench: {}: the operation failed", name);
        }
    }
    let mut samples = vec![0u64; ITERATIONS];
    for s in samples.iter_mut() {
        match once() {
            Some(d) => *s = d,
            None => return println!("bench: {}: the operation failed", name),
        }
    }
    subtract_overhead(&mut samples, overhead);
    if let Some((min, median)) = min_median(&mut samples) {
        println!("bench: {} min={} median={} iterations={}", name, min, median, ITERATIONS);
    }
}

/// arm-m: batches of PLAN_BATCHED.batch operations timed with SYS_CLOCK.
fn run_batched(svc: &mut Services, _: &str) {
    if let Err(e) = sys::clock_checked() {
        return println!("bench: SYS_CLOCK: {}", e);
    }
    let overhead = min_of(OVERHEAD_TRIES, || {
        let t0 = sys::clock();
        let t1 = sys::clock();
        sys::clock_delta(t0, t1)
    });
    if config::CONFIG_BENCH {
        match svc.bench() {
            Ok(ch) => measure_batched("ipc_roundtrip", overhead, || {
                // The reply leaves an empty message in the buffer: the
                // next call sends that again.
                sys::ipc(ch.cid(), IPC_CALL) == 0
            }),
            Err(e) => println!("bench: ipc_roundtrip: bench_server: {}", e),
        }
    } else {
        println!("bench: ipc_roundtrip: bench_server not built (CONFIG_BENCH)");
    }
    measure_batched("syscall_null", overhead, || sys::nop() == 0);
}

/// One batch: `op` PLAN_BATCHED.batch times; its cycles, or None if an
/// operation failed.
fn batch(overhead: u64, op: &mut impl FnMut() -> bool) -> Option<u64> {
    sys::put_msg(&Msg::new(0));
    let t0 = sys::clock();
    for _ in 0..PLAN_BATCHED.batch {
        if !op() {
            return None;
        }
    }
    let t1 = sys::clock();
    Some(batch_sample(t0, t1, sys::CLOCK_MASK, overhead))
}

/// Warm up, measure, print `bench: <name> min=.. median=.. iterations=..
/// batch=.. hz=..` (cycles per batch).
fn measure_batched(name: &str, overhead: u64, mut op: impl FnMut() -> bool) {
    let plan = PLAN_BATCHED;
    for _ in 0..plan.warmup {
        if batch(overhead, &mut op).is_none() {
            return println!("bench: {}: the operation failed", name);
        }
    }
    let mut samples = vec![0u64; plan.samples];
    for s in samples.iter_mut() {
        match batch(overhead, &mut op) {
            Some(c) => *s = c,
            None => return println!("bench: {}: the operation failed", name),
        }
    }
    if let Some((min, median)) = min_median(&mut samples) {
        println!(
            "bench: {} min={} median={} iterations={} batch={} hz={}",
            name,
            min,
            median,
            plan.samples,
            plan.batch,
            config::CONFIG_CPU_HZ
        );
    }
}
