//! lan9118.rs - the pure parts of the SMSC LAN9118 driver (mps2-an386's
//! on-board Ethernet controller; QEMU's `lan9118` model): register
//! offsets and bits (SMSC LAN9118 datasheet, "System Control and Status
//! Registers", "MAC Control and Status Registers", "PHY Registers"), the
//! RX status word, the TX command words A and B, the word counts of the
//! FIFOs, and the MAC address as the ADDRH/ADDRL registers hold it. The
//! driver (userland/drivers/lan9118) does the register accesses; all the
//! arithmetic it depends on is here and host-tested.
//!
//! The chip has no DMA: frames move through 32-bit FIFO ports. A received
//! frame is a status word (RX_STATUS_FIFO) and `rx_words(len)` data words
//! (RX_DATA_FIFO: the frame, then its 4-byte FCS, the last word padded);
//! a frame to send is command A, command B and `tx_words(len)` data words
//! written to TX_DATA_FIFO. Bytes are little-endian within a word.

/// The register block: 256 bytes (a power of two, so one MPU region).
pub const REGS_SIZE: u32 = 0x100;

// System control and status registers (byte offsets).
pub const RX_DATA_FIFO: u32 = 0x00;
pub const TX_DATA_FIFO: u32 = 0x20;
pub const RX_STATUS_FIFO: u32 = 0x40;
pub const TX_STATUS_FIFO: u32 = 0x48;
pub const ID_REV: u32 = 0x50;
pub const IRQ_CFG: u32 = 0x54;
pub const INT_STS: u32 = 0x58;
pub const INT_EN: u32 = 0x5c;
pub const BYTE_TEST: u32 = 0x64;
pub const FIFO_INT: u32 = 0x68;
pub const RX_CFG: u32 = 0x6c;
pub const TX_CFG: u32 = 0x70;
pub const HW_CFG: u32 = 0x74;
pub const RX_FIFO_INF: u32 = 0x7c;
pub const TX_FIFO_INF: u32 = 0x80;
pub const PMT_CTRL: u32 = 0x84;
pub const RX_DROP: u32 = 0xa0;
pub const MAC_CSR_CMD: u32 = 0xa4;
pub const MAC_CSR_DATA: u32 = 0xa8;

/// BYTE_TEST always reads this (whatever the bus's byte order).
pub const BYTE_TEST_VALUE: u32 = 0x8765_4321;

// IRQ_CFG: the IRQ pin enabled, active high, push-pull. (QEMU's model
// drives its line inverted unless both POL and TYPE are set.)
pub const IRQ_CFG_IRQ_EN: u32 = 1 << 8;
pub const IRQ_CFG_IRQ_POL: u32 = 1 << 4;
pub const IRQ_CFG_IRQ_TYPE: u32 = 1 << 0;

// INT_STS / INT_EN.
pub const INT_RXE: u32 = 1 << 14;
pub const INT_TXE: u32 = 1 << 13;
pub const INT_RXDF: u32 = 1 << 6;
pub const INT_RSFL: u32 = 1 << 3;

pub const HW_CFG_SRST: u32 = 1 << 0;
pub const PMT_CTRL_READY: u32 = 1 << 0;
pub const TX_CFG_TX_ON: u32 = 1 << 1;
/// TX status FIFO may overrun: the driver reads it when it likes.
pub const TX_CFG_TXSAO: u32 = 1 << 2;

// MAC_CSR_CMD: indirect access to the MAC's registers.
pub const MAC_CSR_BUSY: u32 = 1 << 31;
pub const MAC_CSR_READ: u32 = 1 << 30;
pub const MAC_CR: u8 = 1;
pub const MAC_ADDRH: u8 = 2;
pub const MAC_ADDRL: u8 = 3;
pub const MAC_MII_ACC: u8 = 6;
pub const MAC_MII_DATA: u8 = 7;

pub const MAC_CR_FDPX: u32 = 1 << 20;
pub const MAC_CR_PRMS: u32 = 1 << 18;
pub const MAC_CR_TXEN: u32 = 1 << 3;
pub const MAC_CR_RXEN: u32 = 1 << 2;

// The internal PHY (address 1) behind MII_ACC / MII_DATA.
pub const PHY_ADDR: u32 = 1;
pub const PHY_BCR: u32 = 0;
pub const PHY_BSR: u32 = 1;
pub const PHY_ANAR: u32 = 4;
pub const PHY_BCR_ANENABLE: u32 = 1 << 12;
pub const PHY_BCR_ANRESTART: u32 = 1 << 9;
pub const PHY_BSR_LINK: u32 = 1 << 2;
/// Advertise 10/100, half and full duplex, IEEE 802.3.
pub const PHY_ANAR_ALL: u32 = 0x01e1;
pub const MII_ACC_BUSY: u32 = 1 << 0;
pub const MII_ACC_WRITE: u32 = 1 << 1;

