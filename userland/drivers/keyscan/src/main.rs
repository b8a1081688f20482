//! keyscan - the keyboard's pins to debounced key events (design.md, "The
//! keyboard"; docs/protocols.md, "keyboard pipeline"). A client of "gpio"
//! (the sys task: pin setup, pin reads, edge notifications) and of
//! "keymap" (KEY_EVENT, KEY_SNAPSHOT).
//!
//! Wiring (keyboard::board, generated from board.toml and Kconfig): one
//! pin per key, pulled up, active low (direct wiring, and every board
//! under CONFIG_TWIN); with CONFIG_TWIN=n on a board with a matrix, the
//! matrix through keyboard::matrix::Scanner (diode direction required).
//!
//! While every key is up and no debounce timer runs it sleeps until a
//! watched pin changes (SYS_NOTIFY_EDGE); otherwise it scans every
//! CONFIG_KEYBOARD_SCAN_MS (KS_TIMER: at least one kernel tick). Each
//! debounced change is a KEY_EVENT with the SYS_CLOCK reading taken when
//! the scan that first saw it began. After it starts, and whenever it
//! (re)connects to keymap or hears that a peer closed, it sends keymap a
//! KEY_SNAPSHOT of every held key. If "gpio" goes away it exits: init
//! restarts it, and it sets its pins up again.
#![no_std]
#![no_main]

use keyboard::board as kb;
use keyboard::matrix::{Diode, MatrixPins, MatrixSpec, Scanner};
use keyboard::scan::StampedDebouncer;
use runtime::abi::*;
use runtime::proto::*;
use runtime::{ks, println, service, sys, Channel, Error, Msg, Result};

runtime::entry!(main);

const N: usize = kb::KEY_COUNT;
/// The real board's matrix (CONFIG_TWIN=n and a [keyboard.matrix]).
const MATRIX: bool = !kb::TWIN && (kb::MATRIX_ROWS.len() > 0 || kb::MATRIX_DIODE.is_some());

fn main(_arg: u64) -> i32 {
    if N == 0 {
        println!("keyscan: the board has no keys");
        return 1;
    }
    match run() {
        Ok(()) => 0,
        Err(e) => {
            println!("keyscan: {}", e);
            1
        }
    }
}

/// A channel to "gpio" and the calls keyscan makes on it.
struct Sys {
    ch: Channel,
}

impl Sys {
    /// IPC_CALL; the reply replaces `m`.
    fn call(&self, m: &mut Msg) -> Result<()> {
        self.ch.call(m)?;
        m.result().map(|_| ())
    }

    fn config(&self, (port, pin): (u8, u8), mode: u8, pull: u8, level: u8) -> Result<()> {
        let c = SysPinConfig { port, pin, mode, pull, af: 0, level };
        self.call(&mut sys_pin_config_request(&c))
    }

    fn read(&self) -> Result<[u16; SYS_PORTS]> {
        let mut m = Msg::new(SYS_PINS_READ);
        self.call(&mut m)?;
        parse_port_masks(&m).ok_or(Error::Inval)
    }

    fn write(&self, (port, pin): (u8, u8), high: bool) -> Result<()> {
        let bit = 1u16 << pin;
        self.call(&mut sys_pins_write_request(port, bit, if high { bit } else { 0 }))
    }

    fn watch(&self, pins: &[(u8, u8)]) -> Result<()> {
        let mut masks = [0u16; SYS_PORTS];
        for &(port, pin) in pins {
            masks[port as usize] |= 1 << pin;
        }
        self.call(&mut port_masks_msg(SYS_EDGE_SUBSCRIBE, &masks))
    }
}

fn low(levels: &[u16; SYS_PORTS], (port, pin): (u8, u8)) -> bool {
    levels[port as usize] & (1 << pin) == 0
}

