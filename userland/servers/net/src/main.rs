//! net - the TCP/IP server (docs/protocols.md "net server"): smoltcp over
//! the NIC protocol (device.rs; whichever driver registered "nic": e1000
//! on the pc, the LAN9118 on mps2-an386), sockets for clients over
//! channels (runtime::net; sockets.rs), a DHCPv4 client with a static
//! fallback from Kconfig, ARP and ICMP echo (smoltcp answers pings), and
//! echo requests for the shell's `ping`. One task, one loop: poll
//! smoltcp, serve messages, sleep until smoltcp's next deadline
//! (poll_delay) on a timer of the listening channel.
#![no_std]
#![no_main]

extern crate alloc;

mod device;
mod sockets;

use device::NicDevice;
use runtime::abi::*;
use runtime::net::*;
use runtime::nic::*;
use runtime::proto::*;
use runtime::{config, ks, service, Channel, Error, Msg, Result};
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr};
use sockets::Sockets;

runtime::entry!(main);

/// Longest sleep between polls when smoltcp has no deadline (housekeeping:
/// closing sockets, ping timeouts, the NIC coming back).
const IDLE_MS: u64 = 500;
/// Between tries to claim a NIC that is busy or whose driver is gone.
const NIC_RETRY_MS: u64 = 1000;

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            runtime::debug_println!("net: {}", e);
            1
        }
    }
}