/// MAC_CSR_CMD word: start an access to MAC register `reg`.
pub fn mac_csr_cmd(reg: u8, read: bool) -> u32 {
    MAC_CSR_BUSY | if read { MAC_CSR_READ } else { 0 } | reg as u32
}

/// MII_ACC word: an access to PHY register `reg` (0..31) of the internal PHY.
pub fn mii_acc(reg: u32, write: bool) -> u32 {
    PHY_ADDR << 11 | (reg & 0x1f) << 6 | if write { MII_ACC_WRITE } else { 0 } | MII_ACC_BUSY
}

/// The chip families that answer like a LAN9118 (ID_REV's upper half):
/// LAN9115..LAN9118 and the LAN9215..LAN9221 (the MPS2 has a LAN9220).
pub fn known_chip(id_rev: u32) -> bool {
    matches!(id_rev >> 16, 0x0115..=0x0118 | 0x9215..=0x9221)
}

/// The FCS the chip leaves at the end of every received frame.
pub const FCS: usize = 4;

/// Data FIFO words of `bytes` bytes (RX: the frame with its FCS; TX: the
/// frame) when the data starts on a word boundary (RX_CFG offset 0, TX
/// command A offset 0, end alignment 4 bytes).
pub const fn words(bytes: usize) -> usize {
    bytes.div_ceil(4)
}

/// What the RX status word says about one received frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxStatus {
    /// The frame in the data FIFO, FCS included (the status word's
    /// packet length, bits 29:16).
    pub packet_len: usize,
    /// Error summary (bit 15): CRC error, runt, too long, collision, MII
    /// error, or a length field that does not match.
    pub error: bool,
    /// Filtering failed (bit 30): only seen when receiving all frames.
    pub filter_fail: bool,
}

pub const RXS_FILTER_FAIL: u32 = 1 << 30;
pub const RXS_ERROR: u32 = 1 << 15;

impl RxStatus {
    pub fn parse(word: u32) -> RxStatus {
        RxStatus {
            packet_len: ((word >> 16) & 0x3fff) as usize,
            error: word & RXS_ERROR != 0,
            filter_fail: word & RXS_FILTER_FAIL != 0,
        }
    }

    /// Words of this frame in the data FIFO (what must be read, or the
    /// FIFO loses step with the status words).
    pub fn fifo_words(&self) -> usize {
        words(self.packet_len)
    }

    /// The frame without its FCS when it is one the protocol carries
    /// (runtime::nic FRAME_MIN..=FRAME_MAX, no error, passed the filter).
    pub fn frame_len(&self) -> Option<usize> {
        let len = self.packet_len.checked_sub(FCS)?;
        let ok = !self.error && !self.filter_fail && (crate::nic::FRAME_MIN..=crate::nic::FRAME_MAX).contains(&len);
        ok.then_some(len)
    }
}

// TX command A / B (datasheet "TX Command Format").
pub const TXA_IOC: u32 = 1 << 31;
pub const TXA_FIRST: u32 = 1 << 13;
pub const TXA_LAST: u32 = 1 << 12;

/// Command A of a frame sent as one buffer: first and last segment, end
/// alignment 4 bytes, data offset 0, buffer size `len`.
pub fn tx_cmd_a(len: usize) -> u32 {
    TXA_FIRST | TXA_LAST | (len as u32 & 0x7ff)
}

/// Command B: the packet tag (echoed in the TX status word; the driver
/// uses the length) and the packet length; FCS added, short frames padded.
pub fn tx_cmd_b(len: usize) -> u32 {
    (len as u32 & 0xffff) << 16 | (len as u32 & 0x7ff)
}

/// Bytes of TX data FIFO a frame takes (command words included): what
/// TX_FIFO_INF's free space must hold before it is written.
pub fn tx_fifo_bytes(len: usize) -> usize {
    8 + 4 * words(len)
}

/// TX_FIFO_INF: free bytes of the TX data FIFO (bits 15:0) and TX status
/// words waiting (bits 23:16).
pub fn tx_fifo_free(inf: u32) -> usize {
    (inf & 0xffff) as usize
}
pub fn tx_status_used(inf: u32) -> usize {
    ((inf >> 16) & 0xff) as usize
}

/// RX_FIFO_INF: RX status words waiting (bits 23:16).
pub fn rx_status_used(inf: u32) -> usize {
    ((inf >> 16) & 0xff) as usize
}

/// TX status word: error summary (bit 15).
pub fn tx_status_error(word: u32) -> bool {
    word & (1 << 15) != 0
}

/// The little-endian word of up to 4 bytes (the rest zero): what the TX
/// data FIFO takes.
pub fn word_of(bytes: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    let n = bytes.len().min(4);
    w[..n].copy_from_slice(&bytes[..n]);
    u32::from_le_bytes(w)
}

