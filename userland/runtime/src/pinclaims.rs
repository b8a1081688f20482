//! pinclaims.rs - the rights the gpio (sys) task checks (docs/protocols.md,
//! "gpio (sys)"), as pure bookkeeping, host-tested: which connection holds
//! which pin (the first to configure it, until it closes), and which
//! connection watches which EXTI line (one pin per line: the line is the
//! pin number). A connection is its server-side channel id (`owner`).

use crate::error::{Error, Result};
use crate::proto::{SYS_PORTS, SYS_SUBSCRIBERS_MAX};

pub const NOBODY: i32 = -1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Claim {
    owner: i32,
    port: u8,
    pin: u8,
    output: bool,
}

/// Pins held (at most N) and EXTI lines watched, by connection.
pub struct PinClaims<const N: usize> {
    claims: [Claim; N],
    line_owner: [i32; 16],
}

impl<const N: usize> Default for PinClaims<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// What a subscription asks for, checked: the EXTI lines (bit per line)
/// and the port each line is routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    pub lines: u16,
    pub port_of: [u8; 16],
}

impl<const N: usize> PinClaims<N> {
    pub const fn new() -> Self {
        PinClaims { claims: [Claim { owner: NOBODY, port: 0, pin: 0, output: false }; N], line_owner: [NOBODY; 16] }
    }

    /// `owner` configures (port, pin): allowed only for the pins of
    /// `allowed` (a mask per port), and only if no other connection holds
    /// it (-E_BUSY); -E_NOMEM when N pins are held.
    pub fn claim(&mut self, owner: i32, port: u8, pin: u8, output: bool, allowed: &[u16; SYS_PORTS]) -> Result<()> {
        if port as usize >= SYS_PORTS || pin >= 16 || allowed[port as usize] & (1 << pin) == 0 {
            return Err(Error::Perm);
        }
        let slot = match self.claims.iter().position(|c| c.owner != NOBODY && c.port == port && c.pin == pin) {
            Some(i) if self.claims[i].owner != owner => return Err(Error::Busy),
            Some(i) => i,
            None => self.claims.iter().position(|c| c.owner == NOBODY).ok_or(Error::NoMem)?,
        };
        self.claims[slot] = Claim { owner, port, pin, output };
        Ok(())
    }

    /// The pins of `port` that `owner` holds (outputs only: `outputs`).
    pub fn held(&self, owner: i32, port: u8, outputs: bool) -> u16 {
        self.claims
            .iter()
            .filter(|c| c.owner == owner && c.port == port && (!outputs || c.output))
            .fold(0, |m, c| m | 1 << c.pin)
    }

    /// `held` for every port in one pass over the claims (SYS_PINS_READ is
    /// on the key-to-report path).
    pub fn held_ports(&self, owner: i32, outputs: bool) -> [u16; SYS_PORTS] {
        let mut masks = [0u16; SYS_PORTS];
        for c in self.claims.iter().filter(|c| c.owner == owner && (!outputs || c.output)) {
            if let Some(m) = masks.get_mut(c.port as usize) {
                *m |= 1 << c.pin;
            }
        }
        masks
    }

