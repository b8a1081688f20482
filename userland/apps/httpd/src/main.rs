//! httpd - the HTTP demo on port 80, a client of `net` (runtime::net):
//!   GET /           a status page: uptime, tasks (KS_TASK_INFO), memory
//!                   (KS_MEM_INFO), the pager's counters, net's counters
//!   GET /hello.txt  fixed bytes compiled in (HELLO)
//!   GET /big        4 MiB, byte i = i % 251, made as it is sent
//! and, on boards with an MMU, a TCP discard sink on port 9 (RFC 863: what
//! arrives is read and dropped until the peer closes; `flash.py bench`
//! measures receiving over TCP with it).
//! HTTP/1.1 keep-alive, HEAD; 400 malformed, 404 unknown path, 405 other
//! methods, 431 a request over runtime::http::REQUEST_MAX. CONNS
//! connections at once, served round-robin (one send or receive of each
//! per turn), each with a fixed request buffer; when nothing moves it
//! waits for net's readiness notifications; a connection idle for 30 s
//! is closed. net restarted: its sockets
//! are gone (E_BADCH): listen again.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use runtime::http::{self, Method, Parse, REQUEST_MAX};
use runtime::net::*;
use runtime::{ks, service, Error, Msg, Result};

runtime::entry!(main);

const PORT: u16 = 80;
/// The discard sink (the pc bench's TCP receive figure; on every board,
/// so that the same tests run everywhere).
const SINK_PORT: Option<u16> = Some(9);
const SINK_BACKLOG: u16 = 2;
/// Connections served at once, and listening sockets: a burst of SYNs
/// beyond them waits for the client's retransmission (net drops a SYN no
/// listening socket takes), so the backlog is deeper than the connections
/// served at once. Both from Kconfig (HTTPD_CONNS, HTTPD_BACKLOG), within
/// net's NET_TCP_SOCKETS.
const CONNS: usize = runtime::config::CONFIG_HTTPD_CONNS as usize;
const BACKLOG: u16 = runtime::config::CONFIG_HTTPD_BACKLOG as u16;
/// Sleep at most this long between turns when nothing moved.
const IDLE_MS: u32 = 1000;
/// A connection that moves nothing for this long is closed (a client
/// that connects and stays silent must not hold a slot for ever).
const CONN_IDLE_MS: u64 = 30_000;

/// The static file, byte-exact (the HIL test compares its sha256).
/// `/big`: BIG bytes, byte i = i % 251, made as they are sent (the
/// lossy-link tests compare a sha256 of it).
pub const BIG: usize = 4 << 20;
const BIG_CHUNK: usize = 4096;

pub const HELLO: &[u8] = b"Hello from Nagi!\nThis file is served by httpd, a user task, through net (smoltcp) and the NIC driver.\n";

struct Conn {
    sock: u32,
    buf: Vec<u8>,
    len: usize,
    out: Vec<u8>,
    sent: usize,
    close_after: bool,
    /// Uptime of its last progress.
    last: u64,
    /// Bytes of the /big body still to make (after `out`), and where.
    stream_left: usize,
    stream_pos: usize,
    /// A connection to the discard sink.
    discard: bool,
}

impl Conn {
    fn new(sock: u32, discard: bool) -> Conn {
        Conn { sock, buf: if discard { Vec::new() } else { alloc::vec![0; REQUEST_MAX] }, len: 0, out: Vec::new(), sent: 0, close_after: false, last: ks::uptime(), stream_left: 0, stream_pos: 0, discard }
    }
}

