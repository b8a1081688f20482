//! gpio.rs - the `gpio` and `led` commands, clients of the gpio server
//! (runtime::proto GPIO_*; b-l475e-iot01a only, CONFIG_GPIO). Output
//! formats: docs/mcu-port.md, "GPIO on b-l475e-iot01a".

use crate::Services;
use runtime::args::{parse_u32, words};
use runtime::proto::*;
use runtime::{config, println, Channel, Msg, Result};

const NOT_AVAILABLE: &str = "gpio: not available on this board";

fn call(svc: &mut Services, mut m: Msg) -> Result<u64> {
    let ch: Channel = svc.gpio()?;
    ch.call(&mut m)?;
    m.result()
}

/// `gpio` -> `PC13=<0|1>`; `gpio wait <ms>` -> `PC13 rose` / `PC13 fell`
/// / `gpio: timeout`.
pub fn gpio(svc: &mut Services, rest: &str) {
    if !config::CONFIG_GPIO {
        return println!("{}", NOT_AVAILABLE);
    }
    let mut w = words(rest);
    match (w.next(), w.next(), w.next()) {
        (None, _, _) => match call(svc, Msg::new(GPIO_READ)) {
            Ok(level) => println!("PC13={}", level),
            Err(e) => println!("gpio: {}", e),
        },
        (Some("wait"), Some(ms), None) => {
            let Some(ms) = parse_u32(ms) else {
                return println!("gpio: usage: gpio [wait <ms>]");
            };
            match call(svc, gpio_wait_request(ms)).map(Edge::from_arg) {
                Ok(Some(Edge::Rose)) => println!("PC13 rose"),
                Ok(Some(Edge::Fell)) => println!("PC13 fell"),
                Ok(Some(Edge::Timeout)) => println!("gpio: timeout"),
                Ok(None) => println!("gpio: bad reply"),
                Err(e) => println!("gpio: {}", e),
            }
        }
        _ => println!("gpio: usage: gpio [wait <ms>]"),
    }
}

/// `led on|off|toggle` -> `LED on` / `LED off`.
pub fn led(svc: &mut Services, rest: &str) {
    if !config::CONFIG_GPIO {
        return println!("{}", NOT_AVAILABLE);
    }
    let op = match rest.trim() {
        "on" => GPIO_LED_ON,
        "off" => GPIO_LED_OFF,
        "toggle" => GPIO_LED_TOGGLE,
        _ => return println!("led: usage: led on|off|toggle"),
    };
    match call(svc, gpio_led_request(op)) {
        Ok(on) => println!("LED {}", if on != 0 { "on" } else { "off" }),
        Err(e) => println!("led: {}", e),
    }
}
