//! proto.rs - the user-level protocols of docs/protocols.md: labels, and
//! the encoders/decoders of their messages (pure, host-tested).

use crate::abi::*;
use crate::error::{Error, Result};

// init (on the bootstrap channel, always IPC_CALL)
pub const INIT_REGISTER: u16 = 0x0401;
pub const INIT_LOOKUP: u16 = 0x0402;
pub const INIT_SPAWN: u16 = 0x0403;
pub const INIT_CONNECT: u16 = 0x0404;

// console
pub const CONSOLE_WRITE: u16 = 0x0201;
pub const CONSOLE_READ: u16 = 0x0202;

// memory
pub const MEM_STATS: u16 = 0x0301;

// ipc_peer
pub const PEER_ECHO: u16 = 0x0501;
pub const PEER_ECHO_CHANNEL: u16 = 0x0502;
pub const PEER_PING: u16 = 0x0503;
pub const PEER_PAGE: u16 = 0x0504;
pub const PEER_SLOW: u16 = 0x0505;

/// First u64 of the page PEER_PAGE returns: "NAGI".
pub const PEER_PAGE_MAGIC: u64 = 0x4e41_4749;

/// Bits ipc_peer sends, one at a time while the caller waits, through the
/// channel payload of a PEER_SLOW request (an optional extension: the
/// caller checks that notifications arriving while it is blocked in a call
/// are OR-ed and delivered once, after the reply).
pub const PEER_SLOW_NOTIFY_BITS: [u64; 3] = [1 << 8, 1 << 9, 1 << 10];

/// Longest service name init keeps.
pub const SERVICE_NAME_MAX: usize = 31;

/// INIT_REGISTER or INIT_LOOKUP for `name`.
pub fn name_request(label: u16, name: &str) -> Result<Msg> {
    if name.is_empty() || name.len() > SERVICE_NAME_MAX {
        return Err(Error::Inval);
    }
    Msg::with_data(label, name.as_bytes())
}

/// An INIT_SPAWN request: u64 arg, u32 prio, program name.
pub fn spawn_request(name: &str, arg: u64, prio: u32) -> Result<Msg> {
    if name.is_empty() || name.len() >= TASK_NAME_MAX {
        return Err(Error::Inval);
    }
    let mut m = Msg::new(INIT_SPAWN);
    m.push_u64(arg)?;
    m.push_u32(prio)?;
    m.push_bytes(name.as_bytes())?;
    Ok(m)
}

/// A decoded INIT_SPAWN request.
#[derive(Debug, PartialEq, Eq)]
pub struct Spawn<'a> {
    pub arg: u64,
    pub prio: u32,
    pub name: &'a str,
}

pub fn parse_spawn(m: &Msg) -> Option<Spawn<'_>> {
    let name = core::str::from_utf8(m.payload().get(12..)?).ok()?;
    if name.is_empty() || name.len() >= TASK_NAME_MAX {
        return None;
    }
    Some(Spawn { arg: m.get_u64(0)?, prio: m.get_u32(8)?, name })
}

/// The service name in an INIT_REGISTER / INIT_LOOKUP request.
pub fn parse_name(m: &Msg) -> Option<&str> {
    let name = core::str::from_utf8(m.payload()).ok()?;
    (!name.is_empty() && name.len() <= SERVICE_NAME_MAX).then_some(name)
}

/// MEM_STATS reply: pages served, faults refused.
pub fn parse_mem_stats(m: &Msg) -> Option<(u64, u64)> {
    Some((m.get_u64(0)?, m.get_u64(8)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_round_trip() {
        let m = spawn_request("faulter", 3, 6).unwrap();
        assert_eq!(m.label, INIT_SPAWN);
        assert_eq!(m.len, 12 + 7);
        assert_eq!(parse_spawn(&m), Some(Spawn { arg: 3, prio: 6, name: "faulter" }));
        let mut short = m;
        short.len = 12;
        assert_eq!(parse_spawn(&short), None);
        assert!(spawn_request("", 0, 0).is_err());
    }

    #[test]
    fn names() {
        let m = name_request(INIT_LOOKUP, "console").unwrap();
        assert_eq!(parse_name(&m), Some("console"));
        assert!(name_request(INIT_LOOKUP, "").is_err());
        assert!(name_request(INIT_LOOKUP, &"n".repeat(32)).is_err());
        let bad = Msg::with_data(INIT_LOOKUP, &[0xff, 0xfe]).unwrap();
        assert_eq!(parse_name(&bad), None);
    }

    #[test]
    fn mem_stats() {
        let mut m = Msg::new(MEM_STATS);
        m.push_u64(12).unwrap();
        m.push_u64(3).unwrap();
        assert_eq!(parse_mem_stats(&m), Some((12, 3)));
    }
}
