//! nic.rs - the NIC protocol (docs/protocols.md, "NIC drivers"): what a
//! network driver (e1000 on the pc, LAN9118 later) and its one client (the
//! net server, the shell's `nic`) agree on. Frames travel in fragments of
//! at most FRAG_MAX bytes behind an 8-byte header, so the protocol needs
//! neither page payloads nor more than MSG_INLINE_MAX (224) inline bytes:
//! it works the same on the MCU boards. Pure and host-tested: the header,
//! the reassembly of a fragment sequence into a buffer, the cutting of a
//! frame into fragments, and the NIC_INFO reply.

use crate::abi::*;
use crate::error::{Error, Result};

/// Service name a NIC driver registers.
pub const NIC_SERVICE: &str = "nic";

/// Claim the device for this connection: arg 0; -E_BUSY while another
/// live connection holds it. Frames (NIC_TX, NIC_RECV) need the claim.
pub const NIC_OPEN: u16 = 0x0a01;
/// Any connection: reply data = NicInfo (NIC_INFO_SIZE bytes).
pub const NIC_INFO: u16 = 0x0a02;
/// A fragment of a frame to send: FragHeader + 1..=FRAG_MAX bytes. Reply
/// arg: 0 (taken; the frame went to the ring when this was its last
/// fragment), -E_WOULDBLOCK (first fragment while the transmit ring is
/// full: nothing taken, send it again later), -E_INVAL (a malformed
/// fragment: the frame so far is dropped and counted in tx_malformed),
/// -E_PERM (this connection did not NIC_OPEN).
pub const NIC_TX: u16 = 0x0a03;
/// The next fragment of the oldest received frame: reply data =
/// FragHeader + 1..=FRAG_MAX bytes, or no data (arg 0) when no frame is
/// pending. -E_PERM without NIC_OPEN.
pub const NIC_RECV: u16 = 0x0a04;

/// Notification bit the driver sets on its client's channel when received
/// frames wait (NIC_RECV them until the reply is empty).
pub const NIC_NOTIFY_RX: u64 = 1 << 8;

/// Bytes of frame data one fragment carries at most.
pub const FRAG_MAX: usize = 216;
/// Size of the fragment header.
pub const FRAG_HEADER: usize = 8;
/// Largest Ethernet frame (without FCS) the protocol carries: MTU 1500 +
/// 14 bytes of header.
pub const FRAME_MAX: usize = 1514;
/// Smallest: an Ethernet header.
pub const FRAME_MIN: usize = 14;

const _: () = assert!(FRAG_HEADER + FRAG_MAX <= MSG_INLINE_MAX);

/// The header before each fragment's bytes: u16 total frame length, u16
/// offset of this fragment in the frame, u32 reserved (0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragHeader {
    pub frame_len: u16,
    pub offset: u16,
}

impl FragHeader {
    pub fn encode(&self) -> [u8; FRAG_HEADER] {
        let mut b = [0u8; FRAG_HEADER];
        b[0..2].copy_from_slice(&self.frame_len.to_le_bytes());
        b[2..4].copy_from_slice(&self.offset.to_le_bytes());
        b
    }

    /// The header and the fragment's bytes of a request or reply payload;
    /// None when shorter than a header or with reserved bits set.
    pub fn decode(p: &[u8]) -> Option<(FragHeader, &[u8])> {
        if p.len() < FRAG_HEADER || p[4..8] != [0; 4] {
            return None;
        }
        let h = FragHeader { frame_len: u16::from_le_bytes([p[0], p[1]]), offset: u16::from_le_bytes([p[2], p[3]]) };
        Some((h, &p[FRAG_HEADER..]))
    }
}

/// What one fragment did to the frame being put together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// Taken; more to come.
    Partial,
    /// The frame is whole: this many bytes in the buffer.
    Complete(usize),
    /// Out of sequence, too long, a bad length: the frame so far is
    /// dropped (the next frame starts with offset 0).
    Malformed,
}

/// Puts a frame together from fragments sent in order (offset 0, then
/// each at the end of the previous). Any deviation drops the frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct Assembler {
    frame_len: usize,
    got: usize,
}

impl Assembler {
    pub const fn new() -> Assembler {
        Assembler { frame_len: 0, got: 0 }
    }

    /// A frame is partly here.
    pub fn in_progress(&self) -> bool {
        self.got > 0
    }