fn main(_arg: u64) -> i32 {
    let mut net = Net::new();
    let mut listener = None;
    let mut sink: Option<u32> = None;
    let mut conns: Vec<Conn> = Vec::new();
    let mut served: u64 = 0;
    let mut memory = service::Client::new("memory");
    loop {
        let l = match listener {
            Some(l) => l,
            None => match net.listen(PORT, BACKLOG) {
                Ok(l) => {
                    runtime::debug_println!("httpd: listening on port {}", PORT);
                    conns.clear();
                    sink = None;
                    *listener.insert(l)
                }
                Err(e) => {
                    runtime::debug_println!("httpd: listen: {}; retrying", e);
                    let _ = service::sleep_ms(1000);
                    continue;
                }
            },
        };
        if let (None, Some(port)) = (sink, SINK_PORT) {
            sink = net.listen(port, SINK_BACKLOG).ok();
        }
        let mut moved = false;
        // New connections while there is room.
        for (lsock, discard) in [(Some(l), false), (sink, true)] {
            let Some(lsock) = lsock else { continue };
            while conns.len() < CONNS {
                match net.accept(lsock) {
                    Ok((sock, _)) => {
                        conns.push(Conn::new(sock, discard));
                        moved = true;
                    }
                    Err(Error::WouldBlock) => break,
                    Err(_) if discard => {
                        sink = None;
                        break;
                    }
                    Err(_) => {
                        listener = None; // net restarted: its sockets are gone
                        break;
                    }
                }
            }
        }
        if listener.is_none() {
            continue;
        }
        // One step of each connection.
        let mut i = 0;
        while i < conns.len() {
            match step(&mut net, &mut conns[i], &mut served, &mut memory) {
                Ok(true) => {
                    moved = true;
                    conns[i].last = ks::uptime();
                    i += 1;
                }
                Ok(false) if ks::uptime() - conns[i].last > CONN_IDLE_MS => {
                    let c = conns.swap_remove(i);
                    let _ = net.close(c.sock);
                }
                Ok(false) => i += 1,
                Err(_) => {
                    let c = conns.swap_remove(i);
                    let _ = net.close(c.sock);
                    moved = true;
                }
            }
        }
        if !moved {
            wait(&mut net);
        }
    }
}

/// Wait for a readiness notification from net (or a while).
fn wait(net: &mut Net) {
    let Ok(ch) = net.channel() else {
        let _ = service::sleep_ms(IDLE_MS);
        return;
    };
    let _ = ks::timer(ch, IDLE_MS);
    let mut m = Msg::new(0);
    loop {
        if ch.recv(&mut m).is_err() {
            let _ = service::sleep_ms(100);
            return;
        }
        if m.is_notification() {
            return;
        }
        service::drop_payloads(&m); // nothing else is expected here
    }
}

/// One send or receive of a connection: Ok(moved); Err: close it.
fn step(net: &mut Net, c: &mut Conn, served: &mut u64, memory: &mut service::Client) -> Result<bool> {
    if c.discard {
        let mut chunk = [0u8; NET_DATA_MAX];
        return match net.recv(c.sock, &mut chunk) {
            Ok(0) => Err(Error::Closed),
            Ok(_) => Ok(true),
            Err(Error::WouldBlock) => Ok(false),
            Err(e) => Err(e),
        };
    }
    if c.sent < c.out.len() {
        return match net.send(c.sock, &c.out[c.sent..]) {
            Ok(n) => {
                c.sent += n;
                if c.sent == c.out.len() {
                    c.out.clear();
                    c.sent = 0;
                    if c.stream_left > 0 {
                        let k = c.stream_left.min(BIG_CHUNK);
                        c.out.extend((c.stream_pos..c.stream_pos + k).map(|i| (i % 251) as u8));
                        c.stream_pos += k;
                        c.stream_left -= k;
                        return Ok(true);
                    }
                    if c.close_after {
                        return Err(Error::Closed);
                    }
                }
                Ok(true)
            }
            Err(Error::WouldBlock) => Ok(false),
            Err(e) => Err(e),
        };
    }
    // A whole request may already wait in the buffer (pipelining).
    if c.len > 0 && answer(c, served, net, memory) {
        return Ok(true);
    }
    let mut chunk = [0u8; NET_DATA_MAX];
    let room = (REQUEST_MAX - c.len).min(NET_DATA_MAX);
    let n = match net.recv(c.sock, &mut chunk[..room.max(1)]) {
        Ok(0) => return Err(Error::Closed), // the client closed
        Ok(n) => n,
        Err(Error::WouldBlock) => return Ok(false),
        Err(e) => return Err(e),
    };
    if room == 0 {
        return Err(Error::TooBig);
    }
    c.buf[c.len..c.len + n].copy_from_slice(&chunk[..n]);
    c.len += n;
    answer(c, served, net, memory);
    Ok(true)
}

