//! proto.rs - the user-level protocols of docs/protocols.md: labels, and
//! the encoders/decoders of their messages (pure, host-tested).

use crate::abi::*;
use crate::error::{Error, Result};

// init (on the bootstrap channel, always IPC_CALL)
pub const INIT_REGISTER: u16 = 0x0401;
pub const INIT_LOOKUP: u16 = 0x0402;
pub const INIT_SPAWN: u16 = 0x0403;
pub const INIT_CONNECT: u16 = 0x0404;
/// INIT_CONNECT `arg`: rights init grants this connection (by its policy
/// table: which program looked the service up). A server reads only the
/// bits its protocol defines; 0 is an ordinary client.
/// The console takes CONSOLE_INPUT only on a connection with this bit
/// (init gives it to the keyboard driver's lookups of "console").
pub const CONNECT_CONSOLE_INPUT: u64 = 1 << 0;
/// hid takes HID_SERIAL_READ / HID_SERIAL_WRITE only on a connection with
/// this bit (init gives it to the console's lookups of "hid").
pub const CONNECT_HID_SERIAL: u64 = 1 << 1;
/// Supervision status: reply data = one `StatusEntry` (u32 tid, u32
/// restarts) per supervised program that runs now; anyone may ask.
pub const INIT_STATUS: u16 = 0x0405;

// console
pub const CONSOLE_WRITE: u16 = 0x0201;
pub const CONSOLE_READ: u16 = 0x0202;
/// Keyboard driver -> console: data = input bytes (1..=CONSOLE_INPUT_MAX)
/// for the same ring as the UART's. Reply arg = bytes taken (the rest
/// did not fit), -E_PERM on a connection without CONNECT_CONSOLE_INPUT.
pub const CONSOLE_INPUT: u16 = 0x0203;
pub const CONSOLE_INPUT_MAX: usize = 64;

// memory
pub const MEM_STATS: u16 = 0x0301;

// ipc_peer
pub const PEER_ECHO: u16 = 0x0501;
pub const PEER_ECHO_CHANNEL: u16 = 0x0502;
pub const PEER_PING: u16 = 0x0503;
pub const PEER_PAGE: u16 = 0x0504;
pub const PEER_SLOW: u16 = 0x0505;

/// The `fpu` helper mode of ipc_peer: `arg` = rounds, data: u32 burst =
/// SYS_CLOCK cycles to spin (0 or absent: half a tick of CONFIG_CPU_HZ).
/// ipc_peer replies arg 0 at once, then `arg` times (at most
/// PEER_FPU_MAX_ROUNDS): sleeps to the next tick (so it preempts the
/// caller, which runs at a lower priority), fills the FP registers with
/// FPU_PEER_SEED + i (fpucheck.rs: s0-s31 on arm, xmm0-15 on x86_64) and
/// spins `burst` cycles on SYS_CLOCK. -E_NOTSUP without an FPU. (On MCU
/// boards a program runs at most once, so the helper is the running
/// ipc_peer server, not a second instance started with INIT_SPAWN.)
pub const PEER_FPU: u16 = 0x0506;
pub const PEER_FPU_MAX_ROUNDS: u64 = 100;
/// s<i> of the fpu helper holds FPU_PEER_SEED + i; the shell uses FPU_SHELL_SEED + i.
pub const FPU_PEER_SEED: u32 = 0xdead_0000;
pub const FPU_SHELL_SEED: u32 = 0x5eed_0000;

// fuzz (userland/tests/fuzz; on the fuzzer's bootstrap channel, from the
// shell's `fuzz` command; docs/protocols.md)
/// IPC_CALL, channel payload = a channel to a server to attack; data = its
/// name (for the trace). Reply arg 0; the fuzzer keeps at most
/// FUZZ_TARGETS_MAX and closes the rest.
pub const FUZZ_TARGET: u16 = 0x0701;
/// IPC_CALL, data = FuzzStart; optional channel payload = the channel to
/// the other fuzzer. Reply arg 0, then the fuzzer runs.
pub const FUZZ_START: u16 = 0x0702;
/// IPC_SEND from the fuzzer when it is done: data = FuzzDone.
pub const FUZZ_DONE: u16 = 0x0703;
/// FuzzStart.flags: the fuzzer holds CAP_TASK and also makes task requests.
pub const FUZZ_PRIVILEGED: u32 = 0x1;
pub const FUZZ_TARGETS_MAX: usize = 8;
/// The task argument the shell starts a fuzzer with; a fuzzer started
/// with anything else (one created by the privileged fuzzer) exits at once.
pub const FUZZ_ARG: u64 = 0x4655_5a5a;

