//! registry.rs - init's tables: registered services (name -> the channel
//! init sends INIT_CONNECT through) and lookups waiting for a service.
//! Fixed-size, no allocation.

use runtime::proto::SERVICE_NAME_MAX;
use runtime::{Channel, Error, Result};

const MAX_SERVICES: usize = 16;
const MAX_WAITERS: usize = 16;

/// A service name, stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    bytes: [u8; SERVICE_NAME_MAX],
    len: usize,
}

impl Name {
    pub fn new(s: &str) -> Option<Name> {
        if s.is_empty() || s.len() > SERVICE_NAME_MAX {
            return None;
        }
        let mut bytes = [0; SERVICE_NAME_MAX];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Name { bytes, len: s.len() })
    }

    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

#[derive(Clone, Copy)]
struct Waiter {
    from: Channel,
    name: Name,
    deadline: u64,
}

pub struct Registry {
    services: [Option<(Name, Channel)>; MAX_SERVICES],
    waiters: [Option<Waiter>; MAX_WAITERS],
}

impl Registry {
    pub const fn new() -> Registry {
        Registry { services: [None; MAX_SERVICES], waiters: [None; MAX_WAITERS] }
    }

    /// The channel to service `name`, if registered.
    pub fn find(&self, name: &str) -> Option<Channel> {
        self.services.iter().flatten().find(|(n, _)| n.as_str() == name).map(|s| s.1)
    }

    /// Register (or re-register) `name`, served through `conn`.
    pub fn add(&mut self, name: Name, conn: Channel) -> Result<()> {
        if let Some(slot) = self.services.iter_mut().flatten().find(|(n, _)| *n == name) {
            slot.1 = conn;
            return Ok(());
        }
        let slot = self.services.iter_mut().find(|s| s.is_none()).ok_or(Error::NoMem)?;
        *slot = Some((name, conn));
        Ok(())
    }

    /// Forget the service served through `conn` (its server died).
    pub fn remove(&mut self, conn: Channel) {
        for s in self.services.iter_mut().filter(|s| s.is_some_and(|(_, c)| c == conn)) {
            *s = None;
        }
    }

    /// The earliest deadline of a waiting lookup.
    pub fn next_deadline(&self) -> Option<u64> {
        self.waiters.iter().flatten().map(|w| w.deadline).min()
    }

    pub fn add_waiter(&mut self, from: Channel, name: Name, deadline: u64) -> Result<()> {
        let slot = self.waiters.iter_mut().find(|w| w.is_none()).ok_or(Error::NoMem)?;
        *slot = Some(Waiter { from, name, deadline });
        Ok(())
    }

    fn take(&mut self, pred: impl Fn(&Waiter) -> bool) -> Option<Channel> {
        let slot = self.waiters.iter_mut().find(|w| w.as_ref().is_some_and(&pred))?;
        slot.take().map(|w| w.from)
    }

    /// A lookup waiting for `name`, removed from the table.
    pub fn take_waiter(&mut self, name: Name) -> Option<Channel> {
        self.take(|w| w.name == name)
    }

    /// A lookup whose deadline has passed, removed from the table.
    pub fn take_expired(&mut self, now: u64) -> Option<Channel> {
        self.take(|w| w.deadline <= now)
    }
}
