//! chan.rs - the typed channel API over the raw syscalls. A `Channel` is a
//! cid of the calling task (it is `Copy`: closing is explicit, because cids
//! also move away as channel payloads). Messages are copied between the
//! caller's `Msg` and the task's message buffer around each SYS_IPC.

use crate::abi::*;
use crate::error::{check, Result};
use crate::sys;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel(i32);

impl Channel {
    /// The kernel server (cid 1, valid in every task).
    pub const KERNEL: Channel = Channel(KERNEL_CID);
    /// The bootstrap channel to init (cid 2, in tasks init creates).
    pub const BOOTSTRAP: Channel = Channel(BOOTSTRAP_CID);

    /// A channel from a raw cid (e.g. a received channel payload).
    pub const fn from_raw(cid: i32) -> Channel {
        Channel(cid)
    }

    pub const fn cid(self) -> i32 {
        self.0
    }

    /// SYS_OPEN: a new, unlinked channel.
    pub fn open() -> Result<Channel> {
        check(sys::open()).map(|c| Channel(c as i32))
    }

    /// Two new channels linked to each other.
    pub fn pair() -> Result<(Channel, Channel)> {
        let a = Channel::open()?;
        let b = match Channel::open() {
            Ok(b) => b,
            Err(e) => {
                let _ = a.close();
                return Err(e);
            }
        };
        if let Err(e) = a.link(b) {
            let _ = a.close();
            let _ = b.close();
            return Err(e);
        }
        Ok((a, b))
    }

    pub fn close(self) -> Result<()> {
        check(sys::close(self.0)).map(|_| ())
    }

    /// SYS_LINK: what is sent through one arrives at the other.
    pub fn link(self, other: Channel) -> Result<()> {
        check(sys::link(self.0, other.0)).map(|_| ())
    }

    /// SYS_TRANSFER: what arrives at self is received on `to` from now on.
    pub fn transfer(self, to: Channel) -> Result<()> {
        check(sys::transfer(self.0, to.0)).map(|_| ())
    }

    /// SYS_NOTIFY: set `bits` on the peer (never blocks).
    pub fn notify(self, bits: u64) -> Result<()> {
        check(sys::notify(self.0, bits)).map(|_| ())
    }

    /// SYS_IPC with any flags: `m` is sent (if SEND/REPLY) and replaced by
    /// what was received (if RECV).
    pub fn ipc(self, m: &mut Msg, flags: u64) -> Result<()> {
        if flags & (IPC_SEND | IPC_REPLY) != 0 {
            sys::put_msg(m);
        }
        let r = check(sys::ipc(self.0, flags));
        if r.is_ok() && flags & IPC_RECV != 0 {
            sys::get_msg(m);
        }
        r.map(|_| ())
    }

    pub fn send(self, m: &Msg) -> Result<()> {
        let mut copy = *m;
        self.ipc(&mut copy, IPC_SEND)
    }

    pub fn send_noblock(self, m: &Msg) -> Result<()> {
        let mut copy = *m;
        self.ipc(&mut copy, IPC_SEND | IPC_NOBLOCK)
    }

    /// Wait for a message on this channel's receive target.
    pub fn recv(self, m: &mut Msg) -> Result<()> {
        self.ipc(m, IPC_RECV)
    }

    pub fn recv_noblock(self, m: &mut Msg) -> Result<()> {
        self.ipc(m, IPC_RECV | IPC_NOBLOCK)
    }

    /// Send `m` and wait for the reply, which replaces `m`.
    pub fn call(self, m: &mut Msg) -> Result<()> {
        self.ipc(m, IPC_CALL)
    }

    /// Reply to the caller waiting on this channel (server side: the
    /// request's `from`).
    pub fn reply(self, m: &Msg) -> Result<()> {
        let mut copy = *m;
        self.ipc(&mut copy, IPC_REPLY)
    }

    /// Reply, then wait for the next message on this channel's target.
    pub fn reply_recv(self, m: &mut Msg) -> Result<()> {
        self.ipc(m, IPC_REPLY | IPC_RECV)
    }
}