/// What a fuzzer is told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuzzStart {
    pub seed: u64,
    pub calls: u32,
    /// Print every call from this index on (u32::MAX: none).
    pub trace_from: u32,
    pub flags: u32,
}

/// What a fuzzer did: calls made, of which refused with an error, and the
/// tasks it created (each killed or reclaimed by the time it reports).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FuzzDone {
    pub calls: u32,
    pub errors: u32,
    pub tasks: u32,
}

pub fn fuzz_start_request(s: &FuzzStart) -> Msg {
    let mut m = Msg::new(FUZZ_START);
    let _ = m.push_u64(s.seed);
    let _ = m.push_u32(s.calls);
    let _ = m.push_u32(s.trace_from);
    let _ = m.push_u32(s.flags);
    m
}

pub fn parse_fuzz_start(m: &Msg) -> Option<FuzzStart> {
    if m.label != FUZZ_START || m.len != 20 {
        return None;
    }
    Some(FuzzStart { seed: m.get_u64(0)?, calls: m.get_u32(8)?, trace_from: m.get_u32(12)?,
                     flags: m.get_u32(16)? })
}

pub fn fuzz_done_msg(d: &FuzzDone) -> Msg {
    let mut m = Msg::new(FUZZ_DONE);
    let _ = m.push_u32(d.calls);
    let _ = m.push_u32(d.errors);
    let _ = m.push_u32(d.tasks);
    m
}

pub fn parse_fuzz_done(m: &Msg) -> Option<FuzzDone> {
    if m.label != FUZZ_DONE || m.len != 12 {
        return None;
    }
    Some(FuzzDone { calls: m.get_u32(0)?, errors: m.get_u32(4)?, tasks: m.get_u32(8)? })
}

// gpio (b-l475e-iot01a: PC13 user button, PA5 LED; see userland/README.md)
/// Read PC13. Reply arg = 0 or 1.
pub const GPIO_READ: u16 = 0x0601;
/// data: u32 timeout in ms. Reply (deferred until an edge or the timeout):
/// arg = GPIO_EDGE_ROSE, GPIO_EDGE_FELL or GPIO_EDGE_TIMEOUT; -E_BUSY if
/// another client is waiting. Only edges after the request count.
pub const GPIO_WAIT: u16 = 0x0602;
/// data: u32 GPIO_LED_OFF / GPIO_LED_ON / GPIO_LED_TOGGLE. Reply arg =
/// the LED's state afterwards (0 off, 1 on).
pub const GPIO_LED: u16 = 0x0603;

pub const GPIO_EDGE_TIMEOUT: u64 = 0;
pub const GPIO_EDGE_ROSE: u64 = 1;
pub const GPIO_EDGE_FELL: u64 = 2;

pub const GPIO_LED_OFF: u32 = 0;
pub const GPIO_LED_ON: u32 = 1;
pub const GPIO_LED_TOGGLE: u32 = 2;

/// What GPIO_WAIT reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Rose,
    Fell,
    Timeout,
}

impl Edge {
    /// The edge a level change ends in (the level read after the EXTI
    /// interrupt: high means it rose).
    pub fn to_level(level: bool) -> Edge {
        if level {
            Edge::Rose
        } else {
            Edge::Fell
        }
    }

    pub fn to_arg(self) -> u64 {
        match self {
            Edge::Rose => GPIO_EDGE_ROSE,
            Edge::Fell => GPIO_EDGE_FELL,
            Edge::Timeout => GPIO_EDGE_TIMEOUT,
        }
    }

