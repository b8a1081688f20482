//! lan9118 - the SMSC LAN9118 driver of boards whose board.toml [nic]
//! names model "lan9118" (mps2-an386: a LAN9220 on the board, QEMU's
//! `lan9118` model). It maps the chip's register block (KS_MMIO: one MPU
//! region, BOARD_NIC_BASE / BOARD_NIC_SIZE), soft-resets the chip, reads
//! the MAC (MAC_CSR ADDRH/ADDRL), starts the PHY's autonegotiation, turns
//! on the transmitter and receiver and the receive-status interrupt, and
//! serves "nic" (runtime::nic, docs/protocols.md "NIC drivers") to one
//! client through runtime::nic_server, exactly as the e1000 does on the
//! pc (this file is the hardware side: the FIFOs and registers).
//!
//! No DMA: frames move through the chip's FIFO ports, one 32-bit word at
//! a time (runtime::lan9118 has the arithmetic, host-tested). Receive:
//! the RX status FIFO says how long each frame is; the driver moves status
//! words into a small queue of its own as they come (counting the frames
//! then), and a client's NIC_RECV reads the next fragment of the oldest
//! frame straight from the RX data FIFO into the reply (every fragment
//! starts on a word: FRAG_MAX is a multiple of 4); after the last one it
//! reads and drops the frame's FCS word(s). Frames stay in the chip's RX
//! FIFO until pulled; when it is full the chip drops (counted in
//! RX_DROP). Transmit: fragments are put together in one frame buffer
//! (1514 bytes) and the whole frame goes to the TX data FIFO with command
//! words A and B; a first fragment while the FIFO lacks room for a
//! largest frame gets -E_WOULDBLOCK.
//!
//! The IRQ (BOARD_NIC_IRQ, an NVIC line) arrives as NOTIFY_IRQ on the
//! listening channel; INT_STS is acknowledged by writing back its bits.
//! Killed, init restarts it; the new instance starts with a soft reset.
#![no_std]
#![no_main]

use runtime::lan9118::*;
use runtime::mmio::Mmio;
use runtime::nic::*;
use runtime::nic_server::{serve_absent, Device, Server};
use runtime::{config, service, Error, Msg, Result};

runtime::entry!(main);

const MTU: u16 = 1500;
/// Status words of received frames the driver holds (frames whose data is
/// still in the chip's RX data FIFO, oldest first).
const RXQ: usize = 16;
/// Bounded waits: the soft reset (datasheet: under 1 ms after the chip is
/// ready) and one indirect MAC/PHY register access.
const RESET_WAIT_MS: u32 = 100;
const CSR_SPINS: u32 = 10_000;

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            runtime::debug_println!("lan9118: {}", e);
            1
        }
    }
}

struct Nic {
    regs: Mmio,
    /// Status words of received frames not yet handed out (a ring).
    rxq: [u32; RXQ],
    rxq_head: usize,
    rxq_len: usize,
    /// The frame being handed out in fragments (its status word was
    /// taken off rxq), if any.
    cur: Option<RxFrame>,
    tx_buf: [u8; FRAME_MAX],
    info: NicInfo,
    /// Whether a client holds the device (else received frames are dropped).
    held: bool,
}

fn run() -> Result<()> {
    let (base, size) = (config::BOARD_NIC_BASE, config::BOARD_NIC_SIZE);
    let regs = Mmio::map(base, size.max(REGS_SIZE))?;
    // BYTE_TEST reads the same fixed pattern whatever state the chip is in.
    let (test, id) = (regs.read(BYTE_TEST), regs.read(ID_REV));
    if test != BYTE_TEST_VALUE || !known_chip(id) {
        runtime::debug_println!(
            "lan9118: no LAN9118 at {:#x} (BYTE_TEST {:#010x}, ID_REV {:#010x}); network off",
            base, test, id
        );
        serve_absent();
    }
    let mut nic = Nic {
        regs,
        rxq: [0; RXQ],
        rxq_head: 0,
        rxq_len: 0,
        cur: None,
        tx_buf: [0; FRAME_MAX],
        info: NicInfo { mtu: MTU, ..Default::default() },
        held: false,
    };
    nic.reset()?;
    let m = nic.info.mac;
    runtime::debug_println!(
        "lan9118: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} irq {} link {} (id {:04x} rev {})",
        m[0], m[1], m[2], m[3], m[4], m[5], config::BOARD_NIC_IRQ,
        if nic.info.link_up { "up" } else { "down" }, id >> 16, id & 0xffff
    );
    Server::new(&mut nic)?.run(config::BOARD_NIC_IRQ)
}