fn now() -> Instant {
    Instant::from_millis(ks::uptime() as i64)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Addr {
    None,
    Dhcp,
    Static,
}

pub struct Server {
    listen: Channel,
    clients: service::Clients<8>,
    dev: NicDevice,
    iface: Interface,
    set: SocketSet<'static>,
    socks: Sockets,
    dhcp: smoltcp::iface::SocketHandle,
    addr: Addr,
    /// When to give up on DHCP and take the static address (ms of uptime).
    dhcp_deadline: u64,
    /// The card: its MAC, and whether the driver said it has none.
    mac: [u8; 6],
    no_card: bool,
    /// Not before this uptime: the next try to claim the NIC.
    nic_retry_at: u64,
    /// What was last said on the console (said again only when it changes).
    said_mac: Option<[u8; 6]>,
    said_lease: Option<(Ipv4Cidr, Option<Ipv4Address>)>,
    /// A peer-closed notification came: probe the NIC channel (its
    /// driver's end is only looked at then, not on every wake-up).
    probe_nic: bool,
    /// The uptime (ms) the listening channel's KS_TIMER fires at, if one
    /// is set: a wake-up that wants the same or a later one sets none.
    timer_at: Option<u64>,
    /// The uptime (ms) requests are handled at: read once per wake-up.
    now_ms: u64,
}

fn run() -> Result<()> {
    let listen = service::listen(NET_SERVICE)?;
    let mut dev = NicDevice::new();
    let mut cfg = Config::new(HardwareAddress::Ethernet(EthernetAddress([0x02, 0, 0, 0, 0, 1])));
    cfg.random_seed = runtime::sys::clock() ^ (ks::uptime() << 32);
    let iface = Interface::new(cfg, &mut dev, now());
    let mut set = SocketSet::new(alloc::vec::Vec::new());
    let dhcp = set.add(dhcpv4::Socket::new());
    let mut s = Server {
        listen,
        clients: service::Clients::new(),
        dev,
        iface,
        set,
        socks: Sockets::new(),
        dhcp,
        addr: Addr::None,
        dhcp_deadline: u64::MAX,
        mac: [0; 6],
        no_card: false,
        nic_retry_at: 0,
        said_mac: None,
        said_lease: None,
        probe_nic: false,
        timer_at: None,
        now_ms: 0,
    };
    s.socks.init_icmp(&mut s.set);
    s.attach_nic();
    s.serve()
}

impl Server {
    /// Find the NIC driver ("nic") and claim the card; route its channel
    /// (NIC_NOTIFY_RX, its peer closing) into ours.
    fn attach_nic(&mut self) {
        let t = ks::uptime();
        self.nic_retry_at = t + NIC_RETRY_MS;
        let Ok(ch) = service::lookup(NIC_SERVICE) else { return };
        let mut m = Msg::new(NIC_OPEN);
        let r = ch.call(&mut m).and_then(|_| m.result());
        match r {
            Ok(_) => {}
            Err(e) => {
                let _ = ch.close();
                if e == Error::NoEnt && !self.no_card {
                    self.no_card = true;
                    runtime::debug_println!("net: the NIC driver has no card; network off");
                }
                if e == Error::NoEnt {
                    self.nic_retry_at = u64::MAX; // until the driver restarts
                }
                return;
            }
        }
        let mut m = Msg::new(NIC_INFO);
        let info = ch.call(&mut m).and_then(|_| m.result()).and_then(|_| NicInfo::parse(&m));
        let Ok(info) = info else {
            let _ = ch.close();
            return;
        };
        if ch.transfer(self.listen).is_err() {
            let _ = ch.close();
            return;
        }
        self.no_card = false;
        self.mac = info.mac;
        self.iface.set_hardware_addr(HardwareAddress::Ethernet(EthernetAddress(info.mac)));
        self.dev.ch = Some(ch);
        self.dev.lost = false;
        self.dev.rx_pending = true; // frames may already wait
        if self.addr == Addr::None {
            self.dhcp_deadline = t + config::CONFIG_NET_DHCP_TIMEOUT_MS as u64;
        }
        // The DHCP client goes on as it was: a lease survives the driver's
        // restart (the link and the MAC are the same) and is renewed when due.
        // Said once per instance (and when the card changes): the NIC
        // coming back after a driver restart or NET_DETACH is silent.
        if self.said_mac != Some(info.mac) {
            self.said_mac = Some(info.mac);
            let m = info.mac;
            runtime::debug_println!(
                "net: nic {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} link {}",
                m[0], m[1], m[2], m[3], m[4], m[5],
                if info.link_up { "up" } else { "down" }
            );
        }
    }

    fn detach_nic(&mut self, retry_in_ms: u64) {
        if let Some(ch) = self.dev.ch.take() {
            let _ = ch.close();
        }
        self.dev.rx_pending = false;
        self.dev.lost = false;
        self.nic_retry_at = ks::uptime() + retry_in_ms;
    }

    /// Whether the driver's end of our channel is gone: a call on it
    /// failed, or a peer-closed notification came and a probe says so.
    fn nic_gone(&mut self) -> bool {
        let probe = core::mem::take(&mut self.probe_nic);
        match self.dev.ch {
            Some(ch) => self.dev.lost || (probe && ch.send_noblock(&Msg::new(0)) == Err(Error::Closed)),
            None => false,
        }
    }

    fn serve(&mut self) -> ! {
        let mut m = Msg::new(0);
        // Polls in a row that smoltcp wanted repeated at once (it does so
        // while a frame it wants to send cannot go): after a few, sleep a
        // tick anyway, so that nothing of lower priority starves.
        let mut eager = 0;
        let mut woke_at = None;
        loop {
            // One clock reading per wake-up (each is a kernel call).
            let ms = woke_at.take().unwrap_or_else(ks::uptime);
            self.now_ms = ms;
            let t = Instant::from_millis(ms as i64);
            if self.dev.rx_pending {
                // Only a poll that receives admits SYNs (device.rs).
                self.socks.listen_free(&self.set, &mut self.dev.listen_free);
            }
            self.iface.poll(t, &mut self.dev, &mut self.set);
            self.dhcp_events();
            self.housekeeping(ms);
            self.socks.notify_ready(&mut self.set);
            let mut delay = self.iface.poll_delay(t, &self.set).map_or(IDLE_MS, |d| d.total_millis()).min(IDLE_MS);
            if self.dev.ch.is_none() {
                delay = IDLE_MS; // no NIC: nothing to send or receive
            } else if self.dev.rx_pending {
                delay = 0;
            }
            if delay == 0 {
                eager += 1;
                if eager <= 4 {
                    // Take what waits without blocking, then poll again.
                    for _ in 0..16 {
                        if self.listen.recv_noblock(&mut m).is_err() {
                            break;
                        }
                        self.handle(&m);
                    }
                    continue;
                }
                delay = 1;
            }
            eager = 0;
            // A timer already due no later than this one wakes us in time
            // (early at worst: the loop then looks again).
            let at = ms + delay;
            if self.timer_at.is_none_or(|armed| armed > at) && ks::timer(self.listen, delay as u32).is_ok() {
                self.timer_at = Some(at);
            }
            if self.listen.recv(&mut m).is_ok() {
                let ms = ks::uptime();
                self.now_ms = ms;
                woke_at = Some(ms);
                self.handle(&m);
            }
            // Serve whatever else queued before polling again (bounded).
            for _ in 0..16 {
                if self.listen.recv_noblock(&mut m).is_err() {
                    break;
                }
                self.handle(&m);
            }
        }
    }

    fn housekeeping(&mut self, t: u64) {
        if self.nic_gone() {
            runtime::debug_println!("net: the NIC driver went away; looking for it again");
            self.detach_nic(0);
            self.nic_retry_at = t + 100;
        }
        if self.dev.ch.is_none() && t >= self.nic_retry_at {
            self.attach_nic();
        }
        if self.addr == Addr::None && self.dev.ch.is_some() && t >= self.dhcp_deadline {
            self.static_fallback();
        }
        self.socks.housekeeping(&mut self.set, &mut self.iface, t);
    }

    fn dhcp_events(&mut self) {
        let ev = match self.set.get_mut::<dhcpv4::Socket>(self.dhcp).poll() {
            None => return,
            Some(dhcpv4::Event::Configured(c)) => Some((c.address, c.router)),
            Some(dhcpv4::Event::Deconfigured) => None,
        };
        match ev {
            Some((address, router)) => {
                let c = Lease { address, router };
                self.set_addr(c.address, c.router);
                self.addr = Addr::Dhcp;
                if self.said_lease == Some((address, router)) {
                    return; // the same lease again (a renewal, the NIC back)
                }
                self.said_lease = Some((address, router));
                let a = c.address.address().octets();
                runtime::debug_println!(
                    "net: dhcp {}.{}.{}.{}/{} gateway {}",
                    a[0], a[1], a[2], a[3], c.address.prefix_len(),
                    Ip(c.router.map(|r| r.octets()).unwrap_or([0; 4]))
                );
            }
            None => {
                if self.addr == Addr::Dhcp {
                    self.iface.update_ip_addrs(|a| a.clear());
                    self.iface.routes_mut().remove_default_ipv4_route();
                    self.addr = Addr::None;
                    self.dhcp_deadline = ks::uptime() + config::CONFIG_NET_DHCP_TIMEOUT_MS as u64;
                    self.said_lease = None;
                    runtime::debug_println!("net: dhcp lease lost");
                }
            }
        }
    }

    fn set_addr(&mut self, cidr: Ipv4Cidr, router: Option<Ipv4Address>) {
        self.iface.update_ip_addrs(|a| {
            a.clear();
            let _ = a.push(IpCidr::Ipv4(cidr));
        });
        match router {
            Some(r) => {
                let _ = self.iface.routes_mut().add_default_ipv4_route(r);
            }
            None => {
                self.iface.routes_mut().remove_default_ipv4_route();
            }
        }
    }

    /// No DHCP answer in time: the Kconfig address (the DHCP client keeps
    /// asking; a lease later replaces it).
    fn static_fallback(&mut self) {
        let ip = parse_ipv4(config::CONFIG_NET_STATIC_ADDRESS);
        let gw = parse_ipv4(config::CONFIG_NET_STATIC_GATEWAY);
        let prefix = config::CONFIG_NET_STATIC_PREFIX.min(32) as u8;
        let Some(ip) = ip else {
            self.dhcp_deadline = u64::MAX;
            runtime::debug_println!("net: no DHCP answer and no valid static address; unconfigured");
            return;
        };
        let a = Ipv4Address::from_octets(ip);
        self.set_addr(Ipv4Cidr::new(a, prefix), gw.map(Ipv4Address::from_octets));
        self.addr = Addr::Static;
        runtime::debug_println!(
            "net: no DHCP answer in {} ms; static {}/{} gateway {}",
            config::CONFIG_NET_DHCP_TIMEOUT_MS, Ip(ip), prefix, Ip(gw.unwrap_or([0; 4]))
        );
    }

    fn info(&mut self) -> IfInfo {
        let mut i = IfInfo { mac: self.mac, ..Default::default() };
        if let Some(c) = self.iface.ipv4_addr() {
            i.ip = c.octets();
            i.prefix = self
                .iface
                .ip_addrs()
                .iter()
                .find_map(|a| match a {
                    IpCidr::Ipv4(c) => Some(c.prefix_len()),
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
                .unwrap_or(0);
        }
        let mut gw = [0u8; 4];
        self.iface.routes_mut().update(|r| {
            if let Some(route) = r.iter().find(|r| r.cidr.prefix_len() == 0) {
                let smoltcp::wire::IpAddress::Ipv4(a) = route.via_router;
                gw = a.octets();
            }
        });
        i.gateway = gw;
        i.flags = match self.addr {
            Addr::Dhcp => IF_DHCP,
            Addr::Static => IF_STATIC,
            Addr::None => 0,
        };
        if self.dev.ch.is_some() {
            i.flags |= IF_NIC | IF_LINK;
        }
        i.rx_frames = self.dev.stats.rx_frames;
        i.tx_frames = self.dev.stats.tx_frames;
        i.tx_dropped = self.dev.stats.tx_dropped;
        i.sockets = self.socks.count() as u64;
        i
    }

    fn handle(&mut self, m: &Msg) {
        if m.label != INIT_CONNECT {
            service::drop_payloads(m); // no net request carries a payload
        }
        match m.label {
            LABEL_NOTIFICATION => {
                if m.arg & NIC_NOTIFY_RX != 0 {
                    self.dev.rx_pending = true;
                }
                if m.arg & NOTIFY_TIMER != 0 {
                    self.timer_at = None;
                }
                if m.arg & NOTIFY_PEER_CLOSED != 0 {
                    self.probe_nic = true;
                    self.clients.sweep();
                    self.socks.drop_gone_owners(&mut self.set, &self.clients);
                }
            }
            INIT_CONNECT => {
                // Free what gone clients held before their channel ids
                // can be handed out again.
                self.clients.sweep();
                self.socks.drop_gone_owners(&mut self.set, &self.clients);
                let _ = self.clients.accept(self.listen, m);
            }
            0 => {} // a driver's probe of its channel (no reply wanted)
            label => {
                let from = Channel::from_raw(m.from);
                if self.dev.ch.map(|c| c.cid()) == Some(m.from) {
                    return; // the driver never requests anything
                }
                let mut reply = Msg::new(label);
                let r = match decode(label, m.arg, m.payload()) {
                    None => Err(if label & 0xff00 == runtime::net::NET_TCP_LISTEN & 0xff00 { Error::Inval } else { Error::NoSys }),
                    Some(Request::Info) => {
                        let _ = reply.push_bytes(&self.info().encode());
                        Ok(0)
                    }
                    Some(Request::Detach { ms }) => {
                        self.detach_nic(ms);
                        runtime::debug_println!("net: NIC released for {} ms", ms);
                        Ok(0)
                    }
                    Some(Request::Ping { to, size, timeout_ms }) => {
                        match self.socks.ping(&mut self.set, &self.iface, m.from, to, size, timeout_ms) {
                            Ok(()) => return, // the answer comes later
                            Err(e) => Err(e),
                        }
                    }
                    Some(req) => self.socks.request(&mut self.set, &mut self.iface, m.from, req, &mut reply, self.now_ms),
                };
                if r.is_err() {
                    reply.len = 0;
                }
                reply.arg = runtime::error::to_raw(r);
                let _ = from.reply(&reply);
            }
        }
    }
}

struct Lease {
    address: Ipv4Cidr,
    router: Option<Ipv4Address>,
}

/// An IPv4 address in dotted form.
pub struct Ip(pub [u8; 4]);

impl core::fmt::Display for Ip {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}.{}.{}", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

#[allow(dead_code)]
fn unused(_: Duration) {}