/// Put an RX data FIFO word's bytes into `out` (at most 4; fewer for the
/// last word of a fragment).
pub fn bytes_of(word: u32, out: &mut [u8]) {
    let b = word.to_le_bytes();
    let n = out.len().min(4);
    out[..n].copy_from_slice(&b[..n]);
}

/// The MAC address as ADDRL (bytes 0..4) and ADDRH (bytes 4..6) hold it.
pub fn mac_to_regs(mac: &[u8; 6]) -> (u32, u32) {
    (u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]), u16::from_le_bytes([mac[4], mac[5]]) as u32)
}

pub fn mac_from_regs(addrl: u32, addrh: u32) -> [u8; 6] {
    let l = addrl.to_le_bytes();
    let h = addrh.to_le_bytes();
    [l[0], l[1], l[2], l[3], h[0], h[1]]
}

/// A MAC a station may use: not all zeros, not broadcast or multicast.
pub fn mac_usable(mac: &[u8; 6]) -> bool {
    *mac != [0; 6] && mac[0] & 1 == 0
}

/// The MAC the driver sets when the chip has none (no EEPROM): locally
/// administered, "NAGI" in the middle.
pub const FALLBACK_MAC: [u8; 6] = [0x02, 0x4e, 0x41, 0x47, 0x49, 0x01];

/// Reading one received frame out of the data FIFO in fragments: how many
/// frame bytes the next fragment carries and how many FIFO words that
/// takes, and how many words are left to discard (the FCS, the padding)
/// once the frame is whole. Fragment offsets are multiples of FRAG_MAX
/// (216, a multiple of 4), so every fragment starts on a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxFrame {
    /// Frame bytes (no FCS) and FIFO words of the whole frame.
    pub len: usize,
    pub fifo_words: usize,
    /// Frame bytes handed out so far and FIFO words read so far.
    pub off: usize,
    pub read: usize,
}

const _: () = assert!(crate::nic::FRAG_MAX % 4 == 0);

impl RxFrame {
    pub fn new(st: &RxStatus) -> RxFrame {
        RxFrame { len: st.packet_len.saturating_sub(FCS), fifo_words: st.fifo_words(), off: 0, read: 0 }
    }

    /// (bytes, words) of the next fragment; (0, 0) when the frame is out.
    pub fn next_fragment(&self) -> (usize, usize) {
        let n = self.len.saturating_sub(self.off).min(crate::nic::FRAG_MAX);
        (n, words(n))
    }

    /// Record a fragment of `bytes` read in `words` words.
    pub fn took(&mut self, bytes: usize, words: usize) {
        self.off += bytes;
        self.read += words;
    }

    /// Every frame byte handed out.
    pub fn done(&self) -> bool {
        self.off >= self.len
    }