/// The matrix through sys: drive lines are outputs, active low; sense
/// lines inputs with pull-ups. A failed call is remembered (the scan goes on).
struct SysMatrix<'a> {
    sys: &'a Sys,
    drive: &'static [(u8, u8)],
    sense: &'static [(u8, u8)],
    error: Option<Error>,
}

impl MatrixPins for SysMatrix<'_> {
    fn select(&mut self, line: usize) {
        if let Err(e) = self.sys.write(self.drive[line], false) {
            self.error = Some(e);
        }
    }

    fn unselect(&mut self, line: usize) {
        if let Err(e) = self.sys.write(self.drive[line], true) {
            self.error = Some(e);
        }
    }

    fn read(&mut self) -> u32 {
        match self.sys.read() {
            Ok(levels) => self.sense.iter().enumerate().fold(0, |m, (i, &p)| if low(&levels, p) { m | 1 << i } else { m }),
            Err(e) => {
                self.error = Some(e);
                0
            }
        }
    }
}

struct Keyscan {
    events: Channel,
    sys: Sys,
    keymap: Option<Channel>,
    /// keymap must hear a KEY_SNAPSHOT before the next event.
    resync: bool,
    debouncer: StampedDebouncer<N>,
    scanner: Option<Scanner>,
    /// The one message buffer for receiving and for keymap: the stack is
    /// small (tasks.toml) and a lookup on reconnect needs its own.
    msg: Msg,
}

fn run() -> Result<()> {
    let events = Channel::open()?;
    let sys_ch = service::lookup("gpio")?;
    sys_ch.transfer(events)?; // edge notifications arrive on `events`
    let sys = Sys { ch: sys_ch };
    let scanner = if MATRIX { Some(setup_matrix(&sys)?) } else { None };
    if !MATRIX {
        for &p in kb::KEY_PINS.iter() {
            sys.config(p, PIN_MODE_INPUT, PIN_PULL_UP, 0)?;
        }
        sys.watch(&kb::KEY_PINS)?;
    }
    let mut k = Keyscan {
        events,
        sys,
        keymap: None,
        resync: true,
        debouncer: StampedDebouncer::new(kb::DEBOUNCE, kb::DEBOUNCE_MS),
        scanner,
        msg: Msg::new(0),
    };
    k.scan()?;
    k.snapshot(ks::uptime() as u32, sys::clock());
    loop {
        // A raw change not yet debounced keeps a debounce timer running.
        let active = k.debouncer.active();
        if active {
            ks::timer(k.events, kb::SCAN_MS)?;
        } else if MATRIX {
            k.idle_matrix()?;
        }
        if k.events.recv(&mut k.msg).is_err() {
            continue;
        }
        service::drop_payloads(&k.msg); // keyscan is nobody's server
        if !k.msg.is_notification() {
            continue; // a peer's liveness probe (label 0) or anything else: ignored
        }
        if k.msg.arg & NOTIFY_PEER_CLOSED != 0 {
            k.resync = true; // keymap or gpio went away: the scan and the snapshot find out which
        }
        k.scan()?;
        if k.resync {
            k.snapshot(ks::uptime() as u32, sys::clock());
        }
    }
}

fn setup_matrix(sys: &Sys) -> Result<Scanner> {
    let spec = MatrixSpec { rows: kb::MATRIX_ROWS.len(), cols: kb::MATRIX_COLS.len(), diode: kb::MATRIX_DIODE };
    let scanner = Scanner::new(spec).map_err(|e| {
        println!("keyscan: {}", e);
        Error::Inval
    })?;
    let (drive, sense) = lines();
    for &p in drive {
        sys.config(p, PIN_MODE_OUTPUT, PIN_PULL_NONE, 1)?;
    }
    for &p in sense {
        sys.config(p, PIN_MODE_INPUT, PIN_PULL_UP, 0)?;
    }
    sys.watch(sense)?;
    Ok(scanner)
}

