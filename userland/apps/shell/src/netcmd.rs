//! netcmd.rs - the shell's network commands, clients of the net server
//! (runtime::net; boards with a [nic], CONFIG_NET):
//!   ifconfig             address, gateway, MAC, link, counters (net + NIC_INFO)
//!   ping HOST [-c N]     ICMP echo through net
//!   http get|body URL    a TCP client: status line and body length, or the body
//!   netstat              the server's sockets and their states
//! Output formats: docs/protocols.md "Shell output".

use crate::Services;
use runtime::args::{parse_u32, words};
use runtime::net::*;
use runtime::nic::{NicInfo, NIC_INFO};
use runtime::{config, ks, print, println, Error, Msg, Result};

const NOT_AVAILABLE: &str = "not available on this board";
const PING_TIMEOUT_MS: u16 = 1000;
const PING_INTERVAL_MS: u64 = 200;
const PING_MAX: u32 = 100;
const HTTP_TIMEOUT_MS: u64 = 10_000;

struct Ip([u8; 4]);

impl core::fmt::Display for Ip {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}.{}.{}", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

pub fn ifconfig(svc: &mut Services, _: &str) {
    if !config::CONFIG_NET {
        return println!("ifconfig: {}", NOT_AVAILABLE);
    }
    let i = match svc.net.info() {
        Ok(i) => i,
        Err(e) => return println!("ifconfig: {}", e),
    };
    let how = match i.flags & (IF_DHCP | IF_STATIC) {
        IF_DHCP => "dhcp",
        IF_STATIC => "static",
        _ => "unconfigured",
    };
    if i.flags & (IF_DHCP | IF_STATIC) != 0 {
        println!("net0: inet {}/{} gateway {} {}", Ip(i.ip), i.prefix, Ip(i.gateway), how);
    } else {
        println!("net0: inet none {}", how);
    }
    let m = i.mac;
    if i.flags & IF_NIC != 0 {
        println!(
            "net0: ether {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} link {}",
            m[0], m[1], m[2], m[3], m[4], m[5],
            if i.flags & IF_LINK != 0 { "up" } else { "down" }
        );
    } else {
        println!("net0: no NIC (network off)");
    }
    println!("net0: rx {} frames tx {} frames tx-dropped {} sockets {}", i.rx_frames, i.tx_frames, i.tx_dropped, i.sockets);
    let mut m = Msg::new(NIC_INFO);
    if let Ok(n) = svc.nic.call(&mut m).and_then(|_| m.result()).and_then(|_| NicInfo::parse(&m)) {
        println!(
            "net0: nic rx {} frames {} bytes tx {} frames {} bytes drops {} errors {}",
            n.rx_frames, n.rx_bytes, n.tx_frames, n.tx_bytes, n.rx_drops, n.rx_errors + n.tx_errors
        );
    }
}

pub fn ping(svc: &mut Services, rest: &str) {
    if !config::CONFIG_NET {
        return println!("ping: {}", NOT_AVAILABLE);
    }
    let mut w = words(rest);
    let mut host = None;
    let mut count = Some(4);
    while let Some(a) = w.next() {
        if a == "-c" {
            count = w.next().and_then(parse_u32).filter(|&n| (1..=PING_MAX).contains(&n));
        } else {
            host = parse_ipv4(a);
        }
    }
    let (Some(ip), Some(count)) = (host, count) else {
        return println!("ping: usage: ping a.b.c.d [-c 1..{}]", PING_MAX);
    };
    let mut received = 0;
    for seq in 1..=count {
        let t0 = ks::uptime();
        match svc.net.ping(ip, seq as u16, 56, PING_TIMEOUT_MS) {
            Ok(us) => {
                received += 1;
                println!("64 bytes from {}: icmp_seq={} time={}.{:03} ms", Ip(ip), seq, us / 1000, us % 1000);
            }
            Err(Error::WouldBlock) => println!("ping: no reply from {} icmp_seq={}", Ip(ip), seq),
            Err(Error::NoEnt) => return println!("ping: the interface has no address"),
            Err(e) => println!("ping: {} icmp_seq={}", e, seq),
        }
        let spent = ks::uptime() - t0;
        if seq < count && spent < PING_INTERVAL_MS {
            let _ = runtime::service::sleep_ms((PING_INTERVAL_MS - spent) as u32);
        }
    }
    println!("ping: {} transmitted, {} received", count, received);
}

