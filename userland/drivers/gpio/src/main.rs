//! gpio - the GPIO server of STM32L4 boards (CONFIG_GPIO; the
//! B-L475E-IOT01A): owns the GPIO ports of the board's button and LED
//! (board.toml [gpio]; PC13 and PA5 on the Discovery kit), SYSCFG/EXTI and
//! RCC (stm32l4.rs); serves "gpio":
//!   GPIO_READ  -> arg = button level (0/1)
//!   GPIO_WAIT  (u32 ms) -> deferred reply, arg = GPIO_EDGE_ROSE / _FELL,
//!                or GPIO_EDGE_TIMEOUT after ms (KS_TIMER); one waiter
//!                at a time (-E_BUSY otherwise); edges before the request
//!                are not reported
//!   GPIO_LED   (u32 GPIO_LED_OFF/_ON/_TOGGLE) -> arg = LED state after
//! Edges arrive as interrupts of the button's EXTI line (both edges; the
//! button's board.toml `irq`, 40 = EXTI15_10 on the Discovery kit) on the listening
//! channel; the level read after the interrupt says which edge it was.
//! Labels are in runtime::proto; userland/README.md documents them.
//! It compiles for every target; init starts it only when CONFIG_GPIO.
#![no_std]
#![no_main]

use runtime::abi::*;
use runtime::proto::*;
use runtime::{ks, service, Channel, Error, Msg, Result};

mod stm32l4;
use stm32l4::Board;

runtime::entry!(main);

struct Waiter {
    client: Channel,
    deadline: u64,
}

struct Server {
    board: Board,
    listen: Channel,
    waiter: Option<Waiter>,
    clients: service::Clients<8>,
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
    let mut s = Server { board, listen, waiter: None, clients: service::Clients::new() };
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            s.handle(&m);
        }
    }
}

fn reply(to: Channel, label: u16, r: Result<u64>) {
    let mut m = Msg::new(label);
    m.arg = runtime::error::to_raw(r);
    let _ = to.reply(&m);
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
                    self.edge();
                }
                if m.arg & NOTIFY_TIMER != 0 {
                    self.timer();
                }
                self.clients.on_notification(m);
            }
            INIT_CONNECT => {
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
            label => reply(from, label, Err(Error::NoSys)),
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
    fn edge(&mut self) {
        if !self.board.take_edge() {
            return;
        }
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
