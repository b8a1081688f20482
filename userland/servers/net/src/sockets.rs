//! sockets.rs - the clients' sockets: ids, owners, fixed buffers and the
//! readiness notifications (docs/protocols.md "net server").
//!
//! Bounds: at most IDS socket ids in all and PER_CLIENT per client; at
//! most TCP_MAX smoltcp TCP sockets (listeners' backlogs, connections and
//! those still closing), each with fixed TCP_RX + TCP_TX bytes of buffer;
//! UDP sockets hold UDP_PACKETS datagrams each way. A client's sockets
//! go when its channel closes. Nothing else is allocated per request.

use alloc::vec;
use alloc::vec::Vec;
use runtime::net::*;
use runtime::{config, Channel, Error, Msg, Result};
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::{icmp, tcp, udp, Socket};
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address};

/// The budget is Kconfig's ("Network" menu): on MCU boards the heap it
/// comes from is static (userland/tasks.toml [net], checked by the build).
/// Socket ids in all, and per client.
const IDS: usize = config::CONFIG_NET_SOCKET_IDS as usize;
const PER_CLIENT: usize = config::CONFIG_NET_SOCKETS_PER_CLIENT as usize;
/// smoltcp TCP sockets in all (listening, connected, closing).
const TCP_MAX: usize = config::CONFIG_NET_TCP_SOCKETS as usize;
const TCP_RX: usize = config::CONFIG_NET_TCP_RX_BYTES as usize;
const TCP_TX: usize = config::CONFIG_NET_TCP_TX_BYTES as usize;
const UDP_PACKETS: usize = 8;
const UDP_BYTES: usize = 2048;
/// A closed connection that has not finished its FIN exchange by then is
/// aborted (RST) and removed.
const CLOSING_MS: u64 = 10_000;
/// A connection silent this long (no ACK of what was sent) is reset.
const TIMEOUT_S: u64 = 60;
/// A listening socket's handshake: a SYN whose SYN-ACK gets no ACK in
/// this time (a SYN flood from addresses that never answer) is reset, and
/// the socket listens again; a backlog filled by a flood recovers in
/// seconds instead of the connection timeout.
const HANDSHAKE_S: u64 = 5;
/// Pings in flight (all clients).
const PINGS: usize = 8;
const PING_IDENT: u16 = 0x4e47;
const EPHEMERAL_FIRST: u16 = 49152;

enum Kind {
    Listener { port: u16, backlog: u16, pending: Vec<SocketHandle> },
    Tcp(SocketHandle),
    Udp(SocketHandle, u16),
}

struct Sock {
    id: u32,
    owner: i32,
    kind: Kind,
    /// NET_NOTIFY_* bits the owner waits for (set when it got E_WOULDBLOCK).
    armed: u64,
}

struct Ping {
    from: i32,
    ip: [u8; 4],
    seq: u16,
    sent_ms: u64,
    deadline: u64,
}

pub struct Sockets {
    slots: Vec<Option<Sock>>,
    generation: u32,
    closing: Vec<(SocketHandle, u64)>,
    tcp_count: usize,
    /// The TCP budget grew since the last refill (a socket was removed):
    /// listeners short of their backlog may get sockets again.
    refill_due: bool,
    next_port: u16,
    icmp: Option<SocketHandle>,
    pings: [Option<Ping>; PINGS],
}

fn tcp_socket() -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; TCP_RX]), tcp::SocketBuffer::new(vec![0; TCP_TX]));
    s.set_nagle_enabled(false);
    s.set_timeout(Some(smoltcp::time::Duration::from_secs(TIMEOUT_S)));
    s
}

/// `h` listens on `port`, with the handshake's short timeout.
fn listen_on(set: &mut SocketSet<'static>, h: SocketHandle, port: u16) {
    let t = set.get_mut::<tcp::Socket>(h);
    t.set_timeout(Some(smoltcp::time::Duration::from_secs(HANDSHAKE_S)));
    let _ = t.listen(port);
}