impl Nic {
    /// Soft reset (also stops whatever a previous instance left running
    /// and empties the FIFOs), MAC, PHY, transmitter and receiver,
    /// interrupts.
    fn reset(&mut self) -> Result<()> {
        let r = &self.regs;
        // The IRQ pin: off, active high, push-pull (so the line is low
        // while disabled; QEMU's model holds it high otherwise).
        r.write(IRQ_CFG, IRQ_CFG_IRQ_POL | IRQ_CFG_IRQ_TYPE);
        r.write(INT_EN, 0);
        r.write(HW_CFG, HW_CFG_SRST);
        let mut waited = 0;
        // Until PMT_CTRL.READY only BYTE_TEST and PMT_CTRL may be read.
        while r.read(PMT_CTRL) & PMT_CTRL_READY == 0 || r.read(HW_CFG) & HW_CFG_SRST != 0 {
            if waited >= RESET_WAIT_MS {
                runtime::debug_println!("lan9118: soft reset did not finish in {} ms", RESET_WAIT_MS);
                return Err(Error::Busy);
            }
            let _ = service::sleep_ms(1);
            waited += 1;
        }
        r.write(IRQ_CFG, IRQ_CFG_IRQ_POL | IRQ_CFG_IRQ_TYPE);
        // The MAC the chip loaded (EEPROM) or the twin gave it; else ours.
        let mut mac = mac_from_regs(self.mac_read(MAC_ADDRL)?, self.mac_read(MAC_ADDRH)?);
        if !mac_usable(&mac) {
            mac = FALLBACK_MAC;
        }
        let (lo, hi) = mac_to_regs(&mac);
        self.mac_write(MAC_ADDRL, lo)?;
        self.mac_write(MAC_ADDRH, hi)?;
        self.info.mac = mac;
        // PHY: advertise 10/100 half/full, autonegotiate.
        self.phy_write(PHY_ANAR, PHY_ANAR_ALL)?;
        self.phy_write(PHY_BCR, PHY_BCR_ANENABLE | PHY_BCR_ANRESTART)?;
        self.info.link_up = self.link();
        // Receive frames to our MAC and broadcast (not promiscuous), full
        // duplex; transmit. FIFO data starts on a word (RX_CFG 0).
        self.mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX)?;
        let r = &self.regs;
        r.write(RX_CFG, 0);
        r.write(TX_CFG, TX_CFG_TX_ON | TX_CFG_TXSAO);
        // RX status level 0: RSFL as soon as one frame's status waits.
        r.write(FIFO_INT, r.read(FIFO_INT) & !0xff);
        let _ = r.read(RX_DROP); // clear on read
        r.write(INT_STS, 0xffff_ffff);
        r.write(INT_EN, INT_RSFL | INT_RXDF | INT_RXE | INT_TXE);
        r.write(IRQ_CFG, IRQ_CFG_IRQ_EN | IRQ_CFG_IRQ_POL | IRQ_CFG_IRQ_TYPE);
        self.rxq_head = 0;
        self.rxq_len = 0;
        self.cur = None;
        Ok(())
    }

    /// Wait (bounded) for MAC_CSR_CMD's busy bit to clear.
    fn mac_wait(&self) -> Result<()> {
        for _ in 0..CSR_SPINS {
            if self.regs.read(MAC_CSR_CMD) & MAC_CSR_BUSY == 0 {
                return Ok(());
            }
        }
        Err(Error::Busy)
    }

    fn mac_read(&self, reg: u8) -> Result<u32> {
        self.mac_wait()?;
        self.regs.write(MAC_CSR_CMD, mac_csr_cmd(reg, true));
        self.mac_wait()?;
        Ok(self.regs.read(MAC_CSR_DATA))
    }

    fn mac_write(&self, reg: u8, v: u32) -> Result<()> {
        self.mac_wait()?;
        self.regs.write(MAC_CSR_DATA, v);
        self.regs.write(MAC_CSR_CMD, mac_csr_cmd(reg, false));
        self.mac_wait()
    }

    /// Wait (bounded) for MII_ACC's busy bit to clear.
    fn mii_wait(&self) -> Result<()> {
        for _ in 0..CSR_SPINS / 10 {
            if self.mac_read(MAC_MII_ACC)? & MII_ACC_BUSY == 0 {
                return Ok(());
            }
        }
        Err(Error::Busy)
    }

    fn phy_read(&self, reg: u32) -> Result<u32> {
        self.mii_wait()?;
        self.mac_write(MAC_MII_ACC, mii_acc(reg, false))?;
        self.mii_wait()?;
        Ok(self.mac_read(MAC_MII_DATA)? & 0xffff)
    }

    fn phy_write(&self, reg: u32, v: u32) -> Result<()> {
        self.mii_wait()?;
        self.mac_write(MAC_MII_DATA, v)?;
        self.mac_write(MAC_MII_ACC, mii_acc(reg, true))?;
        self.mii_wait()
    }

    /// The PHY's link status (BSR; the bit latches low, so read twice).
    fn link(&self) -> bool {
        let _ = self.phy_read(PHY_BSR);
        self.phy_read(PHY_BSR).is_ok_and(|v| v & PHY_BSR_LINK != 0)
    }

    /// Move the chip's RX status words into rxq (counting the frames),
    /// then drop frames at the head that are bad or that no one will take.
    fn reap_rx(&mut self) {
        while self.rxq_len < RXQ && rx_status_used(self.regs.read(RX_FIFO_INF)) > 0 {
            let w = self.regs.read(RX_STATUS_FIFO);
            let st = RxStatus::parse(w);
            self.info.rx_frames += 1;
            self.info.rx_bytes += st.packet_len.saturating_sub(FCS) as u64;
            self.rxq[(self.rxq_head + self.rxq_len) % RXQ] = w;
            self.rxq_len += 1;
        }
        if !self.held {
            if let Some(f) = self.cur.take() {
                self.discard(f.rest_words()); // the rest of a frame half pulled
            }
        }
        while self.cur.is_none() && self.rxq_len > 0 {
            let st = RxStatus::parse(self.rxq[self.rxq_head]);
            let good = st.frame_len().is_some();
            if good && self.held {
                break;
            }
            if good {
                self.info.rx_drops += 1;
            } else {
                self.info.rx_errors += 1;
            }
            self.pop_status();
            self.discard(st.fifo_words());
        }
    }

    fn pop_status(&mut self) -> u32 {
        let w = self.rxq[self.rxq_head];
        self.rxq_head = (self.rxq_head + 1) % RXQ;
        self.rxq_len -= 1;
        w
    }

    /// Read and drop `words` words of the RX data FIFO.
    fn discard(&self, words: usize) {
        for _ in 0..words {
            let _ = self.regs.read(RX_DATA_FIFO);
        }
    }

    /// Read the TX status words the chip has written (errors counted).
    fn reap_tx(&mut self) {
        for _ in 0..tx_status_used(self.regs.read(TX_FIFO_INF)) {
            if tx_status_error(self.regs.read(TX_STATUS_FIFO)) {
                self.info.tx_errors += 1;
            }
        }
    }
}

