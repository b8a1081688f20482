//! nic.rs - the `nic` command, a client of the NIC driver (runtime::nic,
//! docs/protocols.md "NIC drivers"; boards with a [nic], CONFIG_NIC):
//!   nic        -> `nic: mac 52:54:00:12:34:56 link up mtu 1500 rx N frames
//!                 B bytes tx N frames B bytes drops D errors E malformed M`
//!   nic recv MS -> claim the card, wait up to MS ms for NIC_NOTIFY_RX and
//!                 pull one frame in fragments: `nic: frame N bytes from
//!                 <mac> type 0x0800 in F fragments` or `nic: no frame`
//!   nic hold MS -> the slow reader: claim the card, pull nothing for MS ms
//!                 (frames pile up in the driver's ring or the chip's FIFO
//!                 until it is full), then pull every waiting frame:
//!                 `nic: held MS ms, pulled N frames B bytes, all whole`
//!   nic test   -> the hostile-client checks: a second claim is E_BUSY, a
//!                 client without the claim gets E_PERM, garbage fragment
//!                 sequences are refused and counted, a whole broadcast
//!                 frame still goes out; `nic test: ok` or
//!                 `nic test: FAILED: <what>`.

use crate::Services;
use runtime::nic::*;
use runtime::{config, println, service, Channel, Error, Msg, Result};

const NOT_AVAILABLE: &str = "nic: not available on this board";

fn info(ch: Channel) -> Result<NicInfo> {
    let mut m = Msg::new(NIC_INFO);
    ch.call(&mut m)?;
    m.result()?;
    NicInfo::parse(&m)
}

fn call(ch: Channel, mut m: Msg) -> Result<u64> {
    ch.call(&mut m)?;
    m.result()
}

pub fn run(svc: &mut Services, rest: &str) {
    if !config::CONFIG_NIC {
        return println!("{}", NOT_AVAILABLE);
    }
    match rest.trim() {
        "" => {
            let mut m = Msg::new(NIC_INFO);
            match svc.nic.call(&mut m).and_then(|_| m.result()).and_then(|_| NicInfo::parse(&m)) {
                Ok(i) => print_info(&i),
                Err(Error::NoEnt) => println!("nic: no card (E_NOENT)"),
                Err(e) => println!("nic: {}", e),
            }
        }
        r if r.starts_with("recv") => {
            let Some(ms) = runtime::args::words(r).nth(1).and_then(runtime::args::parse_u32) else {
                return println!("nic: usage: nic recv <ms>");
            };
            crate::netcmd::release_nic(svc, ms as u64 + 2000);
            match recv_one(ms) {
                Ok(()) => {}
                Err(e) => println!("nic: {}", e),
            }
        }
        r if r.starts_with("hold") => {
            let Some(ms) = runtime::args::words(r).nth(1).and_then(runtime::args::parse_u32) else {
                return println!("nic: usage: nic hold <ms>");
            };
            crate::netcmd::release_nic(svc, ms as u64 + 5000);
            match hold(ms) {
                Ok((n, bytes)) => println!("nic: held {} ms, pulled {} frames {} bytes, all whole", ms, n, bytes),
                Err(e) => println!("nic: hold: {}", e),
            }
        }
        "test" => match {
            crate::netcmd::release_nic(svc, 5000);
            test()
        } {
            Ok(()) => println!("nic test: ok"),
            Err(why) => println!("nic test: FAILED: {}", why),
        },
        _ => println!("nic: usage: nic [recv <ms> | hold <ms> | test]"),
    }
}

/// Claim the card on a channel of our own, wait for the driver's
/// NIC_NOTIFY_RX (or the timeout), then NIC_RECV one frame.
fn recv_one(ms: u32) -> Result<()> {
    let ch = service::lookup(NIC_SERVICE)?;
    let r = (|| {
        call(ch, Msg::new(NIC_OPEN))?;
        // Frames that came before the claim were dropped; wait for a new one.
        runtime::ks::timer(ch, ms)?;
        let mut m = Msg::new(0);
        loop {
            ch.recv(&mut m)?;
            if m.is_notification() && m.arg & NIC_NOTIFY_RX != 0 {
                break;
            }
            if m.is_notification() && m.arg & runtime::abi::NOTIFY_TIMER != 0 {
                println!("nic: no frame");
                return Ok(());
            }
        }
        let _ = runtime::ks::timer(ch, 0);
        let mut frame = [0u8; FRAME_MAX];
        let mut asm = Assembler::new();
        for frags in 1..=FRAME_MAX / FRAG_MAX + 1 {
            let mut m = Msg::new(NIC_RECV);
            ch.call(&mut m)?;
            m.result()?;
            let (h, data) = FragHeader::decode(m.payload()).ok_or(Error::Inval)?;
            match asm.feed(&h, data, &mut frame) {
                Feed::Partial => {}
                Feed::Complete(n) => {
                    let s = &frame[6..12];
                    println!(
                        "nic: frame {} bytes from {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} type 0x{:02x}{:02x} in {} fragments",
                        n, s[0], s[1], s[2], s[3], s[4], s[5], frame[12], frame[13], frags
                    );
                    return Ok(());
                }
                Feed::Malformed => return Err(Error::Inval),
            }
        }
        Err(Error::Inval)
    })();
    let _ = ch.close();
    r
}

/// Most frames `nic hold` pulls (a ring's or a FIFO's worth is far less).
const HOLD_MAX_FRAMES: u32 = 512;

