//! memory - the pager. The kernel sends it LABEL_PAGE_FAULT for heap
//! faults of every task it pages for; it maps a fresh page at its scratch
//! address (KS_ALLOC_PAGE) and replies with that page as the payload, or
//! refuses faults outside the heap (the kernel then kills the task). The
//! heap range (the same in every task) and the scratch address come from
//! its bootinfo.
//! Also answers MEM_STATS. It has no pager itself and never allocates.
#![no_std]
#![no_main]

use runtime::abi::*;
use runtime::proto::*;
use runtime::{ks, service, sys, Channel, Msg};

runtime::entry!(main);

/// Client channels tracked for cleanup (pager and MEM_STATS clients).
const MAX_CLIENTS: usize = 64;

struct Pager {
    listen: Channel,
    /// The heap range every task has (ours, from the bootinfo).
    heap: core::ops::Range<u64>,
    /// Where pages are mapped in this task before they move to the faulter.
    scratch: u64,
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
    let Some(bi) = sys::bootinfo() else {
        runtime::debug_println!("memory: no bootinfo");
        return 1;
    };
    let heap = bi.heap_base..bi.heap_base + bi.heap_size;
    let mut p = Pager { listen, heap, scratch: bi.scratch, served: 0, refused: 0, scratch_mapped: false, clients: [-1; MAX_CLIENTS] };
    let mut m = Msg::new(0);
    loop {
        if listen.recv(&mut m).is_ok() {
            p.handle(&mut m);
        }
    }
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

    /// Serve or refuse one fault (data: struct page_fault_msg).
    fn page_fault(&mut self, from: Channel, m: &Msg) {
        let addr = m.get_struct::<PageFaultMsg>().map_or(0, |f| f.addr);
        let mut r = Msg::new(LABEL_PAGE_FAULT_REPLY);
        if self.heap.contains(&addr) && self.map_scratch() {
            r.set_page(self.scratch);
            if from.reply(&r).is_ok() {
                self.scratch_mapped = false;
                self.served += 1;
            }
            return;
        }
        self.refused += 1;
        let _ = from.reply(&r);
    }

    /// A fresh zeroed page at the scratch address (kept if the last reply
    /// failed).
    fn map_scratch(&mut self) -> bool {
        if !self.scratch_mapped {
            self.scratch_mapped = ks::alloc_page(self.scratch).is_ok();
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
