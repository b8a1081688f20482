//! ring.rs - the console's input ring: bytes the UART received, waiting for
//! a reader, with an account of what was lost. The console server fills it
//! from the UART (interrupt or poll) and stops reading the UART while it is
//! full, so the UART holds back further input (backpressure: a QEMU twin
//! then stops taking bytes from its socket; a real UART overruns, and the
//! server records that here with `lost`). Whatever was lost is reported
//! once by `take_lost` ("console: N input bytes dropped"). Pure logic,
//! host-tested.

pub struct Ring<const N: usize> {
    buf: [u8; N],
    head: usize,
    len: usize,
    lost: u32,
}

impl<const N: usize> Default for Ring<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Ring<N> {
    pub const fn new() -> Self {
        Ring { buf: [0; N], head: 0, len: 0, lost: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len == N
    }

    /// Append one byte; a byte that does not fit is counted as lost.
    pub fn push(&mut self, b: u8) -> bool {
        if self.is_full() {
            self.lost = self.lost.saturating_add(1);
            return false;
        }
        self.buf[(self.head + self.len) % N] = b;
        self.len += 1;
        true
    }

    /// Copy up to `out.len()` of the oldest bytes into `out` without
    /// removing them (the caller consumes what it delivered); returns how
    /// many.
    pub fn peek(&self, out: &mut [u8]) -> usize {
        let n = self.len.min(out.len());
        for (k, o) in out[..n].iter_mut().enumerate() {
            *o = self.buf[(self.head + k) % N];
        }
        n
    }

    /// Drop the `n` oldest bytes (delivered); n is at most len().
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % N;
        self.len -= n;
    }

    /// Record `n` bytes lost before they reached the ring (a UART overrun).
    pub fn lost(&mut self, n: u32) {
        self.lost = self.lost.saturating_add(n);
    }

    /// The bytes lost since the last call (0: nothing to report).
    pub fn take_lost(&mut self) -> u32 {
        core::mem::replace(&mut self.lost, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_across_the_wrap() {
        let mut r = Ring::<4>::new();
        let mut out = [0u8; 4];
        for round in 0..5u8 {
            assert!(r.push(round) && r.push(round + 10) && r.push(round + 20));
            assert_eq!(r.peek(&mut out), 3);
            assert_eq!(out[..3], [round, round + 10, round + 20]);
            r.consume(3);
            assert!(r.is_empty());
        }
        assert_eq!(r.take_lost(), 0);
    }

    #[test]
    fn peek_does_not_consume_and_is_bounded_by_out() {
        let mut r = Ring::<8>::new();
        for b in b"abcdef" {
            r.push(*b);
        }
        let mut out = [0u8; 4];
        assert_eq!(r.peek(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.len(), 6, "peek leaves the bytes");
        r.consume(4);
        assert_eq!(r.peek(&mut out), 2);
        assert_eq!(&out[..2], b"ef");
        r.consume(99);
        assert!(r.is_empty(), "consume is bounded by len");
    }

    #[test]
    fn full_ring_counts_what_it_drops_and_reports_once() {
        let mut r = Ring::<3>::new();
        assert!(r.push(1) && r.push(2) && r.push(3));
        assert!(r.is_full());
        assert!(!r.push(4));
        assert!(!r.push(5));
        r.lost(3); // an overrun seen at the UART
        assert_eq!(r.take_lost(), 5);
        assert_eq!(r.take_lost(), 0, "reported once");
        let mut out = [0u8; 3];
        assert_eq!(r.peek(&mut out), 3);
        assert_eq!(out, [1, 2, 3], "the ring keeps the oldest bytes");
    }

    #[test]
    fn lost_count_saturates() {
        let mut r = Ring::<1>::new();
        r.lost(u32::MAX);
        r.push(0);
        r.push(0);
        assert_eq!(r.take_lost(), u32::MAX);
    }
}
