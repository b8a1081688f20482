//! service.rs - the init protocol as seen by other tasks: register a
//! service, look one up, spawn a program, and the server-side setup
//! (a listening channel that also receives INIT_CONNECT messages).

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
