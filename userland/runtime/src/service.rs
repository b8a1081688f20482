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
/// `listen`. Returns the client's channel (server side). Only init may
/// connect clients, and it speaks on the server's bootstrap channel
/// (routed into `listen`): the same label from a client is refused and
/// its payloads dropped, so no client can make the server hold channels.
pub fn accept(listen: Channel, m: &Msg) -> Result<Channel> {
    if m.from != BOOTSTRAP_CID {
        drop_payloads(m);
        return Err(Error::Perm);
    }
    let client = Channel::from_raw(m.channel_payload().ok_or(Error::Inval)?);
    if let Err(e) = client.transfer(listen) {
        let _ = client.close();
        return Err(e);
    }
    Ok(client)
}

/// The client channels init gave a server (INIT_CONNECT), at most N: a
/// server keeps one channel per connection, so without this table the
/// channels of clients long gone would pile up (and a client connecting
/// again and again could fill the server's channel table). Every accept
/// first closes the channels whose client has gone; when N are live the
/// new connection is refused (closed, -E_NOMEM).
pub struct Clients<const N: usize> {
    cids: [i32; N],
}

impl<const N: usize> Default for Clients<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Clients<N> {
    pub const fn new() -> Self {
        Clients { cids: [-1; N] }
    }

    /// accept() plus the bookkeeping above.
    pub fn accept(&mut self, listen: Channel, m: &Msg) -> Result<Channel> {
        let ch = accept(listen, m)?;
        self.sweep();
        match self.cids.iter_mut().find(|c| **c < 0) {
            Some(slot) => {
                *slot = ch.cid();
                Ok(ch)
            }
            None => {
                let _ = ch.close();
                Err(Error::NoMem)
            }
        }
    }

    /// Close the channels whose client end has gone. A non-blocking send
    /// of an empty message (label 0) probes a channel: E_CLOSED if its
    /// peer is gone; otherwise it fails (E_WOULDBLOCK) unless the client
    /// waits in a plain receive on it, which no client protocol does.
    pub fn sweep(&mut self) {
        for slot in self.cids.iter_mut().filter(|c| **c >= 0) {
            let ch = Channel::from_raw(*slot);
            if ch.send_noblock(&Msg::new(0)) == Err(Error::Closed) {
                let _ = ch.close();
                *slot = -1;
            }
        }
    }

    /// After a notification: sweep if it says a channel's peer closed
    /// (NOTIFY_PEER_CLOSED), so a gone client's channel is closed at once.
    pub fn on_notification(&mut self, m: &Msg) {
        if m.is_notification() && m.arg & NOTIFY_PEER_CLOSED != 0 {
            self.sweep();
        }
    }

    /// Whether `cid` is one of the live client channels (a server frees
    /// what a client held once its channel is no longer here).
    pub fn contains(&self, cid: i32) -> bool {
        cid >= 0 && self.cids.contains(&cid)
    }

    /// Live client channels.
    pub fn count(&self) -> usize {
        self.cids.iter().filter(|c| **c >= 0).count()
    }
}

/// The one connection that holds what a server gives to one client at a
/// time: the NIC (NIC_OPEN), the key stream into keymap, the HID state
/// into hid. The first to take it keeps it; anyone else is refused until
/// the holder's channel closes (its client died or hung up), which
/// `release_if_gone` notices, to be called before anything that may
/// reuse the channel id (Clients::accept's sweep).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder(i32);

impl Holder {
    pub const NOBODY: Holder = Holder(-1);

    /// The holder's channel id.
    pub fn cid(&self) -> Option<i32> {
        (self.0 >= 0).then_some(self.0)
    }

    /// Whether `from` may act as the holder: it is, or nobody is.
    pub fn allows(&self, from: i32) -> bool {
        self.0 < 0 || self.0 == from
    }

    /// `from` holds it now (allows(from) must hold); whether it is new.
    pub fn take(&mut self, from: i32) -> bool {
        debug_assert!(from >= 0 && self.allows(from));
        let new = self.0 != from;
        self.0 = from;
        new
    }

    /// Let go if the holder's channel closed; whether it did.
    pub fn release_if_gone(&mut self) -> bool {
        self.release_if(|cid| Channel::from_raw(cid).send_noblock(&Msg::new(0)) == Err(Error::Closed))
    }

    fn release_if(&mut self, gone: impl FnOnce(i32) -> bool) -> bool {
        if self.0 >= 0 && gone(self.0) {
            self.0 = -1;
            return true;
        }
        false
    }
}

/// Reply `m` on `to` with `r` in its arg; an error reply carries no data.
pub fn reply_with(to: Channel, mut m: Msg, r: Result<u64>) {
    if r.is_err() {
        m.len = 0;
    }
    m.arg = crate::error::to_raw(r);
    let _ = to.reply(&m);
}

/// Reply a bare result: `label`, `r` in its arg, no data.
pub fn reply_result(to: Channel, label: u16, r: Result<u64>) {
    reply_with(to, Msg::new(label), r)
}

/// Close the channel payload of `m`, if any: a server calls this for every
/// message whose protocol carries no channel (every server treats every
/// message as hostile: a payload it did not ask for would stay with it).
pub fn drop_channel(m: &Msg) {
    if let Some(cid) = m.channel_payload() {
        let _ = Channel::from_raw(cid).close();
    }
}

/// Give back the page payload of `m`, if any (KS_FREE_PAGE): pages sent
/// to a server it did not ask for would otherwise stay mapped in it.
pub fn drop_page(m: &Msg) {
    if let Some(page) = m.page_payload() {
        let _ = crate::ks::free_page(page);
    }
}

/// Both: for a message that may carry no payload at all.
pub fn drop_payloads(m: &Msg) {
    drop_channel(m);
    drop_page(m);
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
    fn a_holder_keeps_it_until_its_channel_closes() {
        let mut h = Holder::NOBODY;
        assert!(h.allows(7) && h.allows(8) && h.cid().is_none());
        assert!(h.take(7), "taken by the first");
        assert!(!h.take(7), "taking it again is no change");
        assert!(h.allows(7) && !h.allows(8) && !h.allows(-1));
        assert!(!h.release_if(|_| false), "a live holder keeps it");
        assert_eq!(h.cid(), Some(7));
        let mut asked = None;
        assert!(h.release_if(|cid| {
            asked = Some(cid);
            true
        }));
        assert_eq!((asked, h), (Some(7), Holder::NOBODY));
        assert!(!h.release_if(|_| panic!("nobody to ask about")));
        assert!(h.allows(8) && h.take(8));
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