    /// Check a subscription of `owner` to the pins `masks` (per port): only
    /// input pins it holds (-E_PERM); one pin per line, no line of
    /// `reserved` (the button's) or of another subscriber (-E_BUSY); at
    /// most SYS_SUBSCRIBERS_MAX subscribers (-E_NOMEM).
    pub fn check_watch(&self, owner: i32, masks: &[u16; SYS_PORTS], reserved: u16) -> Result<Watch> {
        let mut w = Watch { lines: 0, port_of: [0; 16] };
        for (port, &mask) in masks.iter().enumerate() {
            let port = port as u8;
            if mask & !self.held(owner, port, false) != 0 || mask & self.held(owner, port, true) != 0 {
                return Err(Error::Perm);
            }
            if w.lines & mask != 0 {
                return Err(Error::Busy);
            }
            w.lines |= mask;
            for pin in 0..16 {
                if mask & (1 << pin) != 0 {
                    w.port_of[pin] = port;
                }
            }
        }
        if w.lines & reserved != 0 {
            return Err(Error::Busy);
        }
        let mut others = [NOBODY; SYS_SUBSCRIBERS_MAX];
        let mut n = 0;
        for (line, &o) in self.line_owner.iter().enumerate() {
            if o == NOBODY || o == owner {
                continue;
            }
            if w.lines & (1 << line) != 0 {
                return Err(Error::Busy);
            }
            if !others[..n].contains(&o) {
                if n == others.len() {
                    return Err(Error::NoMem);
                }
                others[n] = o;
                n += 1;
            }
        }
        if w.lines != 0 && n >= SYS_SUBSCRIBERS_MAX {
            return Err(Error::NoMem);
        }
        Ok(w)
    }

    /// Record line `line` as watched by `owner`.
    pub fn watch_line(&mut self, owner: i32, line: u32) {
        if let Some(o) = self.line_owner.get_mut(line as usize) {
            *o = owner;
        }
    }

    /// The lines `owner` watches, forgotten (the caller stops them).
    pub fn unwatch(&mut self, owner: i32) -> u16 {
        let mut lines = 0;
        for (line, o) in self.line_owner.iter_mut().enumerate() {
            if *o == owner {
                *o = NOBODY;
                lines |= 1 << line;
            }
        }
        lines
    }

    /// Every watched line, a bit per line.
    pub fn watched(&self) -> u16 {
        self.line_owner.iter().enumerate().filter(|(_, o)| **o != NOBODY).fold(0, |m, (l, _)| m | 1 << l)
    }

    /// The subscriber of line `line` (NOBODY: none).
    pub fn line_owner(&self, line: usize) -> i32 {
        self.line_owner.get(line).copied().unwrap_or(NOBODY)
    }

    /// Forget everything `owner` held; returns the lines it watched.
    pub fn release(&mut self, owner: i32) -> u16 {
        for c in self.claims.iter_mut().filter(|c| c.owner == owner) {
            c.owner = NOBODY;
        }
        self.unwatch(owner)
    }

