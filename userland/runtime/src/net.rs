//! net.rs - the socket protocol of the `net` server (docs/protocols.md,
//! "net server"): TCP and UDP sockets over one channel, data inline (at
//! most NET_DATA_MAX bytes a message, so it is the same on the MCU boards
//! that have no page payloads). The encoding is pure and host-tested;
//! `Net` is the client side (a `service::Client("net")` with typed calls).
//!
//! Flow control: the server keeps fixed buffers per socket; a send that
//! finds the buffer full is -E_WOULDBLOCK (nothing taken), a recv that
//! finds nothing is -E_WOULDBLOCK; either arms the socket, and the server
//! notifies the client's channel (NET_NOTIFY_*) once the socket became
//! ready. Nothing is queued for a client beyond its sockets' buffers.

use crate::abi::*;
use crate::error::{Error, Result};

/// Service name the server registers.
pub const NET_SERVICE: &str = "net";

/// TCP listen: u16 port, u16 backlog (1..=NET_BACKLOG_MAX). arg = listener id.
pub const NET_TCP_LISTEN: u16 = 0x0b01;
/// TCP accept: u32 listener. arg = new socket id, data = Endpoint (the
/// peer); -E_WOULDBLOCK when no connection waits (NET_NOTIFY_ACCEPT later).
pub const NET_TCP_ACCEPT: u16 = 0x0b02;
/// TCP connect: Endpoint. arg = socket id (connecting: it becomes
/// writable once established; a refused or timed-out connection reads
/// as end of stream / its send fails -E_CLOSED).
pub const NET_TCP_CONNECT: u16 = 0x0b03;
/// Send: u32 socket, then 1..=NET_DATA_MAX bytes. arg = bytes taken
/// (may be fewer); -E_WOULDBLOCK none taken (buffer full, or not yet
/// established); -E_CLOSED the connection cannot send any more.
pub const NET_SEND: u16 = 0x0b04;
/// Recv: u32 socket, u32 max. data = 1..=max bytes (max capped at
/// NET_DATA_MAX), arg = their count; arg 0 with no data: end of stream;
/// -E_WOULDBLOCK nothing yet.
pub const NET_RECV: u16 = 0x0b05;
/// Close: u32 socket (TCP: FIN after what was sent; the id is gone at once).
pub const NET_CLOSE: u16 = 0x0b06;
/// UDP bind: u16 port (0: any). arg = socket id.
pub const NET_UDP_BIND: u16 = 0x0b07;
/// UDP send: u32 socket, Endpoint, then 1..=NET_UDP_DATA_MAX bytes.
pub const NET_UDP_SENDTO: u16 = 0x0b08;
/// UDP receive: u32 socket. data = Endpoint + the datagram (at most
/// NET_UDP_DATA_MAX bytes; a longer one is cut); -E_WOULDBLOCK none.
pub const NET_UDP_RECVFROM: u16 = 0x0b09;
/// ICMP echo: Endpoint (port = sequence number), u16 payload bytes
/// (0..=NET_PING_MAX), u16 timeout in ms (1..=NET_PING_TIMEOUT_MAX). The reply comes when the echo
/// reply arrives: arg = round trip in microseconds; -E_WOULDBLOCK no
/// answer within the timeout; -E_BUSY too many pings in flight.
pub const NET_PING: u16 = 0x0b0a;
/// Interface state: data = IfInfo (IF_INFO_SIZE bytes).
pub const NET_INFO: u16 = 0x0b0b;
/// Socket table: arg = index; data = SockInfo; -E_NOENT past the end.
pub const NET_SOCKETS: u16 = 0x0b0c;
/// Let go of the NIC for arg ms (at most 60 s), so that another client
/// (the shell's `nic test`) may claim it; the server takes it back after.
pub const NET_DETACH: u16 = 0x0b0d;

/// Notification bits the server sets on a client's channel.
pub const NET_NOTIFY_READABLE: u64 = 1 << 8;
pub const NET_NOTIFY_WRITABLE: u64 = 1 << 9;
pub const NET_NOTIFY_ACCEPT: u64 = 1 << 10;

/// Bytes of stream data in one NET_SEND / NET_RECV.
pub const NET_DATA_MAX: usize = 216;
/// Bytes of one datagram in NET_UDP_SENDTO / NET_UDP_RECVFROM.
pub const NET_UDP_DATA_MAX: usize = 208;
pub const NET_PING_MAX: usize = 1024;
/// Longest a ping may wait for its answer (the caller is blocked meanwhile).
pub const NET_PING_TIMEOUT_MAX: u16 = 5000;
pub const NET_BACKLOG_MAX: u16 = 32;
pub const NET_DETACH_MAX_MS: u64 = 60_000;