fn ip_of(e: IpAddress) -> [u8; 4] {
    match e {
        IpAddress::Ipv4(a) => a.octets(),
        #[allow(unreachable_patterns)]
        _ => [0; 4],
    }
}

fn endpoint(e: Option<IpEndpoint>) -> Endpoint {
    e.map(|e| Endpoint { ip: ip_of(e.addr), port: e.port }).unwrap_or_default()
}

fn reply_to(from: i32, arg: Result<u64>) {
    let mut m = Msg::new(NET_PING);
    m.arg = runtime::error::to_raw(arg);
    let _ = Channel::from_raw(from).reply(&m);
}

/// Connected, or at least past the handshake (data may be read).
fn acceptable(s: &tcp::Socket) -> bool {
    !matches!(s.state(), tcp::State::Listen | tcp::State::SynReceived | tcp::State::SynSent)
}

impl Sockets {
    pub fn new() -> Sockets {
        let mut slots = Vec::with_capacity(IDS);
        slots.resize_with(IDS, || None);
        Sockets {
            slots,
            generation: 0,
            closing: Vec::new(),
            tcp_count: 0,
            refill_due: false,
            next_port: EPHEMERAL_FIRST,
            icmp: None,
            pings: Default::default(),
        }
    }

    pub fn init_icmp(&mut self, set: &mut SocketSet<'static>) {
        let b = || icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; PINGS], vec![0; 4 * (NET_PING_MAX + 64)]);
        let mut s = icmp::Socket::new(b(), b());
        if s.bind(icmp::Endpoint::Ident(PING_IDENT)).is_ok() {
            self.icmp = Some(set.add(s));
        }
    }

    pub fn count(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    fn owned(&self, owner: i32) -> usize {
        self.slots.iter().flatten().filter(|s| s.owner == owner).count()
    }

    /// A free slot's new id (owner's quota checked).
    fn new_id(&mut self, owner: i32) -> Result<usize> {
        if self.owned(owner) >= PER_CLIENT {
            return Err(Error::NoMem);
        }
        let slot = self.slots.iter().position(|s| s.is_none()).ok_or(Error::NoMem)?;
        Ok(slot)
    }

    fn put(&mut self, slot: usize, owner: i32, kind: Kind) -> u32 {
        self.generation = self.generation.wrapping_add(1) & 0x00ff_ffff;
        let id = (self.generation.max(1) << 8) | slot as u32;
        self.slots[slot] = Some(Sock { id, owner, kind, armed: 0 });
        id
    }

    /// The caller's socket `id` (E_BADCH: no such socket of this client).
    fn get(&mut self, owner: i32, id: u32) -> Result<&mut Sock> {
        match self.slots.get_mut((id & 0xff) as usize) {
            Some(Some(s)) if s.id == id && s.owner == owner => Ok(s),
            _ => Err(Error::BadCh),
        }
    }

    fn ephemeral(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p == u16::MAX { EPHEMERAL_FIRST } else { p + 1 };
        p
    }

    fn new_tcp(&mut self, set: &mut SocketSet<'static>) -> Result<SocketHandle> {
        if self.tcp_count >= TCP_MAX {
            return Err(Error::NoMem);
        }
        self.tcp_count += 1;
        Ok(set.add(tcp_socket()))
    }

    fn remove_tcp(&mut self, set: &mut SocketSet<'static>, h: SocketHandle) {
        set.remove(h);
        self.tcp_count -= 1;
        self.refill_due = true;
    }

    /// Close a TCP connection: FIN once its data went; removed when done.
    fn close_tcp(&mut self, set: &mut SocketSet<'static>, h: SocketHandle, now: u64) {
        set.get_mut::<tcp::Socket>(h).close();
        self.closing.push((h, now + CLOSING_MS));
    }

    fn free(&mut self, set: &mut SocketSet<'static>, slot: usize, now: u64) {
        let Some(s) = self.slots[slot].take() else { return };
        match s.kind {
            Kind::Tcp(h) => self.close_tcp(set, h, now),
            Kind::Listener { pending, .. } => {
                for h in pending {
                    let sock = set.get_mut::<tcp::Socket>(h);
                    if acceptable(sock) {
                        self.close_tcp(set, h, now);
                    } else {
                        sock.abort();
                        self.remove_tcp(set, h);
                    }
                }
            }
            Kind::Udp(h, _) => {
                set.remove(h);
            }
        }
    }

    /// Close the sockets (and answer the pings) of clients whose channel
    /// is gone.
    pub fn drop_gone_owners<const N: usize>(&mut self, set: &mut SocketSet<'static>, clients: &runtime::service::Clients<N>) {
        let now = runtime::ks::uptime();
        for slot in 0..self.slots.len() {
            if matches!(&self.slots[slot], Some(s) if !clients.contains(s.owner)) {
                self.free(set, slot, now);
            }
        }
        for p in self.pings.iter_mut() {
            if matches!(p, Some(x) if !clients.contains(x.from)) {
                *p = None;
            }
        }
    }

    fn port_in_use(&self, tcp: bool, port: u16) -> bool {
        self.slots.iter().flatten().any(|s| match s.kind {
            Kind::Listener { port: p, .. } => tcp && p == port,
            Kind::Udp(_, p) => !tcp && p == port,
            Kind::Tcp(_) => false,
        })
    }

    /// Serve one decoded request of client `from` (not Info/Ping/Detach).
    pub fn request(
        &mut self,
        set: &mut SocketSet<'static>,
        iface: &mut Interface,
        from: i32,
        req: Request,
        reply: &mut Msg,
        now: u64,
    ) -> Result<u64> {
        match req {
            Request::Listen { port, backlog } => {
                if self.port_in_use(true, port) {
                    return Err(Error::Busy);
                }
                let slot = self.new_id(from)?;
                if self.tcp_count + backlog as usize > TCP_MAX {
                    return Err(Error::NoMem);
                }
                let mut pending = Vec::with_capacity(backlog as usize);
                for _ in 0..backlog {
                    let h = self.new_tcp(set)?;
                    listen_on(set, h, port);
                    pending.push(h);
                }
                Ok(self.put(slot, from, Kind::Listener { port, backlog, pending }) as u64)
            }
            Request::Accept { sock } => {
                let s = self.get(from, sock)?;
                let Kind::Listener { pending, .. } = &mut s.kind else { return Err(Error::Inval) };
                let Some(i) = pending.iter().position(|h| acceptable(set.get::<tcp::Socket>(*h))) else {
                    s.armed |= NET_NOTIFY_ACCEPT;
                    return Err(Error::WouldBlock);
                };
                let h = pending[i];
                let slot = self.new_id(from)?;
                let Some(Some(Sock { kind: Kind::Listener { pending, .. }, .. })) = self.slots.get_mut((sock & 0xff) as usize)
                else {
                    return Err(Error::BadCh);
                };
                pending.swap_remove(i);
                set.get_mut::<tcp::Socket>(h).set_timeout(Some(smoltcp::time::Duration::from_secs(TIMEOUT_S)));
                let remote = endpoint(set.get::<tcp::Socket>(h).remote_endpoint());
                let _ = reply.push_bytes(&remote.encode());
                self.refill(set);
                Ok(self.put(slot, from, Kind::Tcp(h)) as u64)
            }
            Request::Connect { to } => {
                let slot = self.new_id(from)?;
                let h = self.new_tcp(set)?;
                let local = self.ephemeral();
                let remote = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from_octets(to.ip)), to.port);
                if set.get_mut::<tcp::Socket>(h).connect(iface.context(), remote, local).is_err() {
                    self.remove_tcp(set, h);
                    return Err(Error::Inval);
                }
                let id = self.put(slot, from, Kind::Tcp(h));
                if let Some(Some(s)) = self.slots.get_mut(slot) {
                    s.armed = NET_NOTIFY_WRITABLE;
                }
                Ok(id as u64)
            }
            Request::Send { sock, data } => {
                let s = self.get(from, sock)?;
                let Kind::Tcp(h) = s.kind else { return Err(Error::Inval) };
                let t = set.get_mut::<tcp::Socket>(h);
                if matches!(t.state(), tcp::State::SynSent | tcp::State::SynReceived) {
                    s.armed |= NET_NOTIFY_WRITABLE;
                    return Err(Error::WouldBlock);
                }
                if !t.may_send() {
                    return Err(Error::Closed);
                }
                match t.send_slice(data) {
                    Ok(0) => {
                        s.armed |= NET_NOTIFY_WRITABLE;
                        Err(Error::WouldBlock)
                    }
                    Ok(n) => Ok(n as u64),
                    Err(_) => Err(Error::Closed),
                }
            }
            Request::Recv { sock, max } => {
                let s = self.get(from, sock)?;
                let Kind::Tcp(h) = s.kind else { return Err(Error::Inval) };
                let t = set.get_mut::<tcp::Socket>(h);
                if t.can_recv() {
                    let mut buf = [0u8; NET_DATA_MAX];
                    let n = t.recv_slice(&mut buf[..max]).unwrap_or(0);
                    let _ = reply.push_bytes(&buf[..n]);
                    return Ok(n as u64);
                }
                if matches!(t.state(), tcp::State::SynSent | tcp::State::SynReceived) || t.may_recv() {
                    s.armed |= NET_NOTIFY_READABLE;
                    return Err(Error::WouldBlock);
                }
                Ok(0) // end of stream
            }
            Request::Close { sock } => {
                self.get(from, sock)?;
                self.free(set, (sock & 0xff) as usize, now);
                Ok(0)
            }
            Request::UdpBind { port } => {
                let port = if port == 0 { self.ephemeral() } else { port };
                if self.port_in_use(false, port) {
                    return Err(Error::Busy);
                }
                let slot = self.new_id(from)?;
                let b = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; UDP_PACKETS], vec![0; UDP_BYTES]);
                let mut u = udp::Socket::new(b(), b());
                u.bind(IpListenEndpoint { addr: None, port }).map_err(|_| Error::Inval)?;
                let h = set.add(u);
                Ok(self.put(slot, from, Kind::Udp(h, port)) as u64)
            }
            Request::UdpSendTo { sock, to, data } => {
                let s = self.get(from, sock)?;
                let Kind::Udp(h, _) = s.kind else { return Err(Error::Inval) };
                let remote = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from_octets(to.ip)), to.port);
                match set.get_mut::<udp::Socket>(h).send_slice(data, remote) {
                    Ok(()) => Ok(data.len() as u64),
                    Err(udp::SendError::BufferFull) => {
                        s.armed |= NET_NOTIFY_WRITABLE;
                        Err(Error::WouldBlock)
                    }
                    Err(_) => Err(Error::Inval),
                }
            }
            Request::UdpRecvFrom { sock } => {
                let s = self.get(from, sock)?;
                let Kind::Udp(h, _) = s.kind else { return Err(Error::Inval) };
                match set.get_mut::<udp::Socket>(h).recv() {
                    Ok((data, meta)) => {
                        let n = data.len().min(NET_UDP_DATA_MAX);
                        let _ = reply.push_bytes(&endpoint(Some(meta.endpoint)).encode());
                        let _ = reply.push_bytes(&data[..n]);
                        Ok(n as u64)
                    }
                    Err(_) => {
                        s.armed |= NET_NOTIFY_READABLE;
                        Err(Error::WouldBlock)
                    }
                }
            }
            Request::Sockets { index } => {
                let info = self.list(set).nth(index as usize).ok_or(Error::NoEnt)?;
                let _ = reply.push_bytes(&info.encode());
                Ok(0)
            }
            Request::Info | Request::Ping { .. } | Request::Detach { .. } => Err(Error::Inval),
        }
    }

    /// Every TCP and UDP socket the server holds, with the id that names it
    /// (0: a listener's spare, or one closing).
    fn list<'a>(&'a self, set: &'a SocketSet<'static>) -> impl Iterator<Item = SockInfo> + 'a {
        set.iter().filter_map(move |(h, sock)| {
            let id = self
                .slots
                .iter()
                .flatten()
                .find(|s| match &s.kind {
                    Kind::Tcp(x) | Kind::Udp(x, _) => *x == h,
                    Kind::Listener { pending, .. } => pending.contains(&h),
                })
                .map_or(0, |s| s.id);
            match sock {
                Socket::Tcp(t) => Some(SockInfo {
                    id,
                    kind: if t.state() == tcp::State::Listen { SOCK_TCP_LISTEN } else { SOCK_TCP },
                    state: t.state() as u8,
                    local_port: t.local_endpoint().map_or(t.listen_endpoint().port, |e| e.port),
                    remote: endpoint(t.remote_endpoint()),
                    rx_queued: t.recv_queue() as u32,
                    tx_queued: t.send_queue() as u32,
                }),
                Socket::Udp(u) => Some(SockInfo {
                    id,
                    kind: SOCK_UDP,
                    state: 0,
                    local_port: u.endpoint().port,
                    remote: Endpoint::default(),
                    rx_queued: 0,
                    tx_queued: 0,
                }),
                _ => None,
            }
        })
    }

    /// Listeners short of their backlog (a connection was accepted) get
    /// new listening sockets while the TCP budget allows.
    fn refill(&mut self, set: &mut SocketSet<'static>) {
        for i in 0..self.slots.len() {
            loop {
                let Some(Some(Sock { kind: Kind::Listener { port, backlog, pending }, .. })) = self.slots.get(i) else {
                    break;
                };
                if pending.len() >= *backlog as usize || self.tcp_count >= TCP_MAX {
                    break;
                }
                let port = *port;
                let Ok(h) = self.new_tcp(set) else { break };
                listen_on(set, h, port);
                if let Some(Some(Sock { kind: Kind::Listener { pending, .. }, .. })) = self.slots.get_mut(i) {
                    pending.push(h);
                }
            }
        }
    }

    pub fn housekeeping(&mut self, set: &mut SocketSet<'static>, iface: &mut Interface, now: u64) {
        // Closed connections: removed once done, aborted when too slow.
        let mut i = 0;
        while i < self.closing.len() {
            let (h, deadline) = self.closing[i];
            let t = set.get_mut::<tcp::Socket>(h);
            let done = matches!(t.state(), tcp::State::Closed | tcp::State::TimeWait);
            if done || now >= deadline {
                t.abort();
                self.closing.swap_remove(i);
                self.remove_tcp(set, h);
            } else {
                i += 1;
            }
        }
        // A listener's socket that went back to Closed (its connection
        // was reset before accept) listens again.
        for s in self.slots.iter().flatten() {
            if let Kind::Listener { port, pending, .. } = &s.kind {
                for h in pending {
                    if set.get::<tcp::Socket>(*h).state() == tcp::State::Closed {
                        listen_on(set, *h, *port);
                    }
                }
            }
        }
        // An accept refills at once; here only what a removal made room for.
        if core::mem::take(&mut self.refill_due) {
            self.refill(set);
        }
        self.ping_replies(set, iface, now);
    }

    /// Every listener's port and how many of its sockets still listen
    /// (device.rs drops a SYN to a port with none left).
    pub fn listen_free(&self, set: &SocketSet<'static>, out: &mut Vec<(u16, u32)>) {
        out.clear();
        for s in self.slots.iter().flatten() {
            if let Kind::Listener { port, pending, .. } = &s.kind {
                let free = pending.iter().filter(|h| set.get::<tcp::Socket>(**h).state() == tcp::State::Listen).count();
                out.push((*port, free as u32));
            }
        }
    }

    /// Send an echo request for client `from`; the answer is sent when
    /// the reply comes (or the timeout passes).
    pub fn ping(
        &mut self,
        set: &mut SocketSet<'static>,
        iface: &Interface,
        from: i32,
        to: Endpoint,
        size: u16,
        timeout_ms: u16,
    ) -> Result<()> {
        let h = self.icmp.ok_or(Error::NoEnt)?;
        let slot = self.pings.iter().position(|p| p.is_none()).ok_or(Error::Busy)?;
        if iface.ipv4_addr().is_none() {
            return Err(Error::NoEnt); // no address yet
        }
        let mut payload = [0u8; NET_PING_MAX];
        for (i, b) in payload.iter_mut().enumerate().take(size as usize) {
            *b = i as u8;
        }
        let repr = Icmpv4Repr::EchoRequest { ident: PING_IDENT, seq_no: to.port, data: &payload[..size as usize] };
        let s = set.get_mut::<icmp::Socket>(h);
        let addr = IpAddress::Ipv4(Ipv4Address::from_octets(to.ip));
        let buf = s.send(repr.buffer_len(), addr).map_err(|_| Error::Busy)?;
        let mut pkt = Icmpv4Packet::new_unchecked(buf);
        repr.emit(&mut pkt, &smoltcp::phy::ChecksumCapabilities::default());
        let now = runtime::ks::uptime();
        self.pings[slot] = Some(Ping { from, ip: to.ip, seq: to.port, sent_ms: now, deadline: now + timeout_ms as u64 });
        Ok(())
    }

    fn ping_replies(&mut self, set: &mut SocketSet<'static>, _iface: &mut Interface, now: u64) {
        if let Some(h) = self.icmp {
            let s = set.get_mut::<icmp::Socket>(h);
            while let Ok((data, from)) = s.recv() {
                let Ok(pkt) = Icmpv4Packet::new_checked(data) else { continue };
                let Ok(Icmpv4Repr::EchoReply { ident, seq_no, .. }) =
                    Icmpv4Repr::parse(&pkt, &smoltcp::phy::ChecksumCapabilities::default())
                else {
                    continue;
                };
                if ident != PING_IDENT {
                    continue;
                }
                let ip = ip_of(from);
                if let Some(p) = self.pings.iter_mut().find(|p| matches!(p, Some(x) if x.seq == seq_no && x.ip == ip)) {
                    let x = p.take().unwrap();
                    reply_to(x.from, Ok((now - x.sent_ms) * 1000));
                }
            }
        }
        for p in self.pings.iter_mut() {
            if matches!(p, Some(x) if now >= x.deadline) {
                let x = p.take().unwrap();
                reply_to(x.from, Err(Error::WouldBlock));
            }
        }
    }

    /// Tell owners whose armed sockets became ready.
    pub fn notify_ready(&mut self, set: &mut SocketSet<'static>) {
        for s in self.slots.iter_mut().flatten() {
            if s.armed == 0 {
                continue;
            }
            let ready = match &s.kind {
                Kind::Tcp(h) => {
                    let t = set.get::<tcp::Socket>(*h);
                    let handshake = matches!(t.state(), tcp::State::SynSent | tcp::State::SynReceived);
                    let mut r = 0;
                    if t.can_recv() || (!handshake && !t.may_recv()) {
                        r |= NET_NOTIFY_READABLE;
                    }
                    if !handshake && (t.can_send() || !t.may_send()) {
                        r |= NET_NOTIFY_WRITABLE;
                    }
                    r
                }
                Kind::Udp(h, _) => {
                    let u = set.get::<udp::Socket>(*h);
                    (if u.can_recv() { NET_NOTIFY_READABLE } else { 0 }) | (if u.can_send() { NET_NOTIFY_WRITABLE } else { 0 })
                }
                Kind::Listener { pending, .. } => {
                    if pending.iter().any(|h| acceptable(set.get::<tcp::Socket>(*h))) {
                        NET_NOTIFY_ACCEPT
                    } else {
                        0
                    }
                }
            };
            let bits = ready & s.armed;
            if bits != 0 {
                s.armed &= !bits;
                let _ = Channel::from_raw(s.owner).notify(bits);
            }
        }
    }
}