    /// Forget the frame in progress.
    pub fn reset(&mut self) {
        *self = Assembler::new();
    }

    /// Whether a fragment would start a new frame (the driver checks
    /// there is room for one before taking it).
    pub fn starts_frame(h: &FragHeader) -> bool {
        h.offset == 0
    }

    /// Take fragment (h, data) into `buf` (at least FRAME_MAX bytes).
    pub fn feed(&mut self, h: &FragHeader, data: &[u8], buf: &mut [u8]) -> Feed {
        let (len, off) = (h.frame_len as usize, h.offset as usize);
        let bad = data.is_empty()
            || data.len() > FRAG_MAX
            || !(FRAME_MIN..=FRAME_MAX).contains(&len)
            || len > buf.len()
            || off + data.len() > len
            || (off == 0 && self.in_progress())   // a new frame before the last was whole
            || (off != 0 && (off != self.got || len != self.frame_len));
        if bad {
            self.reset();
            return Feed::Malformed;
        }
        buf[off..off + data.len()].copy_from_slice(data);
        self.frame_len = len;
        self.got = off + data.len();
        if self.got == len {
            self.reset();
            Feed::Complete(len)
        } else {
            Feed::Partial
        }
    }
}

/// The fragment of a `frame_len`-byte frame that starts at `offset`: its
/// header and the range of frame bytes it carries; None past the end.
pub fn fragment(frame_len: usize, offset: usize) -> Option<(FragHeader, core::ops::Range<usize>)> {
    if offset >= frame_len || frame_len > FRAME_MAX {
        return None;
    }
    let end = frame_len.min(offset + FRAG_MAX);
    Some((FragHeader { frame_len: frame_len as u16, offset: offset as u16 }, offset..end))
}

/// A fragment message (NIC_TX request or NIC_RECV reply) of `frame`.
pub fn fragment_msg(label: u16, frame: &[u8], offset: usize) -> Option<Msg> {
    let (h, r) = fragment(frame.len(), offset)?;
    let mut m = Msg::new(label);
    m.push_bytes(&h.encode()).ok()?;
    m.push_bytes(&frame[r]).ok()?;
    Some(m)
}

/// Pull one whole received frame into `buf` (at least FRAME_MAX bytes),
/// one `recv` (a NIC_RECV call) per fragment. Ok(None): no frame waits.
/// A fragment sequence that does not put a frame together (the driver
/// restarted in the middle, or misbehaves) is Err(Inval): that frame is
/// lost, the next pull starts afresh.
pub fn pull_frame(buf: &mut [u8], mut recv: impl FnMut() -> Result<Msg>) -> Result<Option<usize>> {
    let mut asm = Assembler::new();
    // Every fragment carries at least one byte: FRAME_MAX calls at most.
    for _ in 0..=FRAME_MAX {
        let m = recv()?;
        m.result()?;
        if m.len == 0 {
            return if asm.in_progress() { Err(Error::Inval) } else { Ok(None) };
        }
        let (h, d) = FragHeader::decode(m.payload()).ok_or(Error::Inval)?;
        match asm.feed(&h, d, buf) {
            Feed::Partial => {}
            Feed::Complete(n) => return Ok(Some(n)),
            Feed::Malformed => return Err(Error::Inval),
        }
    }
    Err(Error::Inval)
}

/// Send `frame` in fragments, one `send` (a NIC_TX call returning the
/// reply's result) each. Err(WouldBlock) when the driver's ring is full
/// (nothing was taken: the caller may try again later); other errors as
/// the driver answered.
pub fn push_frame(frame: &[u8], mut send: impl FnMut(&Msg) -> Result<u64>) -> Result<()> {
    if !(FRAME_MIN..=FRAME_MAX).contains(&frame.len()) {
        return Err(Error::Inval);
    }
    let mut off = 0;
    while let Some(m) = fragment_msg(NIC_TX, frame, off) {
        send(&m)?;
        off += m.len as usize - FRAG_HEADER;
    }
    Ok(())
}

/// Counters and state of a NIC (NIC_INFO reply data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NicInfo {
    pub mac: [u8; 6],
    pub link_up: bool,
    pub mtu: u16,
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Frames the device dropped: no free receive descriptor (the client
    /// did not keep up).
    pub rx_drops: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    /// Malformed NIC_TX fragment sequences dropped.
    pub tx_malformed: u64,
}

