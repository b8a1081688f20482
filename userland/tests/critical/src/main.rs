//! critical - a test helper that only sleeps. init's policy table marks
//! it critical and starts it only on request (INIT_SPAWN, the shell's
//! `start critical`): the HIL test kills it and watches the system stop
//! with the reason (KS_HALT). Not started at boot, so the real system
//! does not depend on it.
#![no_std]
#![no_main]

use runtime::service;

runtime::entry!(main);

fn main(_arg: u64) -> i32 {
    loop {
        let _ = service::sleep_ms(60_000);
    }
}