const _: () = assert!(4 + NET_DATA_MAX <= MSG_INLINE_MAX);
const _: () = assert!(4 + ENDPOINT_SIZE + NET_UDP_DATA_MAX <= MSG_INLINE_MAX);

/// An IPv4 address and port: ip[4] (network order), u16 port LE, u16 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: [u8; 4],
    pub port: u16,
}

pub const ENDPOINT_SIZE: usize = 8;

impl Endpoint {
    pub fn encode(&self) -> [u8; ENDPOINT_SIZE] {
        let mut b = [0u8; ENDPOINT_SIZE];
        b[..4].copy_from_slice(&self.ip);
        b[4..6].copy_from_slice(&self.port.to_le_bytes());
        b
    }
    pub fn decode(p: &[u8]) -> Option<Endpoint> {
        if p.len() < ENDPOINT_SIZE || p[6..8] != [0, 0] {
            return None;
        }
        Some(Endpoint { ip: [p[0], p[1], p[2], p[3]], port: u16::from_le_bytes([p[4], p[5]]) })
    }
}

/// "a.b.c.d" -> bytes.
pub fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for b in out.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let v: u32 = p.parse().ok()?;
        *b = u8::try_from(v).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// "http://a.b.c.d[:port][/path]" -> (address, port, path); the path is
/// "/" when absent. Addresses only (the system has no resolver).
pub fn parse_url(url: &str) -> Option<([u8; 4], u16, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.split_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok().filter(|&p| p != 0)?),
        None => (hostport, 80),
    };
    if path.bytes().any(|c| c <= 0x20 || c >= 0x7f) {
        return None;
    }
    Some((parse_ipv4(host)?, port, path))
}

