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
    /// Faults refused, forged ones (without MSG_KERNEL) included.
    refused: u64,
    scratch_mapped: bool,
    clients: service::Clients<MAX_CLIENTS>,
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
    let mut p = Pager { listen, heap, scratch: bi.scratch, served: 0, refused: 0, scratch_mapped: false, clients: service::Clients::new() };
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
        if m.label != INIT_CONNECT {
            // No request to the pager carries a payload: a channel or a
            // page sent along would stay here for good.
            service::drop_payloads(m);
        }
        match m.label {
            // Only the kernel's own fault messages (MSG_KERNEL, which no
            // task can send): a forged one could map pages anywhere.
            LABEL_PAGE_FAULT if m.flags & MSG_KERNEL != 0 => self.page_fault(from, m),
            LABEL_PAGE_FAULT => {
                self.refused += 1;
                let mut r = Msg::new(LABEL_PAGE_FAULT_REPLY);
                r.arg = runtime::error::to_raw(Err(runtime::Error::Perm));
                let _ = from.reply(&r);
            }
            MEM_STATS => {
                let mut r = Msg::new(MEM_STATS);
                let _ = r.push_u64(self.served);
                let _ = r.push_u64(self.refused);
                let _ = from.reply(&r);
            }
            INIT_CONNECT => self.connect(m),
            LABEL_NOTIFICATION => self.clients.on_notification(m),
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
        // A refusal is the client's business (an INIT_CONNECT not from
        // init, or a full table): no console line, or any client could
        // make this server flood the console.
        let _ = self.clients.accept(self.listen, m);
    }
}