    pub fn from_arg(arg: u64) -> Option<Edge> {
        match arg {
            GPIO_EDGE_ROSE => Some(Edge::Rose),
            GPIO_EDGE_FELL => Some(Edge::Fell),
            GPIO_EDGE_TIMEOUT => Some(Edge::Timeout),
            _ => None,
        }
    }
}

/// A GPIO_WAIT request for `ms`.
pub fn gpio_wait_request(ms: u32) -> Msg {
    let mut m = Msg::new(GPIO_WAIT);
    let _ = m.push_u32(ms);
    m
}

/// A GPIO_LED request.
pub fn gpio_led_request(op: u32) -> Msg {
    let mut m = Msg::new(GPIO_LED);
    let _ = m.push_u32(op);
    m
}

/// The operation of a GPIO_LED request, if valid.
pub fn parse_led_op(m: &Msg) -> Option<u32> {
    m.get_u32(0).filter(|op| *op <= GPIO_LED_TOGGLE)
}

/// The LED state after `op` applied to `on`.
pub fn led_after(op: u32, on: bool) -> bool {
    match op {
        GPIO_LED_OFF => false,
        GPIO_LED_ON => true,
        _ => !on,
    }
}

// The gpio task as "sys" (STM32L4; Hubris's stm32xx-sys): other drivers'
// requests, checked against the board's allow-list (board.toml [keyboard]
// pins, the trace UART's and USB's clocks) and per connection (a pin
// belongs to the connection that configured it first, until it closes).
// docs/protocols.md, "gpio (sys)".
/// data: u32 RCC enable register offset, u32 bit. Reply arg 0, or -E_PERM
/// for a clock not on the allow-list.
pub const SYS_CLOCK_ENABLE: u16 = 0x0610;
/// data: SysPinConfig (6 bytes). Reply arg 0; -E_PERM for a pin not on the
/// allow-list, -E_BUSY if another live connection holds it, -E_INVAL.
pub const SYS_PIN_CONFIG: u16 = 0x0611;
/// No data. Reply data: u16 input levels (IDR) of ports A..H, each masked
/// to the pins this connection holds; arg 0.
pub const SYS_PINS_READ: u16 = 0x0612;
/// data: u8 port, u8 0, u16 mask, u16 levels: drive the masked output
/// pins this connection holds. Reply arg 0, or -E_PERM.
pub const SYS_PINS_WRITE: u16 = 0x0613;
/// data: u16 pin mask per port A..H (16 bytes; all 0 = unsubscribe): edge
/// notifications (SYS_NOTIFY_EDGE, both edges) for those pins, which this
/// connection must hold as inputs. One pin per EXTI line (pin number):
/// -E_BUSY if another subscriber or the button has that line; -E_NOMEM
/// when SYS_SUBSCRIBERS_MAX connections subscribe. Reply arg 0.
pub const SYS_EDGE_SUBSCRIBE: u16 = 0x0614;
/// data: u32 1/0: set/clear PWR_CR2.USV (VDDUSB valid), for the USB
/// driver. Reply arg 0, -E_NOSYS in an image without USB (CONFIG_TWIN).
pub const SYS_USB_POWER: u16 = 0x0615;
/// The notification bit a subscriber gets on its channel to sys.
pub const SYS_NOTIFY_EDGE: u64 = 1 << 12;
pub const SYS_SUBSCRIBERS_MAX: usize = 2;
/// Ports A..H.
pub const SYS_PORTS: usize = 8;

pub const PIN_MODE_INPUT: u8 = 0;
pub const PIN_MODE_OUTPUT: u8 = 1;
pub const PIN_MODE_AF: u8 = 2;
pub const PIN_PULL_NONE: u8 = 0;
pub const PIN_PULL_UP: u8 = 1;
pub const PIN_PULL_DOWN: u8 = 2;

/// A SYS_PIN_CONFIG request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysPinConfig {
    pub port: u8,
    pub pin: u8,
    pub mode: u8,
    pub pull: u8,
    /// Alternate function (PIN_MODE_AF), 0..15.
    pub af: u8,
    /// The level an output starts at.
    pub level: u8,
}

