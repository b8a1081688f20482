//! nic_server.rs - the driver side of the NIC protocol (nic.rs,
//! docs/protocols.md "NIC drivers"), shared by every NIC driver (e1000 on
//! the pc, lan9118 on mps2-an386). A driver implements `Device` (its
//! registers, rings or FIFOs) and hands it to `Server`, which owns the
//! protocol: connections (init's INIT_CONNECT, at most CLIENTS), the one
//! connection that holds the device (NIC_OPEN; freed when its channel
//! closes), which requests need that claim, payloads nobody sends (dropped),
//! reassembly of NIC_TX fragments into the device's transmit buffer, the
//! counters of sent and malformed frames, and the NIC_NOTIFY_RX
//! notification to the holder after an interrupt.
//!
//! Every message is hostile until checked: NIC_TX and NIC_RECV from a
//! connection that did not NIC_OPEN get -E_PERM, a second NIC_OPEN while
//! the holder lives gets -E_BUSY, a malformed fragment drops the frame so
//! far (-E_INVAL, counted), unknown labels get -E_NOSYS, and a connection
//! beyond CLIENTS is closed at once.

use crate::abi::*;
use crate::chan::Channel;
use crate::error::{Error, Result};
use crate::nic::*;
use crate::proto::*;
use crate::service;
use crate::service::reply_with as reply_msg;

/// Connections a driver keeps (the net server, the shell's `nic`, a test).
pub const CLIENTS: usize = 4;

/// What a NIC driver does with its hardware; `Server` does the rest.
pub trait Device {
    /// The driver's NicInfo: MAC, MTU, link and counters.
    fn info(&mut self) -> &mut NicInfo;
    /// Acknowledge the device's interrupt and take in what it reports
    /// (received frames, link changes, errors).
    fn interrupt(&mut self);
    /// Bring info's link state and device-kept counters up to date.
    fn update(&mut self);
    /// Whether a received frame waits for the holder.
    fn rx_pending(&self) -> bool;
    /// The next fragment of the oldest received frame (a NIC_RECV reply;
    /// no data when none waits).
    fn recv(&mut self) -> Msg;
    /// Whether a whole frame can be queued now (asked before a frame's
    /// first fragment is taken).
    fn tx_room(&mut self) -> bool;
    /// Where the frame being assembled goes (at least FRAME_MAX bytes).
    fn tx_buf(&mut self) -> &mut [u8];
    /// Queue the assembled frame, `len` bytes of tx_buf().
    fn transmit(&mut self, len: usize);
    /// The device changed hands: `held` (a new holder: a frame being
    /// handed out restarts whole) or not (frames waiting are dropped,
    /// nobody would take them).
    fn holder_changed(&mut self, held: bool);
}

/// Idle without dying (init should neither restart nor give up).
pub fn idle() -> ! {
    loop {
        let _ = service::sleep_ms(1 << 30);
    }
}

/// No device: still serve "nic", answering every request -E_NOENT, so
/// that clients learn it at once instead of waiting for a lookup to time
/// out.
pub fn serve_absent() -> ! {
    let Ok(listen) = service::listen(NIC_SERVICE) else { idle() };
    let mut clients: service::Clients<CLIENTS> = service::Clients::new();
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_err() {
            continue;
        }
        match m.label {
            INIT_CONNECT => {
                let _ = clients.accept(listen, &m);
            }
            LABEL_NOTIFICATION => clients.on_notification(&m),
            label => {
                service::drop_payloads(&m);
                reply_msg(Channel::from_raw(m.from), Msg::new(label), Err(Error::NoEnt));
            }
        }
    }
}

/// Borrows the device rather than owning it: a driver's device state
/// (a 1.5 KiB frame buffer on lan9118) stays where the driver built it
/// instead of being moved (copied on the stack) into the server.
pub struct Server<'d, D: Device> {
    dev: &'d mut D,
    listen: Channel,
    clients: service::Clients<CLIENTS>,
    asm: Assembler,
    /// The connection that holds the device (NIC_OPEN).
    holder: service::Holder,
}