/// Answer the request at the head of the buffer, if it is whole.
fn answer(c: &mut Conn, served: &mut u64, net: &mut Net, memory: &mut service::Client) -> bool {
    let (status, keep, head_only, path_kind, used) = match http::parse(&c.buf[..c.len]) {
        Parse::Incomplete => return false,
        Parse::Bad => (400, false, false, Page::Error, c.len),
        Parse::TooLarge => (431, false, false, Page::Error, c.len),
        Parse::Ok(r) => {
            let page = match r.path {
                "/" | "/index.html" => Page::Status,
                "/hello.txt" => Page::Hello,
                "/big" => Page::Big,
                _ => Page::Error,
            };
            let status = match (r.method, page) {
                (Method::Other, _) => 405,
                (_, Page::Error) => 404,
                _ => 200,
            };
            (status, r.keep_alive && !r.has_body, r.method == Method::Head, page, r.len)
        }
    };
    *served += 1;
    let (ctype, body): (&str, Vec<u8>) = match (status, path_kind) {
        (200, Page::Status) => ("text/plain; charset=utf-8", status_page(*served, net, memory).into_bytes()),
        (200, Page::Hello) => ("text/plain", HELLO.to_vec()),
        (200, Page::Big) => ("application/octet-stream", Vec::new()),
        (s, _) => ("text/plain", alloc::format!("{} {}\n", s, http::reason(s)).into_bytes()),
    };
    let mut head = String::new();
    let big = status == 200 && path_kind == Page::Big;
    let _ = http::write_head(&mut head, status, ctype, if big { BIG } else { body.len() }, keep);
    c.stream_left = if big && !head_only { BIG } else { 0 };
    c.stream_pos = 0;
    c.out.clear();
    c.out.extend_from_slice(head.as_bytes());
    if !head_only {
        c.out.extend_from_slice(&body);
    }
    c.sent = 0;
    c.close_after = !keep;
    c.buf.copy_within(used..c.len, 0);
    c.len -= used;
    true
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Page {
    Status,
    Hello,
    Big,
    Error,
}

fn status_page(served: u64, net: &mut Net, memory: &mut service::Client) -> String {
    let mut s = String::new();
    let up = ks::uptime();
    let _ = writeln!(s, "Nagi status (board {})", runtime::config::CONFIG_BOARD);
    let _ = writeln!(s, "uptime: {} ms", up);
    let _ = writeln!(s, "http requests served: {}", served);
    if let Ok(m) = ks::mem_info() {
        let kib = |p: u64| runtime::fmt::kib(p, m.page_size);
        let _ = writeln!(
            s,
            "memory: total {} KiB, free {} KiB, kernel {} KiB",
            kib(m.total_pages),
            kib(m.free_pages),
            kib(m.kernel_pages)
        );
    }
    let mut mem = Msg::new(runtime::proto::MEM_STATS);
    if runtime::config::CONFIG_ARCH_HAS_MMU {
        if memory.call(&mut mem).is_ok() && mem.result().is_ok() {
            let _ = writeln!(
                s,
                "pager: {} pages served, {} faults refused",
                mem.get_u64(0).unwrap_or(0),
                mem.get_u64(8).unwrap_or(0)
            );
        }
    }
    if let Ok(c) = ks::ipc_info() {
        let _ = writeln!(
            s,
            "ipc: {} messages ({} through the fastpath), {} notifications, {} kernel calls",
            c.messages, c.fastpath, c.notifications, c.kernel_calls
        );
    }
    if let Ok(i) = net.info() {
        let _ = writeln!(
            s,
            "net: {}.{}.{}.{}/{} rx {} frames tx {} frames, {} sockets",
            i.ip[0], i.ip[1], i.ip[2], i.ip[3], i.prefix, i.rx_frames, i.tx_frames, i.sockets
        );
    }
    let _ = writeln!(s, "tasks:");
    let _ = writeln!(s, "{}", runtime::fmt::PS_HEADER);
    for index in 0.. {
        match ks::task_info(index) {
            Ok(t) => {
                let _ = runtime::fmt::ps_row(&mut s, &t, None);
                s.push('\n');
            }
            Err(_) => break,
        }
    }
    s
}
