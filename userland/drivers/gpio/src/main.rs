//! gpio - the STM32L4 system task ("sys", as Hubris's drv/stm32xx-sys;
//! CONFIG_GPIO, the B-L475E-IOT01A): the one task that owns RCC, the GPIO
//! ports, SYSCFG/EXTI (and PWR in an image with USB) (stm32l4.rs). It
//! serves "gpio":
//! - the shell's button and LED (board.toml [gpio]; PC13 and PA5):
//!   GPIO_READ  -> arg = button level (0/1)
//!   GPIO_WAIT  (u32 ms) -> deferred reply, arg = GPIO_EDGE_ROSE / _FELL,
//!                or GPIO_EDGE_TIMEOUT after ms (KS_TIMER); one waiter
//!                at a time (-E_BUSY otherwise); edges before the request
//!                are not reported
//!   GPIO_LED   (u32 GPIO_LED_OFF/_ON/_TOGGLE) -> arg = LED state after
//! - other drivers (keyscan, hid, USB): SYS_CLOCK_ENABLE, SYS_PIN_CONFIG,
//!   SYS_PINS_READ, SYS_PINS_WRITE, SYS_EDGE_SUBSCRIBE, SYS_USB_POWER
//!   (runtime::proto; docs/protocols.md "gpio (sys)"). Only allow-listed
//!   clocks and pins (board.toml [keyboard]); a pin belongs to the
//!   connection that configured it first until that connection closes;
//!   at most SYS_SUBSCRIBERS_MAX connections watch edges.
//! Edges arrive as interrupts of the EXTI lines (the button's `irq`, 40 =
//! EXTI15_10 on the Discovery kit, and the lines of watched pins) on the
//! listening channel; a watched line's edge becomes SYS_NOTIFY_EDGE on
//! its subscriber's channel.
//! It compiles for every target; init starts it only when CONFIG_GPIO.
#![no_std]
#![no_main]

use runtime::service::reply_result as reply;
use runtime::abi::*;
use runtime::proto::*;
use runtime::pinclaims::{PinClaims, NOBODY};
use runtime::{ks, service, Channel, Error, Msg, Result};

mod stm32l4;
use stm32l4::{Board, CLIENT_PINS};

runtime::entry!(main);

/// Pins clients hold at most (the keyboard's, a matrix's and USB's).
const CLAIMS_MAX: usize = 40;

struct Waiter {
    client: Channel,
    deadline: u64,
}

struct Server {
    board: Board,
    listen: Channel,
    waiter: Option<Waiter>,
    clients: service::Clients<8>,
    /// Which connection holds which pin and watches which EXTI line.
    claims: PinClaims<CLAIMS_MAX>,
}

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            runtime::debug_println!("gpio: {}", e);
            1
        }
    }
}

fn run() -> Result<()> {
    let board = Board::new()?;
    let listen = Channel::open()?;
    ks::listen_irq(stm32l4::BUTTON_IRQ, listen)?;
    board.enable_button_interrupt();
    Channel::BOOTSTRAP.transfer(listen)?;
    service::register("gpio")?;
    let mut s = Server { board, listen, waiter: None, clients: service::Clients::new(), claims: PinClaims::new() };
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            s.handle(&m);
        }
    }
}


impl Server {
    fn handle(&mut self, m: &Msg) {
        let from = Channel::from_raw(m.from);
        if m.label != INIT_CONNECT {
            service::drop_payloads(m); // no gpio request carries one
        }
        match m.label {
            LABEL_NOTIFICATION => {
                if m.arg & NOTIFY_IRQ != 0 {
                    self.edges();
                }
                if m.arg & NOTIFY_TIMER != 0 {
                    self.timer();
                }
                if m.is_notification() && m.arg & NOTIFY_PEER_CLOSED != 0 {
                    self.release_gone();
                }
                self.clients.on_notification(m);
            }
            INIT_CONNECT => {
                // Before the sweep in accept: a new client may get a closed one's cid.
                self.release_gone();
                let _ = self.clients.accept(self.listen, m);
            }
            GPIO_READ => reply(from, GPIO_READ, Ok(self.board.button() as u64)),
            GPIO_WAIT => self.wait(from, m),
            GPIO_LED => {
                let r = parse_led_op(m).ok_or(Error::Inval).map(|op| {
                    let on = led_after(op, self.board.led());
                    self.board.set_led(on);
                    on as u64
                });
                reply(from, GPIO_LED, r);
            }
            SYS_CLOCK_ENABLE => {
                let r = match parse_sys_clock(m) {
                    Some((enr, bit)) if stm32l4::clock_allowed(enr, bit) => {
                        self.board.enable_clock(enr, bit);
                        Ok(0)
                    }
                    Some(_) => Err(Error::Perm),
                    None => Err(Error::Inval),
                };
                reply(from, m.label, r);
            }
            SYS_PIN_CONFIG => {
                let r = self.configure(m.from, m);
                reply(from, m.label, r.map(|_| 0));
            }
            SYS_PINS_READ => self.read_pins(from, m),
            SYS_PINS_WRITE => {
                let r = self.write_pins(m.from, m);
                reply(from, m.label, r.map(|_| 0));
            }
            SYS_EDGE_SUBSCRIBE => {
                let r = self.subscribe(m.from, m);
                reply(from, m.label, r.map(|_| 0));
            }
            SYS_USB_POWER => {
                let r = match m.get_u32(0) {
                    Some(on @ 0..=1) if m.len == 4 => self.board.usb_power(on == 1).map(|_| 0),
                    _ => Err(Error::Inval),
                };
                reply(from, m.label, r);
            }
            label => reply(from, label, Err(Error::NoSys)),
        }
    }