impl<'d, D: Device> Server<'d, D> {
    pub fn new(dev: &'d mut D) -> Result<Self> {
        Ok(Server { dev, listen: Channel::open()?, clients: service::Clients::new(), asm: Assembler::new(), holder: service::Holder::NOBODY })
    }

    /// The device's IRQ as NOTIFY_IRQ on the listening channel, the
    /// channel to init, "nic" registered; then serve for good.
    pub fn run(mut self, irq: u32) -> Result<()> {
        crate::ks::listen_irq(irq, self.listen)?;
        Channel::BOOTSTRAP.transfer(self.listen)?;
        service::register(NIC_SERVICE)?;
        let mut m = Msg::new(0);
        loop {
            if self.listen.recv(&mut m).is_ok() {
                self.handle(&m);
            }
        }
    }

    fn handle(&mut self, m: &Msg) {
        let from = Channel::from_raw(m.from);
        if m.label != INIT_CONNECT {
            service::drop_payloads(m); // no nic request carries one
        }
        match m.label {
            LABEL_NOTIFICATION => {
                if m.arg & NOTIFY_IRQ != 0 {
                    self.interrupt();
                }
                if m.arg & NOTIFY_PEER_CLOSED != 0 {
                    self.holder_gone();
                }
                self.clients.on_notification(m);
            }
            INIT_CONNECT => {
                self.holder_gone();
                let _ = self.clients.accept(self.listen, m);
            }
            NIC_OPEN => {
                self.holder_gone();
                let r = if !self.holder.allows(m.from) {
                    Err(Error::Busy)
                } else {
                    if self.holder.take(m.from) {
                        self.dev.holder_changed(true);
                    }
                    self.asm.reset();
                    Ok(0)
                };
                reply_msg(from, Msg::new(NIC_OPEN), r);
            }
            NIC_INFO => {
                self.dev.update();
                reply_msg(from, self.dev.info().to_msg(), Ok(0));
            }
            NIC_TX | NIC_RECV if self.holder.cid() != Some(m.from) => reply_msg(from, Msg::new(m.label), Err(Error::Perm)),
            NIC_TX => {
                let r = self.tx(m);
                reply_msg(from, Msg::new(NIC_TX), r);
            }
            NIC_RECV => {
                let reply = self.dev.recv();
                reply_msg(from, reply, Ok(0));
            }
            label => reply_msg(from, Msg::new(label), Err(Error::NoSys)),
        }
    }

    /// The holder's channel closed (its client died or hung up): the
    /// device is free again.
    fn holder_gone(&mut self) {
        if self.holder.release_if_gone() {
            self.asm.reset();
            self.dev.holder_changed(false);
        }
    }

    fn interrupt(&mut self) {
        self.dev.interrupt();
        if let Some(cid) = self.holder.cid().filter(|_| self.dev.rx_pending()) {
            let _ = Channel::from_raw(cid).notify(NIC_NOTIFY_RX);
        }
    }

    fn tx(&mut self, m: &Msg) -> Result<u64> {
        let Some((h, data)) = FragHeader::decode(m.payload()) else {
            self.asm.reset();
            self.dev.info().tx_malformed += 1;
            return Err(Error::Inval);
        };
        if Assembler::starts_frame(&h) && !self.asm.in_progress() && !self.dev.tx_room() {
            return Err(Error::WouldBlock); // nothing taken: send it again later
        }
        match self.asm.feed(&h, data, self.dev.tx_buf()) {
            Feed::Partial => Ok(0),
            Feed::Malformed => {
                self.dev.info().tx_malformed += 1;
                Err(Error::Inval)
            }
            Feed::Complete(len) => {
                self.dev.transmit(len);
                let info = self.dev.info();
                info.tx_frames += 1;
                info.tx_bytes += len as u64;
                Ok(0)
            }
        }
    }
}
