//! bench.rs - the `bench` command: cycles (rdtsc deltas) of an empty IPC
//! call to bench_server and of SYS_NOP, 1,000 warm-up then 10,000 measured
//! iterations each, minus the cost of two back-to-back rdtsc (the minimum
//! of 1,000 tries); prints min and median.

use crate::Services;
use alloc::vec;
use runtime::abi::*;
use runtime::stats::{min_median, min_of, subtract_overhead};
use runtime::{println, sys, Msg};

const WARMUP: usize = 1_000;
const ITERATIONS: usize = 10_000;
const OVERHEAD_TRIES: usize = 1_000;

pub fn run(svc: &mut Services, _: &str) {
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