/// A request's u32 socket id at offset 0.
pub fn sock_of(p: &[u8]) -> Option<u32> {
    p.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u16_at(p: &[u8], off: usize) -> Option<u16> {
    p.get(off..off + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

/// A decoded request (what the server acts on). Every shape the protocol
/// does not allow is None: the server answers -E_INVAL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Listen { port: u16, backlog: u16 },
    Accept { sock: u32 },
    Connect { to: Endpoint },
    Send { sock: u32, data: &'a [u8] },
    Recv { sock: u32, max: usize },
    Close { sock: u32 },
    UdpBind { port: u16 },
    UdpSendTo { sock: u32, to: Endpoint, data: &'a [u8] },
    UdpRecvFrom { sock: u32 },
    Ping { to: Endpoint, size: u16, timeout_ms: u16 },
    Info,
    Sockets { index: u64 },
    Detach { ms: u64 },
}

/// Decode a request: exact lengths, no reserved bits, no zero ports where
/// a port is needed.
pub fn decode(label: u16, arg: u64, p: &[u8]) -> Option<Request<'_>> {
    let r = match label {
        NET_TCP_LISTEN if p.len() == 4 => {
            let (port, backlog) = (u16_at(p, 0)?, u16_at(p, 2)?);
            if port == 0 || backlog == 0 || backlog > NET_BACKLOG_MAX {
                return None;
            }
            Request::Listen { port, backlog }
        }
        NET_TCP_ACCEPT if p.len() == 4 => Request::Accept { sock: sock_of(p)? },
        NET_TCP_CONNECT if p.len() == ENDPOINT_SIZE => {
            let to = Endpoint::decode(p)?;
            if to.port == 0 {
                return None;
            }
            Request::Connect { to }
        }
        NET_SEND if p.len() > 4 && p.len() <= 4 + NET_DATA_MAX => Request::Send { sock: sock_of(p)?, data: &p[4..] },
        NET_RECV if p.len() == 8 => {
            let max = u32::from_le_bytes([p[4], p[5], p[6], p[7]]) as usize;
            if max == 0 {
                return None;
            }
            Request::Recv { sock: sock_of(p)?, max: max.min(NET_DATA_MAX) }
        }
        NET_CLOSE if p.len() == 4 => Request::Close { sock: sock_of(p)? },
        NET_UDP_BIND if p.len() == 2 => Request::UdpBind { port: u16_at(p, 0)? },
        NET_UDP_SENDTO if p.len() > 4 + ENDPOINT_SIZE && p.len() <= 4 + ENDPOINT_SIZE + NET_UDP_DATA_MAX => {
            let to = Endpoint::decode(&p[4..])?;
            if to.port == 0 {
                return None;
            }
            Request::UdpSendTo { sock: sock_of(p)?, to, data: &p[4 + ENDPOINT_SIZE..] }
        }
        NET_UDP_RECVFROM if p.len() == 4 => Request::UdpRecvFrom { sock: sock_of(p)? },
        NET_PING if p.len() == ENDPOINT_SIZE + 4 => {
            let to = Endpoint::decode(p)?;
            let size = u16_at(p, ENDPOINT_SIZE)?;
            let timeout_ms = u16_at(p, ENDPOINT_SIZE + 2)?;
            if size as usize > NET_PING_MAX || timeout_ms == 0 || timeout_ms > NET_PING_TIMEOUT_MAX {
                return None;
            }
            Request::Ping { to, size, timeout_ms }
        }
        NET_INFO if p.is_empty() => Request::Info,
        NET_SOCKETS if p.is_empty() => Request::Sockets { index: arg },
        NET_DETACH if p.is_empty() && arg <= NET_DETACH_MAX_MS => Request::Detach { ms: arg },
        _ => return None,
    };
    Some(r)
}

/// Interface state (NET_INFO reply): ip[4], u8 prefix, u8 flags
/// (IF_DHCP, IF_STATIC, IF_LINK, IF_NIC), u16 0, gateway[4], mac[6],
/// u16 0, then u64 counters: frames in and out, frames dropped because
/// the NIC's ring stayed full, TCP sockets open, total sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IfInfo {
    pub ip: [u8; 4],
    pub prefix: u8,
    pub flags: u8,
    pub gateway: [u8; 4],
    pub mac: [u8; 6],
    pub rx_frames: u64,
    pub tx_frames: u64,
    pub tx_dropped: u64,
    pub sockets: u64,
}

pub const IF_DHCP: u8 = 1;
pub const IF_STATIC: u8 = 2;
pub const IF_LINK: u8 = 4;
pub const IF_NIC: u8 = 8;
pub const IF_INFO_SIZE: usize = 24 + 4 * 8;

impl IfInfo {
    pub fn encode(&self) -> [u8; IF_INFO_SIZE] {
        let mut b = [0u8; IF_INFO_SIZE];
        b[..4].copy_from_slice(&self.ip);
        b[4] = self.prefix;
        b[5] = self.flags;
        b[8..12].copy_from_slice(&self.gateway);
        b[12..18].copy_from_slice(&self.mac);
        for (i, v) in [self.rx_frames, self.tx_frames, self.tx_dropped, self.sockets].iter().enumerate() {
            b[24 + 8 * i..32 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        b
    }
    pub fn decode(p: &[u8]) -> Option<IfInfo> {
        if p.len() != IF_INFO_SIZE {
            return None;
        }
        let c = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&p[24 + 8 * i..32 + 8 * i]);
            u64::from_le_bytes(w)
        };
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&p[12..18]);
        Some(IfInfo {
            ip: [p[0], p[1], p[2], p[3]],
            prefix: p[4],
            flags: p[5],
            gateway: [p[8], p[9], p[10], p[11]],
            mac,
            rx_frames: c(0),
            tx_frames: c(1),
            tx_dropped: c(2),
            sockets: c(3),
        })
    }
}

/// Socket kinds and TCP states in SockInfo.
pub const SOCK_TCP_LISTEN: u8 = 1;
pub const SOCK_TCP: u8 = 2;
pub const SOCK_UDP: u8 = 3;
/// smoltcp's TCP states, in its order.
pub const TCP_STATES: [&str; 11] = [
    "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
    "CLOSING", "LAST-ACK", "TIME-WAIT",
];

/// One socket (NET_SOCKETS reply): u32 id (0: the server's own, e.g. a
/// spare listener or one closing), u8 kind, u8 state, u16 local port,
/// Endpoint remote, u32 bytes queued to receive, u32 to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockInfo {
    pub id: u32,
    pub kind: u8,
    pub state: u8,
    pub local_port: u16,
    pub remote: Endpoint,
    pub rx_queued: u32,
    pub tx_queued: u32,
}

pub const SOCK_INFO_SIZE: usize = 8 + ENDPOINT_SIZE + 8;

