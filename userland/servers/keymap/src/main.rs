//! keymap - key events to HID state (design.md, "The keyboard";
//! docs/protocols.md, "keyboard pipeline"): keyboard::keymap::Keymap over
//! the board's layers (board/<b>/keymap.toml, generated into
//! keyboard::board). Serves "keymap":
//!   KEY_EVENT    -> reply arg 0; the change goes through the keymap
//!   KEY_SNAPSHOT -> reply arg 0; releases the keys no longer held,
//!                   presses the newly held ones (keyscan's resync)
//! Only one connection may send them: the first that does (keyscan,
//! which init starts at boot), until it closes (-E_PERM for others).
//! Each change of the HID state goes to "hid" as HID_STATE with the stamp
//! of the event that caused it; a mod-tap still undecided is decided by a
//! KS_TIMER after the tapping term (stamp 0). It connects to hid before it
//! registers, and sends it the whole state after each KEY_SNAPSHOT; when hid goes away (a
//! HID_STATE fails E_CLOSED; a peer-closed notification makes it check)
//! it looks the restarted hid up by name and sends it the whole state
//! (init hands connections over without blocking, so a registered server
//! may look a service up).
#![no_std]
#![no_main]

use runtime::service::reply_result as reply;
use keyboard::board as kb;
use keyboard::keymap::{HidState, Keymap};
use keyboard::scan::resync;
use keyboard::KeyEvent;
use runtime::abi::*;
use runtime::proto::*;
use runtime::{ks, println, service, Channel, Error, Msg, Result};

runtime::entry!(main);

const N: usize = kb::KEY_COUNT;

fn main(_arg: u64) -> i32 {
    match run() {
        Ok(()) => 0,
        Err(e) => {
            println!("keymap: {}", e);
            1
        }
    }
}

struct Server {
    listen: Channel,
    clients: service::Clients<4>,
    keymap: Keymap<'static, N>,
    /// The keys as keymap last heard them (pressed, not yet released).
    down: [bool; N],
    /// The connection that sends key messages (keyscan's).
    scanner: service::Holder,
    hid: Option<Channel>,
}