/// Claim, let frames pile up for `ms` ms, then pull them all in fragments;
/// (frames, bytes). Any fragment out of sequence is an error.
fn hold(ms: u32) -> Result<(u32, u64)> {
    let ch = service::lookup(NIC_SERVICE)?;
    let r = (|| {
        call(ch, Msg::new(NIC_OPEN))?;
        service::sleep_ms(ms)?;
        // The fragments' sequence is checked without a frame buffer (the
        // shell's stack is small): offsets in order, the length unchanged.
        let (mut n, mut bytes) = (0u32, 0u64);
        let (mut frags, mut len, mut got) = (0u32, 0usize, 0usize);
        while n < HOLD_MAX_FRAMES && frags < HOLD_MAX_FRAMES * 8 {
            let mut m = Msg::new(NIC_RECV);
            ch.call(&mut m)?;
            m.result()?;
            if m.len == 0 {
                if got != 0 {
                    return Err(Error::Inval); // a frame cut short
                }
                break;
            }
            frags += 1;
            let (h, data) = FragHeader::decode(m.payload()).ok_or(Error::Inval)?;
            if got == 0 {
                len = h.frame_len as usize;
            }
            let ok = h.offset as usize == got && h.frame_len as usize == len && !data.is_empty()
                && data.len() <= FRAG_MAX && got + data.len() <= len;
            if !ok {
                return Err(Error::Inval);
            }
            got += data.len();
            if got == len {
                n += 1;
                bytes += len as u64;
                got = 0;
            }
        }
        Ok((n, bytes))
    })();
    let _ = ch.close();
    r
}

fn print_info(i: &NicInfo) {
    let m = i.mac;
    println!(
        "nic: mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} link {} mtu {} rx {} frames {} bytes tx {} frames {} bytes drops {} errors {} malformed {}",
        m[0], m[1], m[2], m[3], m[4], m[5],
        if i.link_up { "up" } else { "down" },
        i.mtu, i.rx_frames, i.rx_bytes, i.tx_frames, i.tx_bytes, i.rx_drops,
        i.rx_errors + i.tx_errors, i.tx_malformed
    );
}

/// A raw fragment request: header fields as given, `n` bytes of 0x5a.
fn frag(frame_len: u16, offset: u16, n: usize) -> Msg {
    let mut m = Msg::new(NIC_TX);
    let _ = m.push_bytes(&FragHeader { frame_len, offset }.encode());
    let _ = m.push_bytes(&[0x5a; FRAG_MAX][..n.min(FRAG_MAX)]);
    m
}

fn expect(what: &'static str, got: Result<u64>, want: Result<u64>) -> core::result::Result<(), &'static str> {
    if got == want {
        Ok(())
    } else {
        println!("nic test: {}: got {:?}, want {:?}", what, got, want);
        Err(what)
    }
}

fn test() -> core::result::Result<(), &'static str> {
    let a = service::lookup(NIC_SERVICE).map_err(|_| "lookup")?;
    let b = match service::lookup(NIC_SERVICE) {
        Ok(b) => b,
        Err(_) => {
            let _ = a.close();
            return Err("second lookup");
        }
    };
    let r = checks(a, b);
    let _ = a.close();
    let _ = b.close();
    r
}

fn checks(a: Channel, b: Channel) -> core::result::Result<(), &'static str> {
    expect("first claim", call(a, Msg::new(NIC_OPEN)), Ok(0))?;
    expect("second client", call(b, Msg::new(NIC_OPEN)), Err(Error::Busy))?;
    println!("nic test: second client E_BUSY");
    expect("send without the claim", call(b, frag(60, 0, 60)), Err(Error::Perm))?;
    expect("recv without the claim", call(b, Msg::new(NIC_RECV)), Err(Error::Perm))?;
    let before = info(a).map_err(|_| "info")?;
    // Garbage: a gap, a changed length, a too-short frame, a short header,
    // a fragment without a start.
    expect("first fragment", call(a, frag(600, 0, FRAG_MAX)), Ok(0))?;
    expect("gap", call(a, frag(600, 400, 100)), Err(Error::Inval))?;
    expect("tiny frame", call(a, frag(4, 0, 4)), Err(Error::Inval))?;
    let mut short = Msg::new(NIC_TX);
    let _ = short.push_bytes(&[1, 2, 3]);
    expect("short header", call(a, short), Err(Error::Inval))?;
    expect("no start", call(a, frag(600, 216, 100)), Err(Error::Inval))?;
    let after = info(a).map_err(|_| "info")?;
    let dropped = after.tx_malformed - before.tx_malformed;
    println!("nic test: {} malformed sequences counted", dropped);
    if dropped != 4 {
        return Err("malformed count");
    }
    // A whole frame still goes: a 60-byte broadcast (ethertype 0x88b5,
    // local experimental) from the card's own address.
    let mut f = [0u8; 60];
    f[..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&after.mac);
    f[12..14].copy_from_slice(&[0x88, 0xb5]);
    f[14..18].copy_from_slice(b"nagi");
    let mut off = 0;
    while let Some(m) = fragment_msg(NIC_TX, &f, off) {
        off += m.len as usize - FRAG_HEADER;
        expect("frame", call(a, m), Ok(0))?;
    }
    let sent = info(a).map_err(|_| "info")?;
    if sent.tx_frames != after.tx_frames + 1 {
        return Err("tx count");
    }
    println!("nic test: frame sent");
    // Drain what has come in meanwhile (bounded: a ring's worth of frames).
    for _ in 0..32 * 8 {
        let mut m = Msg::new(NIC_RECV);
        if a.call(&mut m).is_err() || m.result().is_err() || m.len == 0 {
            break;
        }
    }
    Ok(())
}