    fn configure(&mut self, owner: i32, m: &Msg) -> Result<()> {
        let c = parse_sys_pin_config(m).ok_or(Error::Inval)?;
        let output = c.mode == PIN_MODE_OUTPUT;
        if self.claims.claim(owner, c.port, c.pin, output, &CLIENT_PINS) == Err(Error::Busy) {
            self.release_gone(); // its holder may have died a moment ago
            self.claims.claim(owner, c.port, c.pin, output, &CLIENT_PINS)?;
        }
        self.board.configure_pin(&c);
        Ok(())
    }

    fn read_pins(&mut self, from: Channel, m: &Msg) {
        if m.len != 0 {
            return reply(from, m.label, Err(Error::Inval));
        }
        let mut levels = self.claims.held_ports(m.from, false);
        for (port, v) in levels.iter_mut().enumerate() {
            if *v != 0 {
                *v &= self.board.read_port(port as u32);
            }
        }
        let _ = from.reply(&port_masks_msg(SYS_PINS_READ, &levels));
    }

    fn write_pins(&mut self, owner: i32, m: &Msg) -> Result<()> {
        let (port, mask, levels) = parse_sys_pins_write(m).ok_or(Error::Inval)?;
        if mask & !self.claims.held(owner, port, true) != 0 {
            return Err(Error::Perm);
        }
        self.board.write_pins(port as u32, mask, levels);
        Ok(())
    }

    /// Watch the requested pins (replacing what `owner` watched before).
    fn subscribe(&mut self, owner: i32, m: &Msg) -> Result<()> {
        let masks = parse_port_masks(m).ok_or(Error::Inval)?;
        let w = self.claims.check_watch(owner, &masks, 1 << stm32l4::BUTTON_PIN)?;
        let old = self.claims.unwatch(owner);
        self.stop_lines(old);
        for line in 0..16u32 {
            if w.lines & (1 << line) != 0 {
                ks::listen_irq(stm32l4::exti_irq(line), self.listen)?;
                self.claims.watch_line(owner, line);
                self.board.watch_pin(w.port_of[line as usize] as u32, line);
            }
        }
        Ok(())
    }

    fn stop_lines(&self, lines: u16) {
        for line in 0..16 {
            if lines & (1 << line) != 0 {
                self.board.disable_line(line);
            }
        }
    }

    /// Drop the pins and lines of connections whose client has gone (a
    /// non-blocking probe answers E_CLOSED); called before Clients sweeps
    /// them, so that no new connection inherits a closed one's cid.
    fn release_gone(&mut self) {
        let mut seen = [NOBODY; 8];
        let mut gone = [NOBODY; 8];
        let (mut n, mut g) = (0, 0);
        for owner in self.claims.owners() {
            if n == seen.len() || seen[..n].contains(&owner) {
                continue;
            }
            seen[n] = owner;
            n += 1;
            if Channel::from_raw(owner).send_noblock(&Msg::new(0)) == Err(Error::Closed) {
                gone[g] = owner;
                g += 1;
            }
        }
        for &owner in &gone[..g] {
            self.release(owner);
        }
    }

    fn release(&mut self, owner: i32) {
        let lines = self.claims.release(owner);
        self.stop_lines(lines);
    }

    /// EXTI interrupts: the button's edge to its waiter, watched lines'
    /// edges to their subscribers (one notification per subscriber).
    fn edges(&mut self) {
        let button = 1u32 << stm32l4::BUTTON_PIN;
        let pending = self.board.take_pending(button | self.claims.watched() as u32);
        if pending & button != 0 {
            self.button_edge();
        }
        let mut told = [NOBODY; SYS_SUBSCRIBERS_MAX];
        for line in 0..16 {
            let owner = self.claims.line_owner(line);
            if pending & (1 << line) == 0 || owner == NOBODY || told.contains(&owner) {
                continue;
            }
            if let Some(slot) = told.iter_mut().find(|t| **t == NOBODY) {
                *slot = owner;
            }
            if Channel::from_raw(owner).notify(SYS_NOTIFY_EDGE) == Err(Error::Closed) {
                self.release(owner);
            }
        }
    }

    fn wait(&mut self, from: Channel, m: &Msg) {
        if self.waiter.is_some() {
            return reply(from, GPIO_WAIT, Err(Error::Busy));
        }
        let Some(ms) = m.get_u32(0) else {
            return reply(from, GPIO_WAIT, Err(Error::Inval));
        };
        if ms == 0 {
            return reply(from, GPIO_WAIT, Ok(Edge::Timeout.to_arg()));
        }
        if let Err(e) = ks::timer(self.listen, ms) {
            return reply(from, GPIO_WAIT, Err(e));
        }
        self.waiter = Some(Waiter { client: from, deadline: ks::uptime() + ms as u64 });
    }

    /// The button's EXTI line fired: report the edge to the waiter, if any.
    fn button_edge(&mut self) {
        let edge = Edge::to_level(self.board.button());
        if let Some(w) = self.waiter.take() {
            let _ = ks::timer(self.listen, 0);
            reply(w.client, GPIO_WAIT, Ok(edge.to_arg()));
        }
    }

    /// The wait timer: time out the waiter (a stale expiry of a cancelled
    /// timer, seen before the deadline, re-arms for the rest).
    fn timer(&mut self) {
        let Some(w) = self.waiter.as_ref() else {
            return;
        };
        let now = ks::uptime();
        if now < w.deadline {
            let _ = ks::timer(self.listen, (w.deadline - now) as u32);
            return;
        }
        if let Some(w) = self.waiter.take() {
            reply(w.client, GPIO_WAIT, Ok(Edge::Timeout.to_arg()));
        }
    }
}