impl SockInfo {
    pub fn encode(&self) -> [u8; SOCK_INFO_SIZE] {
        let mut b = [0u8; SOCK_INFO_SIZE];
        b[..4].copy_from_slice(&self.id.to_le_bytes());
        b[4] = self.kind;
        b[5] = self.state;
        b[6..8].copy_from_slice(&self.local_port.to_le_bytes());
        b[8..16].copy_from_slice(&self.remote.encode());
        b[16..20].copy_from_slice(&self.rx_queued.to_le_bytes());
        b[20..24].copy_from_slice(&self.tx_queued.to_le_bytes());
        b
    }
    pub fn decode(p: &[u8]) -> Option<SockInfo> {
        if p.len() != SOCK_INFO_SIZE {
            return None;
        }
        Some(SockInfo {
            id: sock_of(p)?,
            kind: p[4],
            state: p[5],
            local_port: u16_at(p, 6)?,
            remote: Endpoint::decode(&p[8..16])?,
            rx_queued: sock_of(&p[16..])?,
            tx_queued: sock_of(&p[20..])?,
        })
    }
    pub fn state_name(&self) -> &'static str {
        match self.kind {
            SOCK_UDP => "-",
            _ => TCP_STATES.get(self.state as usize).copied().unwrap_or("?"),
        }
    }
}

// ---------------------------------------------------------------- client

/// Request builders (the client side; the tests check they decode).
pub fn listen_msg(port: u16, backlog: u16) -> Msg {
    let mut m = Msg::new(NET_TCP_LISTEN);
    let _ = m.push_u16(port);
    let _ = m.push_u16(backlog);
    m
}
pub fn sock_msg(label: u16, sock: u32) -> Msg {
    let mut m = Msg::new(label);
    let _ = m.push_u32(sock);
    m
}
pub fn connect_msg(to: Endpoint) -> Msg {
    let mut m = Msg::new(NET_TCP_CONNECT);
    let _ = m.push_bytes(&to.encode());
    m
}
pub fn send_msg(sock: u32, data: &[u8]) -> Msg {
    let mut m = sock_msg(NET_SEND, sock);
    let _ = m.push_bytes(&data[..data.len().min(NET_DATA_MAX)]);
    m
}
pub fn recv_msg(sock: u32, max: usize) -> Msg {
    let mut m = sock_msg(NET_RECV, sock);
    let _ = m.push_u32(max.min(NET_DATA_MAX) as u32);
    m
}
pub fn udp_bind_msg(port: u16) -> Msg {
    let mut m = Msg::new(NET_UDP_BIND);
    let _ = m.push_u16(port);
    m
}
pub fn sendto_msg(sock: u32, to: Endpoint, data: &[u8]) -> Msg {
    let mut m = sock_msg(NET_UDP_SENDTO, sock);
    let _ = m.push_bytes(&to.encode());
    let _ = m.push_bytes(&data[..data.len().min(NET_UDP_DATA_MAX)]);
    m
}
pub fn ping_msg(to: [u8; 4], seq: u16, size: u16, timeout_ms: u16) -> Msg {
    let mut m = Msg::new(NET_PING);
    let _ = m.push_bytes(&Endpoint { ip: to, port: seq }.encode());
    let _ = m.push_u16(size);
    let _ = m.push_u16(timeout_ms);
    m
}

/// What a NET_RECV reply says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recv<'a> {
    Data(&'a [u8]),
    Eof,
}

pub fn parse_recv(m: &Msg) -> Result<Recv<'_>> {
    let n = m.result()? as usize;
    match (n, m.payload()) {
        (0, []) => Ok(Recv::Eof),
        (n, p) if n == p.len() && n <= NET_DATA_MAX => Ok(Recv::Data(p)),
        _ => Err(Error::Inval),
    }
}

/// A client of the net server: typed calls over a `service::Client`
/// (the server found again by name after a restart; its sockets are gone
/// then: calls on them answer -E_BADCH).
pub struct Net {
    client: crate::service::Client,
}