pub fn sys_pin_config_request(c: &SysPinConfig) -> Msg {
    let mut m = Msg::new(SYS_PIN_CONFIG);
    let _ = m.push_bytes(&[c.port, c.pin, c.mode, c.pull, c.af, c.level]);
    m
}

/// A well-formed SYS_PIN_CONFIG (exactly 6 bytes, fields in range).
pub fn parse_sys_pin_config(m: &Msg) -> Option<SysPinConfig> {
    let b = m.payload();
    if m.label != SYS_PIN_CONFIG || b.len() != 6 {
        return None;
    }
    let c = SysPinConfig { port: b[0], pin: b[1], mode: b[2], pull: b[3], af: b[4], level: b[5] };
    let ok = (c.port as usize) < SYS_PORTS && c.pin < 16 && c.mode <= PIN_MODE_AF
        && c.pull <= PIN_PULL_DOWN && c.af < 16 && c.level <= 1;
    ok.then_some(c)
}

pub fn sys_clock_request(enr: u32, bit: u32) -> Msg {
    let mut m = Msg::new(SYS_CLOCK_ENABLE);
    let _ = m.push_u32(enr);
    let _ = m.push_u32(bit);
    m
}

pub fn parse_sys_clock(m: &Msg) -> Option<(u32, u32)> {
    (m.len == 8).then_some((m.get_u32(0)?, m.get_u32(4)?))
}

/// SYS_EDGE_SUBSCRIBE / SYS_PINS_READ's reply: a u16 per port.
pub fn port_masks_msg(label: u16, masks: &[u16; SYS_PORTS]) -> Msg {
    let mut m = Msg::new(label);
    for v in masks {
        let _ = m.push_u16(*v);
    }
    m
}

pub fn parse_port_masks(m: &Msg) -> Option<[u16; SYS_PORTS]> {
    if m.len as usize != 2 * SYS_PORTS {
        return None;
    }
    let b = m.payload();
    let mut out = [0u16; SYS_PORTS];
    for (i, v) in out.iter_mut().enumerate() {
        *v = u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
    }
    Some(out)
}

pub fn sys_pins_write_request(port: u8, mask: u16, levels: u16) -> Msg {
    let mut m = Msg::new(SYS_PINS_WRITE);
    let _ = m.push_bytes(&[port, 0]);
    let _ = m.push_u16(mask);
    let _ = m.push_u16(levels);
    m
}

/// (port, mask, levels) of a SYS_PINS_WRITE.
pub fn parse_sys_pins_write(m: &Msg) -> Option<(u8, u16, u16)> {
    let b = m.payload();
    if b.len() != 6 || b[0] as usize >= SYS_PORTS {
        return None;
    }
    Some((b[0], u16::from_le_bytes([b[2], b[3]]), u16::from_le_bytes([b[4], b[5]])))
}

// The keyboard pipeline (docs/protocols.md, "keyboard pipeline"): keyscan
// -> keymap -> hid, each an IPC_CALL answered at once (arg 0 or -error).
/// keyscan -> keymap: one debounced change. data: u16 index, u8 pressed
/// (0/1), u8 0, u32 time (ms, wrapping), u64 stamp (SYS_CLOCK when the
/// scan that saw it began). 16 bytes.
pub const KEY_EVENT: u16 = 0x0801;
/// keyscan -> keymap: every key held now (after keyscan started, or
/// after it reconnected to keymap). data: u32 time, u32 key count n, u64
/// stamp, then ceil(n / 8) bytes: bit k % 8 of byte k / 8 = key k held.
pub const KEY_SNAPSHOT: u16 = 0x0802;
/// keymap -> hid: the HID state. data: u64 stamp of the key event that
/// caused it (0: none), u8 mods, 32 bytes usage bitmap. 41 bytes.
pub const HID_STATE: u16 = 0x0803;
/// Keys a KEY_SNAPSHOT can name (its bitmap fills the message).
pub const KEYS_MAX: usize = 256;
pub const HID_STATE_LEN: usize = 41;
/// console -> hid (CONFIG_TWIN=n: the console on the USB device's
/// CDC-ACM interface): data = 1..=HID_SERIAL_MAX bytes for the host.
/// Reply arg = bytes taken (fewer when hid's ring is full: retry the rest
/// later; all of them, discarded, while no terminal holds the port open).
/// -E_PERM without CONNECT_HID_SERIAL, -E_NOSYS without USB (the twin),
/// -E_TOOBIG over HID_SERIAL_MAX, -E_INVAL when empty.
pub const HID_SERIAL_WRITE: u16 = 0x0804;
/// console -> hid: no data. Reply data = up to HID_SERIAL_MAX bytes the
/// host sent (oldest first), arg = their count (0: none; never waits).
/// -E_PERM without CONNECT_HID_SERIAL, -E_NOSYS without USB.
pub const HID_SERIAL_READ: u16 = 0x0805;
pub const HID_SERIAL_MAX: usize = 200;
const _: () = assert!(HID_SERIAL_MAX <= MSG_INLINE_MAX);

