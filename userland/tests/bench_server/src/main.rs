//! bench_server - the other end of the shell's `bench`: registers as
//! "bench_server" and answers every call with an empty reply, using
//! REPLY|RECV in a tight loop on the raw message buffer (the IPC fastpath).
#![no_std]
#![no_main]

use runtime::abi::*;
use runtime::{service, sys, Channel, Msg};

runtime::entry!(main);

fn main(_arg: u64) -> i32 {
    let listen = match service::listen("bench_server") {
        Ok(ch) => ch,
        Err(e) => {
            runtime::debug_println!("bench_server: cannot register: {}", e);
            return 1;
        }
    };
    let mut m = Msg::new(0);
    let mut clients = service::Clients::<8>::new();
    loop {
        if listen.recv(&mut m).is_err() {
            continue;
        }
        serve(listen, &mut clients, &mut m);
    }
}

/// Answer requests until something other than a plain call arrives;
/// `m` holds the request just received.
fn serve(listen: Channel, clients: &mut service::Clients<8>, m: &mut Msg) {
    let buf = sys::msgbuf();
    loop {
        if m.label == runtime::proto::INIT_CONNECT {
            let _ = clients.accept(listen, m);
            return;
        }
        if m.flags != 0 {
            // A bench call carries nothing: drop what a client sent along.
            // SAFETY: as below; read only off the fast path.
            m.page = unsafe { (*buf).page };
            service::drop_payloads(m);
        }
        if m.is_notification() {
            // SAFETY: as below.
            m.arg = unsafe { (*buf).arg };
            clients.on_notification(m);
            return;
        }
        let from = m.from;
        // SAFETY: buf is this task's message buffer (valid for the task's
        // life); single-threaded, and no reference to it is held across
        // the syscall. Only the header fields of an empty reply are set.
        unsafe {
            (*buf).len = 0;
            (*buf).flags = 0;
            (*buf).arg = 0;
        }
        if sys::ipc(from, IPC_REPLY | IPC_RECV) < 0 {
            return;
        }
        // SAFETY: as above; the next request is in the buffer now.
        unsafe {
            m.label = (*buf).label;
            m.from = (*buf).from;
            m.flags = (*buf).flags;
            m.channel = (*buf).channel;
        }
    }
}