pub fn netstat(svc: &mut Services, _: &str) {
    if !config::CONFIG_NET {
        return println!("netstat: {}", NOT_AVAILABLE);
    }
    println!("ID PROTO PORT REMOTE STATE RECVQ SENDQ");
    for index in 0..256 {
        match svc.net.socket(index) {
            Ok(s) => {
                let proto = if s.kind == SOCK_UDP { "udp" } else { "tcp" };
                print!("{:#x} {} {} ", s.id, proto, s.local_port);
                if s.remote.port == 0 {
                    print!("- ");
                } else {
                    print!("{}:{} ", Ip(s.remote.ip), s.remote.port);
                }
                println!("{} {} {}", s.state_name(), s.rx_queued, s.tx_queued);
            }
            Err(Error::NoEnt) => break,
            Err(e) => return println!("netstat: {}", e),
        }
    }
}

pub fn http(svc: &mut Services, rest: &str) {
    if !config::CONFIG_NET {
        return println!("http: {}", NOT_AVAILABLE);
    }
    let mut w = words(rest);
    let (verb, url) = (w.next(), w.next().and_then(parse_url));
    let show_body = match verb {
        Some("get") => false,
        Some("body") => true,
        _ => return println!("http: usage: http get|body http://a.b.c.d[:port]/path"),
    };
    let Some((ip, port, path)) = url else {
        return println!("http: usage: http get|body http://a.b.c.d[:port]/path");
    };
    match get(svc, ip, port, path, show_body) {
        Ok(()) => {}
        Err(e) => println!("http: {}", e),
    }
}

/// Wait for a readiness notification from net (or `ms`).
fn wait(svc: &mut Services, ms: u32) -> Result<()> {
    let ch = svc.net.channel()?;
    ks::timer(ch, ms)?;
    let mut m = Msg::new(0);
    loop {
        ch.recv(&mut m)?;
        if m.is_notification() {
            return Ok(());
        }
        runtime::service::drop_payloads(&m);
    }
}