/// (drive lines, sense lines) of the matrix.
fn lines() -> (&'static [(u8, u8)], &'static [(u8, u8)]) {
    match kb::MATRIX_DIODE {
        Some(Diode::Row2Col) => (&kb::MATRIX_COLS, &kb::MATRIX_ROWS),
        _ => (&kb::MATRIX_ROWS, &kb::MATRIX_COLS),
    }
}

impl Keyscan {
    /// Every drive line active: any press pulls a sense line low (an edge).
    fn idle_matrix(&self) -> Result<()> {
        for &p in lines().0 {
            self.sys.write(p, false)?;
        }
        Ok(())
    }

    /// One scan: read the keys, debounce, send keymap the changes.
    fn scan(&mut self) -> Result<()> {
        let stamp = sys::clock();
        let now = ks::uptime() as u32;
        let raw = self.read_raw()?;
        let mut changes: [Option<(u16, bool, u64)>; N] = [None; N];
        let mut n = 0;
        self.debouncer.scan(now, stamp, &raw, |ev, seen| {
            changes[n] = Some((ev.index, ev.pressed, seen));
            n += 1;
        });
        for &(index, pressed, stamp) in changes.iter().flatten() {
            self.event(&KeyMsg { index, pressed, time: now, stamp });
        }
        Ok(())
    }

    #[inline(never)] // its message is gone before events go out
    fn read_raw(&mut self) -> Result<[bool; N]> {
        let mut raw = [false; N];
        if let Some(scanner) = self.scanner.as_mut() {
            let (drive, sense) = lines();
            for &p in drive {
                self.sys.write(p, true)?; // all inactive before the scan
            }
            let mut pins = SysMatrix { sys: &self.sys, drive, sense, error: None };
            scanner.scan(&mut pins);
            if let Some(e) = pins.error {
                return Err(e);
            }
            let cols = kb::MATRIX_COLS.len();
            for (i, &(row, col)) in kb::KEY_POS.iter().enumerate() {
                raw[i] = scanner.is_pressed(row as usize * cols + col as usize);
            }
        } else {
            let levels = self.sys.read()?;
            for (i, &p) in kb::KEY_PINS.iter().enumerate() {
                raw[i] = low(&levels, p);
            }
        }
        Ok(raw)
    }

    /// A KEY_EVENT to keymap; a snapshot instead when keymap must resync.
    fn event(&mut self, e: &KeyMsg) {
        if !self.resync {
            key_event_into(&mut self.msg, e);
            if self.send() != Err(Error::Closed) {
                return;
            }
        }
        self.resync = true;
        self.snapshot(e.time, e.stamp);
    }

    /// Every held key to keymap (connecting again if it went away).
    /// Messages are built in place: the stack is small (tasks.toml).
    #[inline(never)]
    fn snapshot(&mut self, time: u32, stamp: u64) {
        for _ in 0..=service::RECONNECT_TRIES {
            let d = &self.debouncer;
            key_snapshot_into(&mut self.msg, time, stamp, N, |k| d.is_pressed(k));
            match self.send() {
                Err(Error::Closed) => continue,
                Ok(()) => self.resync = false,
                Err(_) => {}
            }
            return;
        }
    }

    /// IPC_CALL of `msg` on the keymap channel (looked up first if there is none;
    /// E_CLOSED drops it, so the next send looks keymap up again).
    fn send(&mut self) -> Result<()> {
        let ch = match self.keymap {
            Some(ch) => ch,
            None => {
                let ch = service::lookup("keymap")?;
                // Its peer-closed notification arrives on `events` too.
                let _ = ch.transfer(self.events);
                self.keymap = Some(ch);
                self.resync = true;
                if self.msg.label != KEY_SNAPSHOT {
                    return Err(Error::Closed); // the caller sends a snapshot instead
                }
                ch
            }
        };
        match ch.call(&mut self.msg) {
            Err(Error::Closed) => {
                let _ = ch.close();
                self.keymap = None;
                Err(Error::Closed)
            }
            Err(e) => Err(e),
            Ok(()) => self.msg.result().map(|_| ()),
        }
    }
}