impl Net {
    pub const fn new() -> Net {
        Net { client: crate::service::Client::new(NET_SERVICE) }
    }
    /// The channel (to wait on for notifications).
    pub fn channel(&mut self) -> Result<crate::Channel> {
        self.client.channel()
    }
    pub fn call(&mut self, mut m: Msg) -> Result<Msg> {
        self.client.call(&mut m)?;
        m.result()?;
        Ok(m)
    }
    pub fn listen(&mut self, port: u16, backlog: u16) -> Result<u32> {
        Ok(self.call(listen_msg(port, backlog))?.arg as u32)
    }
    pub fn accept(&mut self, listener: u32) -> Result<(u32, Endpoint)> {
        let m = self.call(sock_msg(NET_TCP_ACCEPT, listener))?;
        Ok((m.arg as u32, Endpoint::decode(m.payload()).unwrap_or_default()))
    }
    pub fn connect(&mut self, to: Endpoint) -> Result<u32> {
        Ok(self.call(connect_msg(to))?.arg as u32)
    }
    pub fn send(&mut self, sock: u32, data: &[u8]) -> Result<usize> {
        Ok(self.call(send_msg(sock, data))?.arg as usize)
    }
    /// Ok(0): end of stream.
    pub fn recv(&mut self, sock: u32, buf: &mut [u8]) -> Result<usize> {
        let mut m = recv_msg(sock, buf.len());
        self.client.call(&mut m)?;
        match parse_recv(&m)? {
            Recv::Eof => Ok(0),
            Recv::Data(d) => {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                Ok(n)
            }
        }
    }
    pub fn close(&mut self, sock: u32) -> Result<()> {
        self.call(sock_msg(NET_CLOSE, sock)).map(|_| ())
    }
    pub fn info(&mut self) -> Result<IfInfo> {
        IfInfo::decode(self.call(Msg::new(NET_INFO))?.payload()).ok_or(Error::Inval)
    }
    pub fn socket(&mut self, index: u64) -> Result<SockInfo> {
        let mut m = Msg::new(NET_SOCKETS);
        m.arg = index;
        SockInfo::decode(self.call(m)?.payload()).ok_or(Error::Inval)
    }
    /// Round trip in microseconds.
    pub fn ping(&mut self, to: [u8; 4], seq: u16, size: u16, timeout_ms: u16) -> Result<u64> {
        Ok(self.call(ping_msg(to, seq, size, timeout_ms))?.arg)
    }
}