fn get(svc: &mut Services, ip: [u8; 4], port: u16, path: &str, show_body: bool) -> Result<()> {
    // Given up after HTTP_TIMEOUT_MS without progress.
    let mut deadline = ks::uptime() + HTTP_TIMEOUT_MS;
    let sock = svc.net.connect(Endpoint { ip, port })?;
    let r = (|| {
        let mut req = Buf { b: [0; 300], n: 0 };
        core::fmt::Write::write_fmt(
            &mut req,
            format_args!("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: nagi-shell\r\n\r\n", path, Ip(ip)),
        )
        .map_err(|_| Error::TooBig)?;
        let (req, n) = (req.b, req.n);
        let mut sent = 0;
        while sent < n {
            match svc.net.send(sock, &req[sent..n]) {
                Ok(k) => {
                    sent += k;
                    deadline = ks::uptime() + HTTP_TIMEOUT_MS;
                }
                Err(Error::WouldBlock) => {
                    if ks::uptime() > deadline {
                        return Err(Error::WouldBlock);
                    }
                    wait(svc, 500)?;
                }
                Err(e) => return Err(e),
            }
        }
        // The answer: the status line, the headers' end, the body.
        let mut head = [0u8; 256];
        let mut head_len = 0;
        let mut status_done = false;
        let mut matched = 0; // of "\r\n\r\n"
        let mut body = 0u64;
        let mut crc = Crc32::new();
        let mut buf = [0u8; NET_DATA_MAX];
        loop {
            let k = match svc.net.recv(sock, &mut buf) {
                Ok(0) => break,
                Ok(k) => {
                    deadline = ks::uptime() + HTTP_TIMEOUT_MS;
                    k
                }
                Err(Error::WouldBlock) => {
                    if ks::uptime() > deadline {
                        println!("http: timed out");
                        break;
                    }
                    wait(svc, 500)?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            for &c in &buf[..k] {
                if matched == 4 {
                    body += 1;
                    crc.byte(c);
                    if show_body {
                        runtime::print::write_bytes(&[c]);
                    }
                    continue;
                }
                if !status_done {
                    if c == b'\n' {
                        status_done = true;
                        let line = &head[..head_len];
                        let line = line.strip_suffix(b"\r").unwrap_or(line);
                        println!("http: {}", core::str::from_utf8(line).unwrap_or("(not text)"));
                    } else if head_len < head.len() {
                        head[head_len] = c;
                        head_len += 1;
                    }
                }
                matched = match (matched, c) {
                    (0 | 2, b'\r') => matched + 1,
                    (1 | 3, b'\n') => matched + 1,
                    (_, b'\r') => 1,
                    _ => 0,
                };
            }
        }
        if show_body && body > 0 {
            println!();
        }
        if matched == 4 {
            println!("http: body {} bytes crc32 {:08x}", body, crc.value());
        } else {
            println!("http: no complete response");
        }
        Ok(())
    })();
    let _ = svc.net.close(sock);
    r
}

/// CRC-32 (IEEE, as zlib.crc32), so a test can check a body byte-exactly.
/// The table is in flash (a const): on the MCU boards a 1 KiB table on
/// the stack overflowed the shell's stack under `http get`.
struct Crc32 {
    v: u32,
}

static CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

impl Crc32 {
    fn new() -> Crc32 {
        Crc32 { v: 0xffff_ffff }
    }
    fn byte(&mut self, b: u8) {
        self.v = CRC32_TABLE[((self.v ^ b as u32) & 0xff) as usize] ^ (self.v >> 8);
    }
    fn value(&self) -> u32 {
        !self.v
    }
}

/// A request being written (fmt::Write into a fixed array).
struct Buf {
    b: [u8; 300],
    n: usize,
}

impl core::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let b = s.as_bytes();
        let end = self.n + b.len();
        if end > self.b.len() {
            return Err(core::fmt::Error);
        }
        self.b[self.n..end].copy_from_slice(b);
        self.n = end;
        Ok(())
    }
}

/// Let go of the card in net for `ms` (the shell's own `nic` claims it).
pub fn release_nic(svc: &mut Services, ms: u64) {
    if config::CONFIG_NET {
        let mut m = Msg::new(NET_DETACH);
        m.arg = ms.min(NET_DETACH_MAX_MS);
        let _ = svc.net.call(m);
    }
}

