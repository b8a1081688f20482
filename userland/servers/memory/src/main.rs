//! memory - the pager. The kernel sends it LABEL_PAGE_FAULT for heap
//! faults of every task it pages for; it maps a fresh page at a scratch
//! address (KS_ALLOC_PAGE) and replies with that page as the payload, or
//! refuses faults outside the heap (the kernel then kills the task).
//! Also answers MEM_STATS. It has no pager itself and never allocates.
#![no_std]
#![no_main]

use runtime::abi::*;
use runtime::proto::*;
use runtime::{ks, service, Channel, Msg};

runtime::entry!(main);

/// The standard heap range of every task (docs/protocols.md).
const HEAP_BASE: u64 = 0x100_0000_0000;
const HEAP_SIZE: u64 = 64 << 20;
/// Where pages are mapped in this task before they move to the faulter.
const SCRATCH: u64 = 0x1f0_0000_0000;
/// Client channels tracked for cleanup (pager and MEM_STATS clients).
const MAX_CLIENTS: usize = 64;

struct Pager {
    listen: Channel,
    served: u64,
    refused: u64,
    scratch_mapped: bool,
    clients: [i32; MAX_CLIENTS],
}

fn main(_arg: u64) -> i32 {
    let listen = match service::listen("memory") {
        Ok(ch) => ch,
        Err(e) => {
            runtime::debug_println!("memory: cannot register: {}", e);
            return 1;
        }
    };
    let mut p = Pager { listen, served: 0, refused: 0, scratch_mapped: false, clients: [-1; MAX_CLIENTS] };
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            p.handle(&mut m);
        }
    }
}

fn in_heap(addr: u64) -> bool {
    (HEAP_BASE..HEAP_BASE + HEAP_SIZE).contains(&addr)
}

impl Pager {
    fn handle(&mut self, m: &mut Msg) {
        let from = Channel::from_raw(m.from);
        match m.label {
            LABEL_PAGE_FAULT => self.page_fault(from, m),
            MEM_STATS => {
                let mut r = Msg::new(MEM_STATS);
                let _ = r.push_u64(self.served);
                let _ = r.push_u64(self.refused);
                let _ = from.reply(&r);
            }
            INIT_CONNECT => self.connect(m),
            LABEL_NOTIFICATION => {}
            _ => {
                let mut r = Msg::new(m.label);
                r.arg = runtime::error::to_raw(Err(runtime::Error::NoSys));
                let _ = from.reply(&r);
            }
        }
    }

    /// Serve or refuse one fault: data = tid, page address, flags.
    fn page_fault(&mut self, from: Channel, m: &Msg) {
        let addr = m.get_u64(8).unwrap_or(0);
        let mut r = Msg::new(LABEL_PAGE_FAULT_REPLY);
        if in_heap(addr) && self.map_scratch() {
            r.set_page(SCRATCH);
            if from.reply(&r).is_ok() {
                self.scratch_mapped = false;
                self.served += 1;
            }
            return;
        }
        self.refused += 1;
        let _ = from.reply(&r);
    }

    /// A fresh zeroed page at SCRATCH (kept if the last reply failed).
    fn map_scratch(&mut self) -> bool {
        if !self.scratch_mapped {
            self.scratch_mapped = ks::alloc_page(SCRATCH).is_ok();
        }
        self.scratch_mapped
    }

    /// A new client (or pager) channel from init.
    fn connect(&mut self, m: &Msg) {
        self.sweep();
        match service::accept(self.listen, m) {
            Ok(ch) => match self.clients.iter_mut().find(|c| **c < 0) {
                Some(slot) => *slot = ch.cid(),
                None => runtime::debug_println!("memory: client table full"),
            },
            Err(e) => runtime::debug_println!("memory: connect failed: {}", e),
        }
    }

    /// Close channels whose other end is gone (the task died). A
    /// non-blocking send of an empty message probes a channel without
    /// side effects: E_CLOSED if unlinked, else E_WOULDBLOCK (nobody
    /// receives on a pager channel or waits in a plain receive on a
    /// client channel).
    fn sweep(&mut self) {
        for slot in self.clients.iter_mut().filter(|c| **c >= 0) {
            let ch = Channel::from_raw(*slot);
            if ch.send_noblock(&Msg::new(0)) == Err(runtime::Error::Closed) {
                let _ = ch.close();
                *slot = -1;
            }
        }
    }
}