fn run() -> Result<()> {
    // tools/keymap.py checked the layers already; this cannot fail.
    let keymap = Keymap::new(&kb::LAYERS, kb::TAPPING_TERM_MS).map_err(|_| Error::Inval)?;
    let listen = Channel::open()?;
    // hid first (waits for it to register), then register "keymap".
    let hid = match service::lookup("hid") {
        Ok(ch) => {
            ch.transfer(listen)?; // its peer-closed notification arrives on `listen`
            Some(ch)
        }
        Err(e) => {
            println!("keymap: no hid ({}): HID states go nowhere", e);
            None
        }
    };
    Channel::BOOTSTRAP.transfer(listen)?;
    service::register("keymap")?;
    // No state goes to hid before keyscan's KEY_SNAPSHOT (it sends one when
    // it finds keymap gone, or when it starts): a key held across a keymap
    // restart is not released and pressed again on the way.
    let mut s = Server { listen, clients: service::Clients::new(), keymap, down: [false; N], scanner: service::Holder::NOBODY, hid };
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
            service::drop_payloads(m); // no keymap message carries one
        }
        match m.label {
            LABEL_NOTIFICATION => {
                if m.arg & NOTIFY_TIMER != 0 {
                    self.tick();
                }
                if m.is_notification() && m.arg & NOTIFY_PEER_CLOSED != 0 {
                    self.forget_gone_scanner();
                    // hid may have died: resend the state (a live hid drops a repeat;
                    // a dead one: keymap finds the new one).
                    let state = self.keymap.state();
                    self.send_hid(&state, 0);
                }
                self.clients.on_notification(m);
            }
            INIT_CONNECT => {
                self.forget_gone_scanner(); // before the sweep in accept reuses its cid
                let _ = self.clients.accept(self.listen, m);
            }
            KEY_EVENT | KEY_SNAPSHOT => {
                if Some(from) == self.hid || m.from == BOOTSTRAP_CID {
                    return reply(from, m.label, Err(Error::Perm));
                }
                if !self.scanner.allows(m.from) {
                    return reply(from, m.label, Err(Error::Perm));
                }
                if m.label == KEY_EVENT {
                    match parse_key_event(m) {
                        Some(e) if (e.index as usize) < N => {
                            self.scanner.take(m.from);
                            // The state goes to hid before keyscan hears back:
                            // the key's path to its report is not held up by
                            // keyscan's return to sleep.
                            self.event(e.index as usize, e.pressed, e.time, e.stamp);
                            reply(from, m.label, Ok(0));
                        }
                        _ => reply(from, m.label, Err(Error::Inval)),
                    }
                } else {
                    match parse_key_snapshot(m) {
                        Some((time, count, stamp, bits)) if count == N => {
                            self.scanner.take(m.from);
                            let mut held = [false; N];
                            for (k, h) in held.iter_mut().enumerate() {
                                *h = bits[k / 8] & (1 << (k % 8)) != 0;
                            }
                            self.snapshot(&held, time, stamp);
                            reply(from, m.label, Ok(0));
                        }
                        _ => reply(from, m.label, Err(Error::Inval)),
                    }
                }
            }
            label => reply(from, label, Err(Error::NoSys)),
        }
    }

    /// The scanner's connection has closed (keyscan died): the next
    /// connection to send key messages is the scanner.
    fn forget_gone_scanner(&mut self) {
        self.scanner.release_if_gone();
    }

    fn event(&mut self, index: usize, pressed: bool, time: u32, stamp: u64) {
        if self.down[index] == pressed {
            return; // a repeat: the keymap keeps the first
        }
        self.down[index] = pressed;
        let mut states = [HidState::default(); 4];
        let mut n = 0;
        self.keymap.event(KeyEvent { index: index as u16, pressed, time }, |s| {
            if n < states.len() {
                states[n] = *s;
            }
            n += 1;
        });
        for s in states.iter().take(n.min(4)) {
            self.send_hid(s, stamp);
        }
        if self.keymap.pending() {
            let _ = ks::timer(self.listen, kb::TAPPING_TERM_MS);
        }
    }

    fn snapshot(&mut self, held: &[bool; N], time: u32, stamp: u64) {
        let down = self.down;
        let mut changes: [Option<(usize, bool)>; N] = [None; N];
        let mut n = 0;
        resync(&down, |k| held[k], |k, p| {
            changes[n] = Some((k, p));
            n += 1;
        });
        for &(k, p) in changes.iter().flatten() {
            self.event(k, p, time, stamp);
        }
        // The whole state after every snapshot: a new hid hears its first
        // state even when nothing changed (a live one drops the repeat). No
        // key event caused it: stamp 0 (changes went out above, stamped).
        let state = self.keymap.state();
        self.send_hid(&state, 0);
    }

    /// The tapping term passed: decide mod-taps held past it.
    fn tick(&mut self) {
        let mut out = None;
        self.keymap.tick(ks::uptime() as u32, |s| out = Some(*s));
        if let Some(s) = out {
            self.send_hid(&s, 0);
        }
        if self.keymap.pending() {
            let _ = ks::timer(self.listen, kb::TAPPING_TERM_MS);
        }
    }

    /// HID_STATE to hid. hid gone (E_CLOSED): find the restarted hid by
    /// name (init waits for it to register) and send it the state, which
    /// a new hid always reports (so the host drops what is no longer held).
    #[inline(never)]
    fn send_hid(&mut self, s: &HidState, stamp: u64) {
        let Some(ch) = self.hid else {
            return;
        };
        let mut m = hid_state_msg(stamp, s.mods, &s.keys);
        if ch.call(&mut m) != Err(Error::Closed) {
            return;
        }
        let _ = ch.close();
        self.hid = None;
        match service::lookup("hid") {
            Ok(new) => {
                let _ = new.transfer(self.listen); // its peer-closed notification comes here
                self.hid = Some(new);
                let mut m = hid_state_msg(stamp, s.mods, &s.keys);
                let _ = new.call(&mut m);
            }
            Err(e) => println!("keymap: hid gone and not found again ({}): HID states go nowhere", e),
        }
    }
}