impl Device for Nic {
    fn info(&mut self) -> &mut NicInfo {
        &mut self.info
    }

    fn interrupt(&mut self) {
        let r = &self.regs;
        let sts = r.read(INT_STS);
        r.write(INT_STS, sts); // write-1-to-clear
        if sts & (INT_RXE | INT_TXE) != 0 {
            // Underrun of the RX data FIFO or a TX error: the chip's own
            // accounting; counted, the FIFOs stay usable.
            if sts & INT_RXE != 0 {
                self.info.rx_errors += 1;
            }
            if sts & INT_TXE != 0 {
                self.info.tx_errors += 1;
            }
        }
        self.reap_rx();
    }

    /// Counters the chip keeps, the TX status words, the link.
    fn update(&mut self) {
        self.info.rx_drops += self.regs.read(RX_DROP) as u64;
        self.reap_tx();
        self.info.link_up = self.link();
        self.reap_rx();
    }

    fn rx_pending(&self) -> bool {
        self.cur.is_some() || self.rxq_len > 0
    }

    fn recv(&mut self) -> Msg {
        self.reap_rx();
        if self.cur.is_none() && self.rxq_len > 0 {
            let st = RxStatus::parse(self.pop_status());
            self.cur = Some(RxFrame::new(&st)); // reap_rx left only a good one at the head
        }
        let Some(mut f) = self.cur else { return Msg::new(NIC_RECV) };
        let (bytes, words) = f.next_fragment();
        let mut buf = [0u8; FRAG_MAX];
        for i in 0..words {
            let w = self.regs.read(RX_DATA_FIFO);
            bytes_of(w, &mut buf[4 * i..(4 * i + 4).min(bytes)]);
        }
        let m = match fragment(f.len, f.off) {
            Some((h, _)) => {
                let mut m = Msg::new(NIC_RECV);
                let _ = m.push_bytes(&h.encode());
                let _ = m.push_bytes(&buf[..bytes]);
                m
            }
            None => Msg::new(NIC_RECV),
        };
        f.took(bytes, words);
        if f.done() {
            self.discard(f.rest_words()); // the FCS
            self.cur = None;
        } else {
            self.cur = Some(f);
        }
        m
    }

    fn tx_room(&mut self) -> bool {
        self.reap_tx();
        tx_fifo_free(self.regs.read(TX_FIFO_INF)) >= tx_fifo_bytes(FRAME_MAX)
    }

    fn tx_buf(&mut self) -> &mut [u8] {
        &mut self.tx_buf
    }

    /// The whole frame to the TX data FIFO behind command words A and B.
    fn transmit(&mut self, len: usize) {
        let r = &self.regs;
        r.write(TX_DATA_FIFO, tx_cmd_a(len));
        r.write(TX_DATA_FIFO, tx_cmd_b(len));
        for chunk in self.tx_buf[..len].chunks(4) {
            r.write(TX_DATA_FIFO, word_of(chunk));
        }
    }

    fn holder_changed(&mut self, held: bool) {
        self.held = held;
        self.reap_rx();
    }
}
