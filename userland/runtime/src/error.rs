//! error.rs - the error codes of the ABI (kernel/abi.toml) as a Rust enum, and the mapping from
//! raw syscall / kernel-server results (negative = -error) to `Result`.

use crate::abi::*;
use core::fmt;

/// A Nagi error code (ABI `E_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    NoSys,
    Inval,
    BadCh,
    Closed,
    Fault,
    TooBig,
    Loop,
    NoCall,
    WouldBlock,
    NoMem,
    Perm,
    NotSup,
    NoEnt,
    Busy,
    /// A code this runtime does not know (kept for diagnostics).
    Other(i64),
}

pub type Result<T> = core::result::Result<T, Error>;

const TABLE: [(Error, i64, &str); 14] = [
    (Error::NoSys, E_NOSYS, "E_NOSYS"),
    (Error::Inval, E_INVAL, "E_INVAL"),
    (Error::BadCh, E_BADCH, "E_BADCH"),
    (Error::Closed, E_CLOSED, "E_CLOSED"),
    (Error::Fault, E_FAULT, "E_FAULT"),
    (Error::TooBig, E_TOOBIG, "E_TOOBIG"),
    (Error::Loop, E_LOOP, "E_LOOP"),
    (Error::NoCall, E_NOCALL, "E_NOCALL"),
    (Error::WouldBlock, E_WOULDBLOCK, "E_WOULDBLOCK"),
    (Error::NoMem, E_NOMEM, "E_NOMEM"),
    (Error::Perm, E_PERM, "E_PERM"),
    (Error::NotSup, E_NOTSUP, "E_NOTSUP"),
    (Error::NoEnt, E_NOENT, "E_NOENT"),
    (Error::Busy, E_BUSY, "E_BUSY"),
];

impl Error {
    /// The error for a positive code (as in the ABI).
    pub fn from_code(code: i64) -> Error {
        TABLE
            .iter()
            .find(|(_, c, _)| *c == code)
            .map(|(e, _, _)| *e)
            .unwrap_or(Error::Other(code))
    }

    /// The positive ABI code.
    pub fn code(self) -> i64 {
        match self {
            Error::Other(c) => c,
            e => TABLE.iter().find(|(x, _, _)| *x == e).map(|t| t.1).unwrap_or(0),
        }
    }

    /// The C name, e.g. "E_BADCH".
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(x, _, _)| *x == self)
            .map(|t| t.2)
            .unwrap_or("E_?")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Other(c) => write!(f, "error {}", c),
            e => f.write_str(e.name()),
        }
    }
}

/// A raw result (syscall return value, or a kernel-server reply's `arg`
/// read as i64): >= 0 is a value, < 0 is `-code`.
pub fn check(ret: i64) -> Result<u64> {
    if ret >= 0 {
        Ok(ret as u64)
    } else {
        Err(Error::from_code(ret.wrapping_neg()))
    }
}

/// The raw form of a result, for putting into a reply's `arg`.
pub fn to_raw(r: Result<u64>) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => (e.code()).wrapping_neg() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 1..=14 {
            let e = Error::from_code(code);
            assert!(!matches!(e, Error::Other(_)), "code {} unmapped", code);
            assert_eq!(e.code(), code);
        }
        assert_eq!(Error::from_code(99), Error::Other(99));
        assert_eq!(Error::Other(99).code(), 99);
    }

    #[test]
    fn check_maps_negative_results() {
        assert_eq!(check(0), Ok(0));
        assert_eq!(check(42), Ok(42));
        assert_eq!(check(-E_BADCH), Err(Error::BadCh));
        assert_eq!(check(-E_WOULDBLOCK), Err(Error::WouldBlock));
        assert_eq!(check(-1000), Err(Error::Other(1000)));
    }

    #[test]
    fn raw_form_is_negated_code() {
        assert_eq!(to_raw(Ok(7)), 7);
        assert_eq!(to_raw(Err(Error::NoEnt)) as i64, -E_NOENT);
        assert_eq!(check(to_raw(Err(Error::Perm)) as i64), Err(Error::Perm));
    }

    #[test]
    fn names_match_c() {
        assert_eq!(Error::BadCh.name(), "E_BADCH");
        assert_eq!(Error::TooBig.name(), "E_TOOBIG");
        assert_eq!(std::format!("{}", Error::Loop), "E_LOOP");
        assert_eq!(std::format!("{}", Error::Other(77)), "error 77");
    }
}