fn expect(what: &'static str, got: Result<u64>, want: Result<u64>) -> core::result::Result<(), &'static str> {
    if got.map(|_| 0) == want.map(|_| 0) {
        Ok(())
    } else {
        println!("nettest: {}: got {:?}, want {:?}", what, got, want);
        Err(what)
    }
}

/// `nettest [a.b.c.d:port]`: the socket protocol's refusals as a hostile
/// client sees them (malformed requests E_INVAL, foreign or stale socket
/// ids E_BADCH, the per-client bound E_NOMEM, a taken port E_BUSY), then,
/// with an address, a UDP datagram sent there and its echo received.
pub fn nettest(svc: &mut Services, rest: &str) {
    if !config::CONFIG_NET {
        return println!("nettest: {}", NOT_AVAILABLE);
    }
    let echo = rest.trim();
    let peer = if echo.is_empty() {
        None
    } else {
        match echo.split_once(':').and_then(|(h, p)| Some((parse_ipv4(h)?, p.parse::<u16>().ok()?))) {
            Some(p) => Some(p),
            None => return println!("nettest: usage: nettest [a.b.c.d:port]"),
        }
    };
    match net_checks(svc, peer) {
        Ok(()) => println!("nettest: ok"),
        Err(why) => println!("nettest: FAILED: {}", why),
    }
}

fn raw(svc: &mut Services, m: Msg) -> Result<u64> {
    svc.net.call(m).map(|m| m.arg)
}

fn net_checks(svc: &mut Services, peer: Option<([u8; 4], u16)>) -> core::result::Result<(), &'static str> {
    // Malformed shapes.
    let mut m = Msg::new(NET_TCP_LISTEN);
    let _ = m.push_u16(80);
    expect("short listen", raw(svc, m), Err(Error::Inval))?;
    expect("backlog 0", raw(svc, listen_msg(8080, 0)), Err(Error::Inval))?;
    let mut m = sock_msg(NET_SEND, 1);
    m.len = 4;
    expect("empty send", raw(svc, m), Err(Error::Inval))?;
    expect("unknown label", raw(svc, Msg::new(NET_TCP_LISTEN | 0x7f)), Err(Error::Inval))?;
    // Socket ids that are not ours.
    expect("no such socket", raw(svc, recv_msg(0x7fff_ff00, 10)), Err(Error::BadCh))?;
    expect("port 80 taken (httpd)", raw(svc, listen_msg(80, 1)), Err(Error::Busy))?;
    let l = svc.net.listen(8080, 1).map_err(|_| "listen")?;
    expect("accept: nothing waits", raw(svc, sock_msg(NET_TCP_ACCEPT, l)), Err(Error::WouldBlock))?;
    expect("send on a listener", raw(svc, send_msg(l, b"x")), Err(Error::Inval))?;
    svc.net.close(l).map_err(|_| "close")?;
    expect("closed id", raw(svc, sock_msg(NET_CLOSE, l)), Err(Error::BadCh))?;
    let l2 = svc.net.listen(8080, 1).map_err(|_| "listen again")?;
    if l2 == l {
        return Err("a slot's new id equals the old one");
    }
    expect("stale id of the same slot", raw(svc, sock_msg(NET_TCP_ACCEPT, l)), Err(Error::BadCh))?;
    let _ = svc.net.close(l2);
    println!("nettest: malformed E_INVAL, foreign and stale ids E_BADCH");
    // The per-client bound: UDP sockets until E_NOMEM, then all closed.
    let mut ids = [0u32; 32];
    let mut n = 0;
    let r = loop {
        match raw(svc, udp_bind_msg(0)) {
            Ok(id) if n < ids.len() => {
                ids[n] = id as u32;
                n += 1;
            }
            Ok(_) => break Err("no bound"),
            Err(Error::NoMem) => break Ok(()),
            Err(_) => break Err("udp bind"),
        }
    };
    for id in &ids[..n] {
        let _ = svc.net.close(*id);
    }
    r?;
    println!("nettest: {} sockets, then E_NOMEM", n);
    if let Some((ip, port)) = peer {
        let u = raw(svc, udp_bind_msg(0)).map_err(|_| "udp bind")? as u32;
        let r = (|| {
            raw(svc, sendto_msg(u, Endpoint { ip, port }, b"nagi udp")).map_err(|_| "sendto")?;
            let deadline = ks::uptime() + 5000;
            loop {
                match svc.net.call(sock_msg(NET_UDP_RECVFROM, u)) {
                    Ok(m) => {
                        let p = m.payload();
                        let from = Endpoint::decode(p).ok_or("recvfrom data")?;
                        let data = &p[ENDPOINT_SIZE..];
                        println!(
                            "nettest: udp echo {} bytes from {}:{}: {}",
                            data.len(), Ip(from.ip), from.port, core::str::from_utf8(data).unwrap_or("?")
                        );
                        return Ok(());
                    }
                    Err(Error::WouldBlock) if ks::uptime() < deadline => {
                        let _ = wait(svc, 500);
                    }
                    Err(_) => return Err("no udp echo"),
                }
            }
        })();
        let _ = svc.net.close(u);
        r?;
    }
    Ok(())
}