    /// FIFO words still to read (and drop) to reach the next frame.
    pub fn rest_words(&self) -> usize {
        self.fifo_words.saturating_sub(self.read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nic::{FRAG_MAX, FRAME_MAX};

    #[test]
    fn rx_status_words_parse() {
        // QEMU: (size + 4) << 16, broadcast bit 13 set.
        let st = RxStatus::parse((60 + 4) << 16 | 1 << 13);
        assert_eq!(st, RxStatus { packet_len: 64, error: false, filter_fail: false });
        assert_eq!(st.frame_len(), Some(60));
        assert_eq!(st.fifo_words(), 16);
        let st = RxStatus::parse((98 + 4) << 16);
        assert_eq!((st.frame_len(), st.fifo_words()), (Some(98), 26)); // 102 bytes -> 26 words
        assert_eq!(RxStatus::parse((1042 + 4) << 16).fifo_words(), 262);
        // Errors, filter failures, runts and giants are not frames (but
        // their words must still be read).
        let bad = RxStatus::parse((100 << 16) | RXS_ERROR);
        assert!(bad.error && bad.frame_len().is_none() && bad.fifo_words() == 25);
        assert!(RxStatus::parse((100 << 16) | RXS_FILTER_FAIL).frame_len().is_none());
        assert!(RxStatus::parse((13 + 4) << 16).frame_len().is_none());
        assert!(RxStatus::parse(((FRAME_MAX + 1 + 4) as u32) << 16).frame_len().is_none());
        assert_eq!(RxStatus::parse(((FRAME_MAX + 4) as u32) << 16).frame_len(), Some(FRAME_MAX));
        assert!(RxStatus::parse(2 << 16).frame_len().is_none()); // shorter than the FCS
        // The length field is 14 bits: bit 30 and 31 are not part of it.
        assert_eq!(RxStatus::parse(0xffff_0000).packet_len, 0x3fff);
    }

    #[test]
    fn tx_command_words() {
        assert_eq!(tx_cmd_a(60), 0x0000_3000 | 60);
        assert_eq!(tx_cmd_b(60), 60 << 16 | 60);
        assert_eq!(tx_cmd_a(1514) & 0x7ff, 1514);
        assert_eq!(tx_cmd_b(1514), 1514 << 16 | 1514);
        // No offset, 4-byte end alignment, no IOC.
        assert_eq!(tx_cmd_a(1514) & (0x1f << 16 | 3 << 24 | TXA_IOC), 0);
        assert_eq!(tx_fifo_bytes(14), 8 + 16);
        assert_eq!(tx_fifo_bytes(1514), 8 + 1516);
        assert_eq!(tx_fifo_free(0x0012_1200), 0x1200);
        assert_eq!(tx_status_used(0x0012_1200), 0x12);
        assert_eq!(rx_status_used(0x0003_0400), 3);
        assert!(tx_status_error(0x8000) && !tx_status_error(0x05ea_0000));
    }

    #[test]
    fn words_pack_little_endian_and_pad() {
        assert_eq!(word_of(&[1, 2, 3, 4]), 0x0403_0201);
        assert_eq!(word_of(&[1, 2]), 0x0201);
        assert_eq!(word_of(&[]), 0);
        let mut out = [0u8; 3];
        bytes_of(0x0403_0201, &mut out);
        assert_eq!(out, [1, 2, 3]);
        for n in 0..9 {
            assert_eq!(words(n), (n + 3) / 4);
        }
    }

    #[test]
    fn mac_registers_round_trip() {
        let mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        let (l, h) = mac_to_regs(&mac);
        assert_eq!((l, h), (0x1200_5452, 0x5634));
        assert_eq!(mac_from_regs(l, h | 0xffff_0000), mac);
        assert!(mac_usable(&mac) && mac_usable(&FALLBACK_MAC));
        assert!(!mac_usable(&[0; 6]) && !mac_usable(&[0xff; 6]) && !mac_usable(&[1, 0, 0x5e, 0, 0, 1]));
    }

    #[test]
    fn indirect_access_words() {
        assert_eq!(mac_csr_cmd(MAC_ADDRL, true), 0xc000_0003);
        assert_eq!(mac_csr_cmd(MAC_CR, false), 0x8000_0001);
        assert_eq!(mii_acc(PHY_BSR, false), 1 << 11 | 1 << 6 | 1);
        assert_eq!(mii_acc(PHY_BCR, true), 1 << 11 | 2 | 1);
        assert!(known_chip(0x0118_0001) && known_chip(0x9220_0000) && !known_chip(0) && !known_chip(0xffff_ffff));
    }

    /// A fake data FIFO holding frames as QEMU's model lays them out:
    /// frame bytes, the FCS, the last word zero-padded.
    fn fifo_of(frame: &[u8]) -> Vec<u32> {
        let mut b = frame.to_vec();
        b.extend_from_slice(&[0xf1, 0xf2, 0xf3, 0xf4]);
        b.chunks(4).map(word_of).collect()
    }

    #[test]
    fn frames_read_in_fragments_keep_the_fifo_in_step() {
        for n in [14, 15, 60, 61, 62, 63, FRAG_MAX, FRAG_MAX + 1, 1042, FRAME_MAX - 1, FRAME_MAX] {
            let frame: Vec<u8> = (0..n).map(|i| (i * 13 + 1) as u8).collect();
            let mut fifo = fifo_of(&frame);
            fifo.push(0xdead_beef); // the next frame's first word
            let st = RxStatus::parse(((n + FCS) as u32) << 16);
            let mut f = RxFrame::new(&st);
            let (mut got, mut pos, mut frags) = (Vec::new(), 0, 0);
            while !f.done() {
                let (bytes, w) = f.next_fragment();
                assert!(bytes > 0 && bytes <= FRAG_MAX && f.off % 4 == 0);
                let mut buf = [0u8; FRAG_MAX];
                for i in 0..w {
                    let end = (4 * i + 4).min(bytes);
                    bytes_of(fifo[pos], &mut buf[4 * i..end]);
                    pos += 1;
                }
                got.extend_from_slice(&buf[..bytes]);
                f.took(bytes, w);
                frags += 1;
            }
            pos += f.rest_words();
            assert_eq!(got, frame, "{n}");
            assert_eq!(frags, n.div_ceil(FRAG_MAX));
            assert_eq!(fifo[pos], 0xdead_beef, "{n}: out of step");
            assert_eq!(f.next_fragment(), (0, 0));
        }
    }

    #[test]
    fn a_frame_dropped_unread_is_its_fifo_words() {
        let st = RxStatus::parse((98 + 4) << 16);
        let f = RxFrame::new(&st);
        assert_eq!(f.rest_words(), 26);
    }
}