/// A key event as it travels (keyboard::KeyEvent plus the stamp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyMsg {
    pub index: u16,
    pub pressed: bool,
    pub time: u32,
    pub stamp: u64,
}

pub fn key_event_msg(e: &KeyMsg) -> Msg {
    let mut m = Msg::new(0);
    key_event_into(&mut m, e);
    m
}

/// Empty `m` and make it `label` (a header reset in place: no second
/// message on a small stack).
fn reset(m: &mut Msg, label: u16) {
    m.label = label;
    m.len = 0;
    m.flags = 0;
    m.arg = 0;
}

/// key_event_msg, built in `m`.
pub fn key_event_into(m: &mut Msg, e: &KeyMsg) {
    reset(m, KEY_EVENT);
    let _ = m.push_u16(e.index);
    let _ = m.push_bytes(&[e.pressed as u8, 0]);
    let _ = m.push_u32(e.time);
    let _ = m.push_u64(e.stamp);
}

pub fn parse_key_event(m: &Msg) -> Option<KeyMsg> {
    let b = m.payload();
    if m.label != KEY_EVENT || b.len() != 16 || b[2] > 1 {
        return None;
    }
    Some(KeyMsg { index: u16::from_le_bytes([b[0], b[1]]), pressed: b[2] == 1,
                  time: m.get_u32(4)?, stamp: m.get_u64(8)? })
}

/// A KEY_SNAPSHOT of `held` (key k held = held(k)) for `count` keys.
pub fn key_snapshot_msg(time: u32, stamp: u64, count: usize, held: impl Fn(usize) -> bool) -> Msg {
    let mut m = Msg::new(0);
    key_snapshot_into(&mut m, time, stamp, count, held);
    m
}

/// key_snapshot_msg, built in `m`.
pub fn key_snapshot_into(m: &mut Msg, time: u32, stamp: u64, count: usize, held: impl Fn(usize) -> bool) {
    let count = count.min(KEYS_MAX);
    reset(m, KEY_SNAPSHOT);
    let _ = m.push_u32(time);
    let _ = m.push_u32(count as u32);
    let _ = m.push_u64(stamp);
    for byte in 0..count.div_ceil(8) {
        let mut v = 0u8;
        for bit in 0..8 {
            let k = byte * 8 + bit;
            if k < count && held(k) {
                v |= 1 << bit;
            }
        }
        let _ = m.push_bytes(&[v]);
    }
}

/// (time, count, stamp, bitmap) of a well-formed KEY_SNAPSHOT.
pub fn parse_key_snapshot(m: &Msg) -> Option<(u32, usize, u64, &[u8])> {
    if m.label != KEY_SNAPSHOT {
        return None;
    }
    let count = m.get_u32(4)? as usize;
    if count > KEYS_MAX || m.len as usize != 16 + count.div_ceil(8) {
        return None;
    }
    Some((m.get_u32(0)?, count, m.get_u64(8)?, &m.payload()[16..]))
}

