//! device.rs - smoltcp's `Device` over the NIC protocol (runtime::nic):
//! a received frame is pulled with NIC_RECV calls, one fragment each
//! (runtime::nic::pull_frame), when the driver said frames wait
//! (NIC_NOTIFY_RX); a frame to send goes out with NIC_TX calls
//! (push_frame). A full transmit ring (-E_WOULDBLOCK) is retried a
//! bounded number of times, yielding in between, then the frame is
//! dropped and counted: nothing is buffered here beyond one frame each
//! way (TCP retransmits what was lost).
//!
//! A SYN to a listening port none of whose sockets still listens (the
//! backlog is full: the listener's owner has not accepted yet) is dropped
//! here, as Linux drops one whose accept queue is full, so the client
//! retransmits it a second later; handed to smoltcp it would be answered
//! with a RST (no socket matches) and the client would see "connection
//! refused" under a mere burst of connections.

use alloc::vec;
use alloc::vec::Vec;
use runtime::nic::*;
use runtime::{ks, Channel, Error, Msg, Result};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, TcpPacket};

/// Tries of a frame whose NIC_TX found the ring full.
const TX_TRIES: u32 = 64;

#[derive(Default, Clone, Copy)]
pub struct Stats {
    pub rx_frames: u64,
    pub tx_frames: u64,
    pub tx_dropped: u64,
    pub rx_bad: u64,
    /// SYNs dropped because their listener's backlog was full.
    pub syn_dropped: u64,
}

pub struct NicDevice {
    /// The channel to the driver holding our claim (None: no NIC now).
    pub ch: Option<Channel>,
    /// The driver said frames wait (cleared when NIC_RECV answers empty).
    pub rx_pending: bool,
    /// A call failed with E_CLOSED: the driver died.
    pub lost: bool,
    pub stats: Stats,
    /// (port, sockets still listening) of every listener, set before
    /// each poll (Sockets::listen_free); a SYN passed to smoltcp takes one.
    pub listen_free: Vec<(u16, u32)>,
    rx: Vec<u8>,
    tx: Vec<u8>,
}

impl NicDevice {
    pub fn new() -> NicDevice {
        NicDevice { ch: None, rx_pending: false, lost: false, stats: Stats::default(), listen_free: Vec::new(), rx: vec![0; FRAME_MAX], tx: vec![0; FRAME_MAX] }
    }
}

fn call(ch: Channel, m: &Msg) -> Result<Msg> {
    let mut m = *m;
    ch.call(&mut m)?;
    m.result()?;
    Ok(m)
}

/// Whether a received frame goes on to smoltcp: all do but a SYN (no
/// ACK) to a port of `listen_free` that has no listening socket left; one
/// that goes on takes a socket from its port's count. Frames smoltcp
/// would reject anyway (truncated, not IPv4) pass: smoltcp drops them.
fn admit(frame: &[u8], listen_free: &mut [(u16, u32)]) -> bool {
    let Ok(eth) = EthernetFrame::new_checked(frame) else { return true };
    if eth.ethertype() != EthernetProtocol::Ipv4 {
        return true;
    }
    let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else { return true };
    if ip.next_header() != IpProtocol::Tcp || ip.frag_offset() != 0 || ip.more_frags() {
        return true;
    }
    let Ok(tcp) = TcpPacket::new_checked(ip.payload()) else { return true };
    if !tcp.syn() || tcp.ack() {
        return true;
    }
    match listen_free.iter_mut().find(|(port, _)| *port == tcp.dst_port()) {
        Some((_, 0)) => false,
        Some((_, free)) => {
            *free -= 1;
            true
        }
        None => true,
    }
}

pub struct Rx<'a> {
    frame: &'a [u8],
}

pub struct Tx<'a> {
    ch: Channel,
    buf: &'a mut [u8],
    stats: &'a mut Stats,
    lost: &'a mut bool,
}

impl phy::Device for NicDevice {
    type RxToken<'a> = Rx<'a>;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        let ch = self.ch?;
        if !self.rx_pending || self.lost {
            return None;
        }
        let n = loop {
            match pull_frame(&mut self.rx, || call(ch, &Msg::new(NIC_RECV))) {
                Ok(Some(n)) if admit(&self.rx[..n], &mut self.listen_free) => break n,
                Ok(Some(_)) => self.stats.syn_dropped += 1,
                Ok(None) => {
                    self.rx_pending = false;
                    return None;
                }
                Err(Error::Closed) => {
                    self.lost = true;
                    return None;
                }
                Err(_) => self.stats.rx_bad += 1, // that frame is lost; try the next
            }
        };
        self.stats.rx_frames += 1;
        let NicDevice { rx, tx, stats, lost, .. } = self;
        Some((Rx { frame: &rx[..n] }, Tx { ch, buf: tx, stats, lost }))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        let ch = self.ch?;
        if self.lost {
            return None;
        }
        let NicDevice { tx, stats, lost, .. } = self;
        Some(Tx { ch, buf: tx, stats, lost })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = FRAME_MAX;
        c.max_burst_size = Some(8);
        c
    }
}

impl phy::RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(self.buf.len());
        let r = f(&mut self.buf[..len]);
        let frame = &self.buf[..len];
        let mut tries = 0;
        loop {
            match push_frame(frame, |m| call(self.ch, m).map(|m| m.arg)) {
                Ok(()) => {
                    self.stats.tx_frames += 1;
                    break;
                }
                Err(Error::WouldBlock) if tries < TX_TRIES => {
                    tries += 1;
                    ks::yield_now();
                }
                Err(e) => {
                    if e == Error::Closed {
                        *self.lost = true;
                    }
                    self.stats.tx_dropped += 1;
                    break;
                }
            }
        }
        r
    }
}