    /// Every connection holding a pin or a line (with repeats).
    pub fn owners(&self) -> impl Iterator<Item = i32> + '_ {
        self.claims.iter().map(|c| c.owner).chain(self.line_owner.iter().copied()).filter(|o| *o != NOBODY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: [u16; SYS_PORTS] = [0x80c0, 0x0300, 0x003f, 0x4000, 0, 0, 0, 0];

    #[test]
    fn only_allowed_pins_and_one_holder_each() {
        let mut p = PinClaims::<4>::new();
        assert_eq!(p.claim(5, 2, 5, false, &ALLOWED), Ok(()));
        assert_eq!(p.claim(5, 2, 5, false, &ALLOWED), Ok(()), "again: the same holder");
        assert_eq!(p.claim(6, 2, 5, false, &ALLOWED), Err(Error::Busy));
        assert_eq!(p.claim(5, 2, 13, false, &ALLOWED), Err(Error::Perm), "the button is not a client's");
        assert_eq!(p.claim(5, 0, 5, true, &ALLOWED), Err(Error::Perm), "the LED neither");
        assert_eq!(p.claim(5, 9, 0, false, &ALLOWED), Err(Error::Perm));
        assert_eq!(p.claim(5, 2, 16, false, &ALLOWED), Err(Error::Perm));
        for pin in 0..3 {
            assert_eq!(p.claim(5, 2, pin, pin == 0, &ALLOWED), Ok(()));
        }
        assert_eq!(p.claim(5, 2, 3, false, &ALLOWED), Err(Error::NoMem), "four pins held");
        assert_eq!((p.held(5, 2, false), p.held(5, 2, true), p.held(6, 2, false)), (0b100111, 0b1, 0));
        let all = p.held_ports(5, false);
        assert_eq!(all, [0, 0, 0b100111, 0, 0, 0, 0, 0]);
        assert_eq!(p.held_ports(5, true), [0, 0, 0b1, 0, 0, 0, 0, 0]);
        assert_eq!(p.held_ports(6, false), [0; SYS_PORTS]);
        assert_eq!(p.release(5), 0);
        assert_eq!(p.claim(6, 2, 5, false, &ALLOWED), Ok(()), "free again once its holder is gone");
    }

    #[test]
    fn watches_are_held_inputs_one_pin_per_line() {
        let mut p = PinClaims::<8>::new();
        for (port, pin) in [(2, 5), (2, 4), (1, 8), (0, 15)] {
            p.claim(5, port, pin, false, &ALLOWED).unwrap();
        }
        p.claim(5, 2, 0, true, &ALLOWED).unwrap();
        let mut m = [0u16; SYS_PORTS];
        m[2] = 0b11_0000;
        m[1] = 1 << 8;
        m[0] = 1 << 15;
        let w = p.check_watch(5, &m, 1 << 13).unwrap();
        assert_eq!(w.lines, 0b1000_0001_0011_0000);
        assert_eq!((w.port_of[5], w.port_of[8], w.port_of[15]), (2, 1, 0));
        let mut out = m;
        out[2] |= 1;
        assert_eq!(p.check_watch(5, &out, 1 << 13), Err(Error::Perm), "an output");
        assert_eq!(p.check_watch(6, &m, 1 << 13), Err(Error::Perm), "not its pins");
        assert_eq!(p.check_watch(5, &m, 1 << 15), Err(Error::Busy), "the button's line");
        p.claim(5, 0, 6, false, &ALLOWED).unwrap();
        let mut two = [0u16; SYS_PORTS];
        two[0] = 1 << 6;
        two[2] = 0;
        p.claim(5, 1, 9, false, &ALLOWED).unwrap();
        two[1] = 1 << 9;
        assert!(p.check_watch(5, &two, 0).is_ok());
        p.claim(7, 3, 14, false, &ALLOWED).unwrap();
        let mut same_line = [0u16; SYS_PORTS];
        same_line[3] = 1 << 14;
        for l in 0..16 {
            if w.lines & (1 << l) != 0 {
                p.watch_line(5, l);
            }
        }
        assert_eq!(p.watched(), w.lines);
        assert!(p.check_watch(7, &same_line, 0).is_ok());
        p.watch_line(7, 14);
        p.claim(8, 3, 14, false, &[0xffff; SYS_PORTS]).unwrap_err();
        assert_eq!(p.line_owner(14), 7);
        assert_eq!(p.release(5), w.lines);
        assert_eq!(p.watched(), 1 << 14);
    }

    #[test]
    fn subscribers_are_bounded_and_lines_not_shared() {
        let mut p = PinClaims::<8>::new();
        let all = [0xffffu16; SYS_PORTS];
        for (owner, pin) in [(1, 0), (2, 1), (3, 2)] {
            p.claim(owner, 0, pin, false, &all).unwrap();
        }
        p.claim(3, 1, 0, false, &all).unwrap();
        let on = |port: usize, pin: u8| {
            let mut m = [0u16; SYS_PORTS];
            m[port] = 1 << pin;
            m
        };
        p.check_watch(1, &on(0, 0), 0).unwrap();
        p.watch_line(1, 0);
        p.check_watch(2, &on(0, 1), 0).unwrap();
        p.watch_line(2, 1);
        assert_eq!(p.check_watch(3, &on(0, 2), 0), Err(Error::NoMem), "a third subscriber");
        assert_eq!(p.check_watch(3, &on(1, 0), 0), Err(Error::Busy), "line 0 is owner 1's");
        assert_eq!(p.check_watch(1, &[0; SYS_PORTS], 0).map(|w| w.lines), Ok(0), "unsubscribing is fine");
        assert_eq!(p.owners().filter(|o| *o == 1).count(), 2, "a pin and a line");
    }
}