/// Bytes of a NIC_INFO reply: mac[6], u8 link, u8 0, u16 mtu, u16 0, u32 0,
/// then eight u64 counters in the order of NicInfo.
pub const NIC_INFO_SIZE: usize = 16 + 8 * 8;

impl NicInfo {
    pub fn to_msg(&self) -> Msg {
        let mut m = Msg::new(NIC_INFO);
        let mut head = [0u8; 16];
        head[..6].copy_from_slice(&self.mac);
        head[6] = self.link_up as u8;
        head[8..10].copy_from_slice(&self.mtu.to_le_bytes());
        let _ = m.push_bytes(&head);
        for v in [self.rx_frames, self.rx_bytes, self.tx_frames, self.tx_bytes, self.rx_drops, self.rx_errors, self.tx_errors, self.tx_malformed] {
            let _ = m.push_u64(v);
        }
        m
    }

    pub fn parse(m: &Msg) -> Result<NicInfo> {
        let p = m.payload();
        if p.len() != NIC_INFO_SIZE {
            return Err(Error::Inval);
        }
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&p[..6]);
        let c = |i: usize| m.get_u64(16 + 8 * i).unwrap_or(0);
        Ok(NicInfo {
            mac,
            link_up: p[6] != 0,
            mtu: u16::from_le_bytes([p[8], p[9]]),
            rx_frames: c(0),
            rx_bytes: c(1),
            tx_frames: c(2),
            tx_bytes: c(3),
            rx_drops: c(4),
            rx_errors: c(5),
            tx_errors: c(6),
            tx_malformed: c(7),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> [u8; FRAME_MAX] {
        let mut f = [0u8; FRAME_MAX];
        for (i, b) in f.iter_mut().enumerate().take(n) {
            *b = (i * 7 + 3) as u8;
        }
        f
    }

    /// Feed every fragment of `src[..n]` as fragment_msg cuts it.
    fn send_all(a: &mut Assembler, src: &[u8], buf: &mut [u8]) -> Vec<Feed> {
        let mut out = vec![];
        let mut off = 0;
        while let Some(m) = fragment_msg(NIC_TX, src, off) {
            let (h, d) = FragHeader::decode(m.payload()).unwrap();
            assert!(d.len() <= FRAG_MAX && m.len as usize <= MSG_INLINE_MAX);
            out.push(a.feed(&h, d, buf));
            off += d.len();
        }
        out
    }

    #[test]
    fn header_round_trips_and_refuses_junk() {
        let h = FragHeader { frame_len: 1514, offset: 432 };
        let mut p = h.encode().to_vec();
        p.extend_from_slice(b"abc");
        assert_eq!(FragHeader::decode(&p), Some((h, &b"abc"[..])));
        assert_eq!(FragHeader::decode(&p[..7]), None);
        p[5] = 1;
        assert_eq!(FragHeader::decode(&p), None);
    }

    #[test]
    fn frames_of_every_size_reassemble_exactly() {
        for n in [FRAME_MIN, 60, FRAG_MAX, FRAG_MAX + 1, 2 * FRAG_MAX, 1000, FRAME_MAX] {
            let src = frame(n);
            let mut buf = [0u8; FRAME_MAX];
            let mut a = Assembler::new();
            let feeds = send_all(&mut a, &src[..n], &mut buf);
            assert_eq!(feeds.len(), n.div_ceil(FRAG_MAX));
            assert_eq!(*feeds.last().unwrap(), Feed::Complete(n));
            assert!(feeds[..feeds.len() - 1].iter().all(|f| *f == Feed::Partial));
            assert_eq!(&buf[..n], &src[..n]);
            assert!(!a.in_progress());
        }
    }

    #[test]
    fn malformed_sequences_are_dropped_and_the_next_frame_works() {
        let src = frame(600);
        let mut buf = [0u8; FRAME_MAX];
        let mut a = Assembler::new();
        let h = |len: u16, off: u16| FragHeader { frame_len: len, offset: off };
        // A gap, a repeat, a changed length, a fragment past the end,
        // too short / too long frames, empty and oversized fragments.
        assert_eq!(a.feed(&h(600, 0), &src[..216], &mut buf), Feed::Partial);
        assert_eq!(a.feed(&h(600, 300), &src[300..400], &mut buf), Feed::Malformed);
        assert!(!a.in_progress());
        assert_eq!(a.feed(&h(600, 0), &src[..216], &mut buf), Feed::Partial);
        assert_eq!(a.feed(&h(600, 0), &src[..216], &mut buf), Feed::Malformed);
        assert_eq!(a.feed(&h(600, 0), &src[..216], &mut buf), Feed::Partial);
        assert_eq!(a.feed(&h(601, 216), &src[216..400], &mut buf), Feed::Malformed);
        assert_eq!(a.feed(&h(100, 0), &src[..101], &mut buf), Feed::Malformed);
        assert_eq!(a.feed(&h(13, 0), &src[..13], &mut buf), Feed::Malformed);
        assert_eq!(a.feed(&h(1515, 0), &src[..100], &mut buf), Feed::Malformed);
        assert_eq!(a.feed(&h(600, 0), &[], &mut buf), Feed::Malformed);
        let big = [0u8; FRAG_MAX + 1];
        assert_eq!(a.feed(&h(1000, 0), &big, &mut buf), Feed::Malformed);
        assert_eq!(a.feed(&h(600, 216), &src[216..300], &mut buf), Feed::Malformed);  // no start
        let mut small = [0u8; 100];
        assert_eq!(a.feed(&h(600, 0), &src[..50], &mut small), Feed::Malformed);  // buffer too small
        // Whole frames still go through afterwards.
        let feeds = send_all(&mut a, &src[..600], &mut buf);
        assert_eq!(*feeds.last().unwrap(), Feed::Complete(600));
        assert_eq!(&buf[..600], &src[..600]);
    }

    #[test]
    fn fragment_cuts_and_stops() {
        assert_eq!(fragment(500, 0).unwrap().1, 0..216);
        assert_eq!(fragment(500, 432).unwrap().1, 432..500);
        assert!(fragment(500, 500).is_none());
        assert!(fragment(FRAME_MAX + 1, 0).is_none());
    }

    #[test]
    fn info_round_trips() {
        let i = NicInfo {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
            link_up: true,
            mtu: 1500,
            rx_frames: 3,
            rx_bytes: 180,
            tx_frames: 1,
            tx_bytes: 60,
            rx_drops: 7,
            rx_errors: 8,
            tx_errors: 9,
            tx_malformed: 10,
        };
        let m = i.to_msg();
        assert_eq!(m.len as usize, NIC_INFO_SIZE);
        assert_eq!(NicInfo::parse(&m), Ok(i));
        let mut short = m;
        short.len -= 1;
        assert_eq!(NicInfo::parse(&short), Err(Error::Inval));
    }

    #[test]
    fn pull_and_push_carry_frames_through_fragments() {
        for n in [FRAME_MIN, 216, 217, 1042, FRAME_MAX] {
            let src = frame(n);
            let mut sent = vec![];
            push_frame(&src[..n], |m| {
                sent.push(*m);
                Ok(0)
            })
            .unwrap();
            assert_eq!(sent.len(), n.div_ceil(FRAG_MAX));
            let mut replies = sent.clone().into_iter().map(|mut m| {
                m.label = NIC_RECV;
                m
            });
            let mut buf = [0u8; FRAME_MAX];
            let got = pull_frame(&mut buf, || Ok(replies.next().unwrap_or(Msg::new(NIC_RECV)))).unwrap();
            assert_eq!(got, Some(n));
            assert_eq!(&buf[..n], &src[..n]);
        }
        // Nothing waiting; the driver's error; a frame cut short.
        let mut buf = [0u8; FRAME_MAX];
        assert_eq!(pull_frame(&mut buf, || Ok(Msg::new(NIC_RECV))), Ok(None));
        assert_eq!(pull_frame(&mut buf, || Err(Error::Closed)), Err(Error::Closed));
        let first = fragment_msg(NIC_RECV, &frame(500)[..500], 0).unwrap();
        let mut seq = [first, Msg::new(NIC_RECV)].into_iter();
        assert_eq!(pull_frame(&mut buf, || Ok(seq.next().unwrap())), Err(Error::Inval));
        // A full ring: nothing taken, the error comes back.
        let mut calls = 0;
        assert_eq!(push_frame(&frame(300)[..300], |_| { calls += 1; Err(Error::WouldBlock) }), Err(Error::WouldBlock));
        assert_eq!(calls, 1);
        assert_eq!(push_frame(&[0u8; 10], |_| Ok(0)), Err(Error::Inval));
    }
}
