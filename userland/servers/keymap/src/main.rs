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
//! it exits, and init restarts it: a registered server must not look a
//! service up (init delivers INIT_CONNECT with a blocking send, so a
//! client connecting to keymap while keymap waits in INIT_LOOKUP would
//! block init and keymap on each other). keyscan then resends its held
//! keys (KEY_SNAPSHOT), and the new hid hears the whole state.
#![no_std]
#![no_main]

use keyboard::board as kb;
use keyboard::keymap::{HidState, Keymap};
use keyboard::scan::resync;
use keyboard::KeyEvent;
use runtime::abi::*;
use runtime::proto::*;
use runtime::{ks, println, service, Channel, Error, Msg, Result};

runtime::entry!(main);

const N: usize = kb::KEY_COUNT;
const NOBODY: i32 = -1;

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
    scanner: i32,
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
    let mut s = Server { listen, clients: service::Clients::new(), keymap, down: [false; N], scanner: NOBODY, hid };
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
                    // a dead one makes keymap exit).
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
                if self.scanner != NOBODY && self.scanner != m.from {
                    return reply(from, m.label, Err(Error::Perm));
                }
                if m.label == KEY_EVENT {
                    match parse_key_event(m) {
                        Some(e) if (e.index as usize) < N => {
                            self.scanner = m.from;
                            reply(from, m.label, Ok(0));
                            self.event(e.index as usize, e.pressed, e.time, e.stamp);
                        }
                        _ => reply(from, m.label, Err(Error::Inval)),
                    }
                } else {
                    match parse_key_snapshot(m) {
                        Some((time, count, stamp, bits)) if count == N => {
                            self.scanner = m.from;
                            let mut held = [false; N];
                            for (k, h) in held.iter_mut().enumerate() {
                                *h = bits[k / 8] & (1 << (k % 8)) != 0;
                            }
                            reply(from, m.label, Ok(0));
                            self.snapshot(&held, time, stamp);
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
        if self.scanner != NOBODY && Channel::from_raw(self.scanner).send_noblock(&Msg::new(0)) == Err(Error::Closed) {
            self.scanner = NOBODY;
        }
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

    /// HID_STATE to hid. hid gone (E_CLOSED): exit, so that init starts
    /// a keymap that finds the new hid before it registers (see the top).
    #[inline(never)]
    fn send_hid(&mut self, s: &HidState, stamp: u64) {
        let Some(ch) = self.hid else {
            return;
        };
        let mut m = hid_state_msg(stamp, s.mods, &s.keys);
        if ch.call(&mut m) == Err(Error::Closed) {
            println!("keymap: hid went away; exiting to find the new one");
            ks::exit(1);
        }
    }
}