pub fn hid_state_msg(stamp: u64, mods: u8, keys: &[u8; 32]) -> Msg {
    let mut m = Msg::new(HID_STATE);
    let _ = m.push_u64(stamp);
    let _ = m.push_bytes(&[mods]);
    let _ = m.push_bytes(keys);
    m
}

/// (stamp, mods, keys) of a well-formed HID_STATE.
pub fn parse_hid_state(m: &Msg) -> Option<(u64, u8, [u8; 32])> {
    if m.label != HID_STATE || m.len as usize != HID_STATE_LEN {
        return None;
    }
    let b = m.payload();
    let mut keys = [0u8; 32];
    keys.copy_from_slice(&b[9..41]);
    Some((m.get_u64(0)?, b[8], keys))
}

/// First u64 of the page PEER_PAGE returns: "NAGI".
pub const PEER_PAGE_MAGIC: u64 = 0x4e41_4749;

/// Bits ipc_peer sends, one at a time while the caller waits, through the
/// channel payload of a PEER_SLOW request (an optional extension: the
/// caller checks that notifications arriving while it is blocked in a call
/// are OR-ed and delivered once, after the reply).
pub const PEER_SLOW_NOTIFY_BITS: [u64; 3] = [1 << 8, 1 << 9, 1 << 10];

/// Longest service name init keeps.
pub const SERVICE_NAME_MAX: usize = 31;

/// INIT_REGISTER or INIT_LOOKUP for `name`.
pub fn name_request(label: u16, name: &str) -> Result<Msg> {
    if name.is_empty() || name.len() > SERVICE_NAME_MAX {
        return Err(Error::Inval);
    }
    Msg::with_data(label, name.as_bytes())
}

/// An INIT_SPAWN request: u64 arg, u32 prio, program name.
pub fn spawn_request(name: &str, arg: u64, prio: u32) -> Result<Msg> {
    if name.is_empty() || name.len() >= TASK_NAME_MAX {
        return Err(Error::Inval);
    }
    let mut m = Msg::new(INIT_SPAWN);
    m.push_u64(arg)?;
    m.push_u32(prio)?;
    m.push_bytes(name.as_bytes())?;
    Ok(m)
}

/// A decoded INIT_SPAWN request.
#[derive(Debug, PartialEq, Eq)]
pub struct Spawn<'a> {
    pub arg: u64,
    pub prio: u32,
    pub name: &'a str,
}

pub fn parse_spawn(m: &Msg) -> Option<Spawn<'_>> {
    let name = core::str::from_utf8(m.payload().get(12..)?).ok()?;
    if name.is_empty() || name.len() >= TASK_NAME_MAX {
        return None;
    }
    Some(Spawn { arg: m.get_u64(0)?, prio: m.get_u32(8)?, name })
}

/// The service name in an INIT_REGISTER / INIT_LOOKUP request.
pub fn parse_name(m: &Msg) -> Option<&str> {
    let name = core::str::from_utf8(m.payload()).ok()?;
    (!name.is_empty() && name.len() <= SERVICE_NAME_MAX).then_some(name)
}

/// One INIT_STATUS entry: a supervised task and how often init restarted
/// its program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusEntry {
    pub tid: u32,
    pub restarts: u32,
}

pub const STATUS_ENTRY_SIZE: usize = 8;
/// Most entries one INIT_STATUS reply carries.
pub const STATUS_ENTRIES_MAX: usize = MSG_INLINE_MAX / STATUS_ENTRY_SIZE;

/// The INIT_STATUS reply for `entries` (the first STATUS_ENTRIES_MAX).
pub fn status_reply(entries: impl Iterator<Item = StatusEntry>) -> Msg {
    let mut m = Msg::new(INIT_STATUS);
    for e in entries.take(STATUS_ENTRIES_MAX) {
        let _ = m.push_u32(e.tid);
        let _ = m.push_u32(e.restarts);
    }
    m
}

