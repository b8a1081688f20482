//! service.rs - the init protocol as seen by other tasks: register a
//! service, look one up, spawn a program, and the server-side setup
//! (a listening channel that also receives INIT_CONNECT messages). A
//! client keeps its channel to a service in a `Client`, which finds the
//! service again by name when its server died and init restarted it.

use crate::abi::*;
use crate::chan::Channel;
use crate::error::{Error, Result};
use crate::proto::*;

/// Call init on the bootstrap channel; the reply replaces `m`.
fn call_init(m: &mut Msg) -> Result<u64> {
    Channel::BOOTSTRAP.call(m)?;
    m.result()
}

/// Register the calling task as service `name`.
pub fn register(name: &str) -> Result<()> {
    call_init(&mut name_request(INIT_REGISTER, name)?).map(|_| ())
}

/// A channel to service `name` (init waits up to ~5 s for it to register).
pub fn lookup(name: &str) -> Result<Channel> {
    let mut m = name_request(INIT_LOOKUP, name)?;
    call_init(&mut m)?;
    m.channel_payload().map(Channel::from_raw).ok_or(Error::NoEnt)
}

/// Times a client looks a service up again (and retries its request)
/// after the server went away, before it gives up.
pub const RECONNECT_TRIES: u32 = 3;

/// Run `op` on the channel in `slot` (connecting first if empty). While
/// it fails with E_CLOSED (the server died), close the channel, connect
/// again and retry: at most RECONNECT_TRIES times. `op` must be
/// repeatable: an inline request whose failed send moved nothing. A
/// failed connect empties the slot and ends the attempt with its error.
pub fn with_reconnect<T>(
    slot: &mut Option<Channel>,
    mut connect: impl FnMut() -> Result<Channel>,
    mut op: impl FnMut(Channel) -> Result<T>,
) -> Result<T> {
    let mut tries = 0;
    loop {
        let ch = match *slot {
            Some(ch) => ch,
            None => *slot.insert(connect()?),
        };
        match op(ch) {
            Err(Error::Closed) if tries < RECONNECT_TRIES => {
                tries += 1;
                let _ = ch.close();
                *slot = None;
            }
            r => return r,
        }
    }
}

/// A client's channel to service `name`, looked up on first use and again
/// after the server died (with_reconnect).
pub struct Client {
    name: &'static str,
    ch: Option<Channel>,
}

impl Client {
    pub const fn new(name: &'static str) -> Client {
        Client { name, ch: None }
    }

    /// The current channel (looked up if there is none).
    pub fn channel(&mut self) -> Result<Channel> {
        let name = self.name;
        with_reconnect(&mut self.ch, || lookup(name), Ok)
    }

    /// IPC_CALL with an inline request; the reply replaces `m`. Resent
    /// to the restarted server if the old one died.
    pub fn call(&mut self, m: &mut Msg) -> Result<()> {
        let name = self.name;
        let req = *m;
        with_reconnect(&mut self.ch, || lookup(name), |ch| {
            *m = req;
            ch.call(m)
        })
    }
}

/// INIT_STATUS: the supervised tasks that run now and their restart
/// counts, written into `out`; how many.
pub fn status(out: &mut [StatusEntry]) -> Result<usize> {
    let mut m = Msg::new(INIT_STATUS);
    call_init(&mut m)?;
    let mut n = 0;
    for (slot, e) in out.iter_mut().zip(parse_status(&m)) {
        *slot = e;
        n += 1;
    }
    Ok(n)
}

/// Start program `name` with `arg` at priority `prio`; its tid.
pub fn spawn(name: &str, arg: u64, prio: u32) -> Result<u32> {
    call_init(&mut spawn_request(name, arg, prio)?).map(|tid| tid as u32)
}

/// A server's setup: open its listening channel, route the bootstrap
/// channel into it (so INIT_CONNECT arrives there too), register `name`.
/// The transfer is done before registering so that no INIT_CONNECT can be
/// queued on the bootstrap channel (which would make the transfer E_BUSY).
pub fn listen(name: &str) -> Result<Channel> {
    let listen = Channel::open()?;
    Channel::BOOTSTRAP.transfer(listen)?;
    register(name)?;
    Ok(listen)
}

/// Accept an INIT_CONNECT message: route the new client channel into
/// `listen`. Returns the client's channel (server side).
pub fn accept(listen: Channel, m: &Msg) -> Result<Channel> {
    let client = Channel::from_raw(m.channel_payload().ok_or(Error::Inval)?);
    if let Err(e) = client.transfer(listen) {
        let _ = client.close();
        return Err(e);
    }
    Ok(client)
}

/// Sleep `ms` milliseconds on a private timer channel.
pub fn sleep_ms(ms: u32) -> Result<()> {
    if ms == 0 {
        return Ok(());
    }
    let ch = Channel::open()?;
    let r = crate::ks::timer(ch, ms).and_then(|_| {
        let mut m = Msg::new(0);
        loop {
            ch.recv(&mut m)?;
            if m.is_notification() && m.arg & NOTIFY_TIMER != 0 {
                return Ok(());
            }
        }
    });
    let _ = ch.close();
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn reconnects_after_the_server_died_and_retries() {
        let mut slot = Some(Channel::from_raw(5));
        let mut connects = 0;
        let mut seen = Vec::new();
        let r = with_reconnect(
            &mut slot,
            || {
                connects += 1;
                Ok(Channel::from_raw(10 + connects))
            },
            |ch| {
                seen.push(ch.cid());
                if ch.cid() == 5 { Err(Error::Closed) } else { Ok(ch.cid()) }
            },
        );
        assert_eq!(r, Ok(11));
        assert_eq!((connects, seen), (1, vec![5, 11]));
        assert_eq!(slot, Some(Channel::from_raw(11)), "the new channel is kept");
    }

    #[test]
    fn gives_up_after_bounded_tries() {
        let mut slot = None;
        let mut connects = 0;
        let r: Result<()> = with_reconnect(
            &mut slot,
            || {
                connects += 1;
                Ok(Channel::from_raw(3))
            },
            |_| Err(Error::Closed),
        );
        assert_eq!(r, Err(Error::Closed));
        assert_eq!(connects, 1 + RECONNECT_TRIES);
    }

    #[test]
    fn other_errors_and_failed_lookups_end_at_once() {
        let mut slot = Some(Channel::from_raw(4));
        let r: Result<()> = with_reconnect(&mut slot, || panic!("no lookup"), |_| Err(Error::Inval));
        assert_eq!((r, slot), (Err(Error::Inval), Some(Channel::from_raw(4))));
        let mut slot = Some(Channel::from_raw(4));
        let r: Result<()> = with_reconnect(&mut slot, || Err(Error::NoEnt), |_| Err(Error::Closed));
        assert_eq!((r, slot), (Err(Error::NoEnt), None), "the service is gone (init gave up)");
    }
}