impl Default for Net {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_decode_to_their_requests() {
        let to = Endpoint { ip: [10, 0, 2, 1], port: 80 };
        let m = listen_msg(80, 8);
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::Listen { port: 80, backlog: 8 }));
        let m = sock_msg(NET_TCP_ACCEPT, 0x1_0002);
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::Accept { sock: 0x1_0002 }));
        let m = connect_msg(to);
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::Connect { to }));
        let m = send_msg(3, b"hello");
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::Send { sock: 3, data: b"hello" }));
        let big = [7u8; 300];
        let m = send_msg(3, &big);
        assert_eq!(m.len as usize, 4 + NET_DATA_MAX, "a send is cut to NET_DATA_MAX");
        let m = recv_msg(3, 5000);
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::Recv { sock: 3, max: NET_DATA_MAX }));
        let m = sock_msg(NET_CLOSE, 3);
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::Close { sock: 3 }));
        let m = udp_bind_msg(0);
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::UdpBind { port: 0 }));
        let m = sendto_msg(4, to, b"dgram");
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::UdpSendTo { sock: 4, to, data: b"dgram" }));
        let m = sock_msg(NET_UDP_RECVFROM, 4);
        assert_eq!(decode(m.label, 0, m.payload()), Some(Request::UdpRecvFrom { sock: 4 }));
        let m = ping_msg([10, 0, 2, 1], 7, 56, 1000);
        assert_eq!(
            decode(m.label, 0, m.payload()),
            Some(Request::Ping { to: Endpoint { ip: [10, 0, 2, 1], port: 7 }, size: 56, timeout_ms: 1000 })
        );
        assert_eq!(decode(NET_INFO, 0, &[]), Some(Request::Info));
        assert_eq!(decode(NET_SOCKETS, 5, &[]), Some(Request::Sockets { index: 5 }));
        assert_eq!(decode(NET_DETACH, 10_000, &[]), Some(Request::Detach { ms: 10_000 }));
    }

    #[test]
    fn hostile_shapes_are_refused() {
        let to = Endpoint { ip: [10, 0, 2, 1], port: 0 };
        assert_eq!(decode(NET_TCP_LISTEN, 0, &[80, 0, 0, 0]), None, "backlog 0");
        assert_eq!(decode(NET_TCP_LISTEN, 0, &[0, 0, 1, 0]), None, "port 0");
        assert_eq!(decode(NET_TCP_LISTEN, 0, &[80, 0, 33, 0]), None, "backlog over the limit");
        assert_eq!(decode(NET_TCP_LISTEN, 0, &[80, 0, 1]), None, "short");
        assert_eq!(decode(NET_TCP_LISTEN, 0, &[80, 0, 1, 0, 0]), None, "long");
        assert_eq!(decode(NET_TCP_CONNECT, 0, &connect_msg(to).payload()), None, "port 0");
        let mut bad = Endpoint { ip: [1, 2, 3, 4], port: 9 }.encode();
        bad[7] = 1;
        assert_eq!(decode(NET_TCP_CONNECT, 0, &bad), None, "reserved bits");
        assert_eq!(decode(NET_SEND, 0, &[1, 0, 0, 0]), None, "empty send");
        assert_eq!(decode(NET_SEND, 0, &[0u8; 4 + NET_DATA_MAX + 1]), None, "over-long send");
        assert_eq!(decode(NET_RECV, 0, &[1, 0, 0, 0, 0, 0, 0, 0]), None, "recv of 0 bytes");
        assert_eq!(decode(NET_UDP_SENDTO, 0, &[0u8; 12]), None, "no datagram");
        assert_eq!(decode(NET_PING, 0, &ping_msg([1, 1, 1, 1], 1, 2000, 10).payload()), None, "too big");
        assert_eq!(decode(NET_PING, 0, &ping_msg([1, 1, 1, 1], 1, 10, 0).payload()), None, "no timeout");
        assert_eq!(decode(NET_INFO, 0, &[1]), None, "data on an info request");
        assert_eq!(decode(NET_DETACH, NET_DETACH_MAX_MS + 1, &[]), None);
        assert_eq!(decode(0x0a7f, 0, &[]), None, "unknown label");
        assert_eq!(decode(0, 0, &[]), None);
    }

    #[test]
    fn info_and_socket_entries_round_trip() {
        let i = IfInfo {
            ip: [10, 0, 2, 150],
            prefix: 24,
            flags: IF_DHCP | IF_LINK | IF_NIC,
            gateway: [10, 0, 2, 1],
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
            rx_frames: 10,
            tx_frames: 11,
            tx_dropped: 1,
            sockets: 9,
        };
        assert_eq!(IfInfo::decode(&i.encode()), Some(i));
        assert_eq!(IfInfo::decode(&i.encode()[1..]), None);
        let s = SockInfo {
            id: 0x20003,
            kind: SOCK_TCP,
            state: 4,
            local_port: 80,
            remote: Endpoint { ip: [10, 0, 2, 1], port: 40000 },
            rx_queued: 12,
            tx_queued: 3000,
        };
        assert_eq!(SockInfo::decode(&s.encode()), Some(s));
        assert_eq!(s.state_name(), "ESTABLISHED");
        assert_eq!(SockInfo { kind: SOCK_UDP, ..s }.state_name(), "-");
    }

    #[test]
    fn recv_replies_parse() {
        let mut m = Msg::new(NET_RECV);
        assert_eq!(parse_recv(&m), Ok(Recv::Eof));
        m.push_bytes(b"abc").unwrap();
        m.arg = 3;
        assert_eq!(parse_recv(&m), Ok(Recv::Data(b"abc")));
        m.arg = 2;
        assert_eq!(parse_recv(&m), Err(Error::Inval), "count and data disagree");
        m.arg = crate::error::to_raw(Err(Error::WouldBlock));
        assert_eq!(parse_recv(&m), Err(Error::WouldBlock));
    }

    #[test]
    fn ipv4_addresses_parse_strictly() {
        assert_eq!(parse_ipv4("10.0.2.1"), Some([10, 0, 2, 1]));
        assert_eq!(parse_ipv4("255.255.255.255"), Some([255; 4]));
        for bad in ["", "10.0.2", "10.0.2.1.5", "10.0.2.256", "10..2.1", "a.b.c.d", "10.0.2.-1", "1000.0.0.1"] {
            assert_eq!(parse_ipv4(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls_parse() {
        assert_eq!(parse_url("http://10.0.2.1/"), Some(([10, 0, 2, 1], 80, "/")));
        assert_eq!(parse_url("http://10.0.2.1"), Some(([10, 0, 2, 1], 80, "/")));
        assert_eq!(parse_url("http://10.0.2.1:8080/a/b?c"), Some(([10, 0, 2, 1], 8080, "/a/b?c")));
        for bad in ["10.0.2.1/", "https://10.0.2.1/", "http://host/", "http://10.0.2.1:0/", "http://10.0.2.1:x/", "http://10.0.2.1/a\x01", "http://10.0.2.1/a b"] {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
    }
}