/// The entries of an INIT_STATUS reply (a trailing partial entry is ignored).
pub fn parse_status(m: &Msg) -> impl Iterator<Item = StatusEntry> + '_ {
    (0..m.payload().len() / STATUS_ENTRY_SIZE).filter_map(move |i| {
        let at = i * STATUS_ENTRY_SIZE;
        Some(StatusEntry { tid: m.get_u32(at)?, restarts: m.get_u32(at + 4)? })
    })
}

/// MEM_STATS reply: pages served, faults refused.
pub fn parse_mem_stats(m: &Msg) -> Option<(u64, u64)> {
    Some((m.get_u64(0)?, m.get_u64(8)?))
}

#[cfg(test)]
mod fuzz_tests {
    use super::*;

    #[test]
    fn fuzz_messages_round_trip_and_refuse_other_shapes() {
        let s = FuzzStart { seed: 0x1234_5678_9abc, calls: 1_000_000, trace_from: u32::MAX, flags: FUZZ_PRIVILEGED };
        let m = fuzz_start_request(&s);
        assert_eq!(parse_fuzz_start(&m), Some(s));
        let mut short = m;
        short.len = 19;
        assert_eq!(parse_fuzz_start(&short), None);
        let mut other = m;
        other.label = FUZZ_DONE;
        assert_eq!(parse_fuzz_start(&other), None);
        let d = FuzzDone { calls: 7, errors: 5, tasks: 2 };
        assert_eq!(parse_fuzz_done(&fuzz_done_msg(&d)), Some(d));
        assert_eq!(parse_fuzz_done(&m), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip_and_bounds() {
        let all = (1..100).map(|i| StatusEntry { tid: i, restarts: i * 2 });
        let m = status_reply(all);
        assert_eq!(m.len as usize, STATUS_ENTRIES_MAX * STATUS_ENTRY_SIZE);
        let got: std::vec::Vec<StatusEntry> = parse_status(&m).collect();
        assert_eq!(got.len(), STATUS_ENTRIES_MAX);
        assert_eq!(got[2], StatusEntry { tid: 3, restarts: 6 });
        let mut odd = Msg::with_data(INIT_STATUS, &[1, 0, 0, 0, 2, 0, 0, 0, 9]).unwrap();
        assert_eq!(parse_status(&odd).collect::<std::vec::Vec<_>>(), [StatusEntry { tid: 1, restarts: 2 }]);
        odd.len = 0;
        assert_eq!(parse_status(&odd).count(), 0);
    }

    #[test]
    fn spawn_round_trip() {
        let m = spawn_request("faulter", 3, 6).unwrap();
        assert_eq!(m.label, INIT_SPAWN);
        assert_eq!(m.len, 12 + 7);
        assert_eq!(parse_spawn(&m), Some(Spawn { arg: 3, prio: 6, name: "faulter" }));
        let mut short = m;
        short.len = 12;
        assert_eq!(parse_spawn(&short), None);
        assert!(spawn_request("", 0, 0).is_err());
    }

    #[test]
    fn names() {
        let m = name_request(INIT_LOOKUP, "console").unwrap();
        assert_eq!(parse_name(&m), Some("console"));
        assert!(name_request(INIT_LOOKUP, "").is_err());
        assert!(name_request(INIT_LOOKUP, &"n".repeat(32)).is_err());
        let bad = Msg::with_data(INIT_LOOKUP, &[0xff, 0xfe]).unwrap();
        assert_eq!(parse_name(&bad), None);
    }

    #[test]
    fn gpio_messages() {
        let m = gpio_wait_request(1500);
        assert_eq!((m.label, m.len, m.get_u32(0)), (GPIO_WAIT, 4, Some(1500)));
        let m = gpio_led_request(GPIO_LED_TOGGLE);
        assert_eq!(parse_led_op(&m), Some(GPIO_LED_TOGGLE));
        assert_eq!(parse_led_op(&gpio_led_request(7)), None);
        assert_eq!(parse_led_op(&Msg::new(GPIO_LED)), None);
        for e in [Edge::Rose, Edge::Fell, Edge::Timeout] {
            assert_eq!(Edge::from_arg(e.to_arg()), Some(e));
        }
        assert_eq!(Edge::from_arg(9), None);
        assert_eq!(Edge::to_level(true), Edge::Rose);
        assert_eq!(Edge::to_level(false), Edge::Fell);
        assert!(led_after(GPIO_LED_ON, false));
        assert!(!led_after(GPIO_LED_OFF, true));
        assert!(led_after(GPIO_LED_TOGGLE, false));
        assert!(!led_after(GPIO_LED_TOGGLE, true));
    }

    #[test]
    fn sys_messages_round_trip_and_refuse_other_shapes() {
        let c = SysPinConfig { port: 2, pin: 5, mode: PIN_MODE_INPUT, pull: PIN_PULL_UP, af: 0, level: 0 };
        assert_eq!(parse_sys_pin_config(&sys_pin_config_request(&c)), Some(c));
        for bad in [SysPinConfig { port: 8, ..c }, SysPinConfig { pin: 16, ..c },
                    SysPinConfig { mode: 3, ..c }, SysPinConfig { pull: 3, ..c },
                    SysPinConfig { af: 16, ..c }, SysPinConfig { level: 2, ..c }] {
            assert_eq!(parse_sys_pin_config(&sys_pin_config_request(&bad)), None);
        }
        let mut long = sys_pin_config_request(&c);
        long.push_bytes(&[0]).unwrap();
        assert_eq!(parse_sys_pin_config(&long), None);
        assert_eq!(parse_sys_clock(&sys_clock_request(0x58, 17)), Some((0x58, 17)));
        assert_eq!(parse_sys_clock(&Msg::new(SYS_CLOCK_ENABLE)), None);
        let masks = [1, 2, 0x8000, 0, 0, 0, 0, 0xffff];
        assert_eq!(parse_port_masks(&port_masks_msg(SYS_EDGE_SUBSCRIBE, &masks)), Some(masks));
        assert_eq!(parse_port_masks(&Msg::new(SYS_EDGE_SUBSCRIBE)), None);
        assert_eq!(parse_sys_pins_write(&sys_pins_write_request(3, 0x10, 0x10)), Some((3, 0x10, 0x10)));
        assert_eq!(parse_sys_pins_write(&sys_pins_write_request(9, 0x10, 0x10)), None);
    }

    #[test]
    fn keyboard_messages_round_trip_and_refuse_other_shapes() {
        let e = KeyMsg { index: 11, pressed: true, time: 0xffff_fff0, stamp: 0x1234_5678_9abc };
        let m = key_event_msg(&e);
        assert_eq!((m.len, parse_key_event(&m)), (16, Some(e)));
        let mut bad = m;
        bad.data[2] = 2;
        assert_eq!(parse_key_event(&bad), None);
        bad = m;
        bad.len = 15;
        assert_eq!(parse_key_event(&bad), None);
        let held = [0usize, 3, 9];
        let s = key_snapshot_msg(7, 99, 12, |k| held.contains(&k));
        let (time, count, stamp, bits) = parse_key_snapshot(&s).unwrap();
        assert_eq!((time, count, stamp, bits), (7, 12, 99, &[0b1001u8, 0b10][..]));
        let mut short = s;
        short.len -= 1;
        assert_eq!(parse_key_snapshot(&short), None);
        let big = key_snapshot_msg(0, 0, 1000, |_| true);
        assert_eq!(parse_key_snapshot(&big).map(|s| s.1), Some(KEYS_MAX), "clamped to KEYS_MAX");
        let mut keys = [0u8; 32];
        keys[0] = 0x10;
        let h = hid_state_msg(5, 0x02, &keys);
        assert_eq!(h.len as usize, HID_STATE_LEN);
        assert_eq!(parse_hid_state(&h), Some((5, 0x02, keys)));
        let mut h2 = h;
        h2.len = 40;
        assert_eq!(parse_hid_state(&h2), None);
    }

    #[test]
    fn mem_stats() {
        let mut m = Msg::new(MEM_STATS);
        m.push_u64(12).unwrap();
        m.push_u64(3).unwrap();
        assert_eq!(parse_mem_stats(&m), Some((12, 3)));
    }
}
