//! pci.rs - the `pci` command, a client of the pci enumerator
//! (runtime::pci; boards with a [pci], CONFIG_PCI):
//!   pci                 -> one line per device: `pci: BB:DD.F VVVV:DDDD class CCSS
//!                          irq N` and its BARs (`bar<i> mem|io 0x<addr> <size>`)
//!   pci claim CC SS     -> PCI_CLAIM_CLASS on a connection of its own (closed
//!                          after): `pci: claimed BB:DD.F` or `pci: claim: E_BUSY`

use crate::Services;
use runtime::args::words;
use runtime::pci::*;
use runtime::{config, println, service, Msg};

pub fn run(_: &mut Services, rest: &str) {
    if !config::CONFIG_PCI {
        return println!("pci: not available on this board");
    }
    let ch = match service::lookup(PCI_SERVICE) {
        Ok(ch) => ch,
        Err(e) => return println!("pci: {}", e),
    };
    let mut w = words(rest);
    match (w.next(), w.next(), w.next()) {
        (None, _, _) => {
            for i in 0..64u64 {
                let mut m = Msg::new(PCI_LIST);
                m.arg = i;
                if ch.call(&mut m).is_err() || m.result().is_err() {
                    break;
                }
                let Ok(d) = PciDevice::parse(&m) else { break };
                let (c, s) = d.class_pair();
                println!("pci: {:02x}:{:02x}.{} {:04x}:{:04x} class {:02x}{:02x} irq {}",
                         d.bus, d.dev, d.func, d.vendor, d.device, c, s, d.irq);
                for (i, b) in d.bars.iter().enumerate().filter(|(_, b)| b.size != 0) {
                    println!("pci:   bar{} {} {:#x} {:#x}", i,
                             if b.flags & BAR_IO != 0 { "io" } else { "mem" }, b.addr, b.size);
                }
            }
        }
        (Some("claim"), Some(c), Some(s)) => {
            let (Ok(c), Ok(s)) = (u8::from_str_radix(c, 16), u8::from_str_radix(s, 16)) else {
                let _ = ch.close();
                return println!("pci: usage: pci [claim <class> <subclass>] (hex)");
            };
            let mut m = claim_class_request(c, s);
            match ch.call(&mut m).and_then(|_| m.result()).and_then(|_| PciDevice::parse(&m)) {
                Ok(d) => println!("pci: claimed {:02x}:{:02x}.{}", d.bus, d.dev, d.func),
                Err(e) => println!("pci: claim: {}", e),
            }
        }
        _ => println!("pci: usage: pci [claim <class> <subclass>] (hex)"),
    }
    let _ = ch.close();
}
