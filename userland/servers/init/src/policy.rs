//! policy.rs - the programs init supervises, as data: what each may do
//! (caps), its priority, whether init starts it at boot (with a bootstrap
//! channel) or only on request (INIT_SPAWN, no bootstrap channel), and
//! what happens when it dies (runtime::supervise). One table for every
//! board: an image without a program (memory on the MCU boards, gpio
//! without CONFIG_GPIO) simply leaves its row unused. A program not in
//! the table (faulter) is started only by INIT_SPAWN and never restarted.

use runtime::abi::*;
use runtime::config;
use runtime::supervise::Policy;

pub const PRIO_SERVER: u32 = 2;

/// The image drives the keyboard's USB device (hid on OTG FS).
const USB: bool = config::CONFIG_KEYBOARD && !config::CONFIG_TWIN;
pub const PRIO_SHELL: u32 = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Started by init at boot, in table order, with a bootstrap channel.
    Boot,
    /// Started by INIT_SPAWN (one instance), without a bootstrap channel.
    OnRequest,
}

pub struct Program {
    pub name: &'static str,
    pub caps: u32,
    pub prio: u32,
    pub start: Start,
    /// Built into this image's configuration.
    pub enabled: bool,
    pub policy: Policy,
}

/// Servers, drivers and the shell: restarted after 100 ms, 200 ms,
/// 400 ms ...; the 4th death within 10 s gives up on the program.
pub const RESTART: Policy = Policy::Restart { backoff_ms: 100, max_backoff_ms: 2000, max_deaths: 4, window_ms: 10_000 };

pub const PROGRAMS: [Program; 16] = [
    // The pager: every task's heap depends on it, and tasks keep their
    // pager channel for life, so its death stops the system.
    Program { name: "memory", caps: CAP_MEMORY, prio: PRIO_SERVER, start: Start::Boot, enabled: true, policy: Policy::Critical },
    Program { name: "console", caps: CAP_IO | CAP_IRQ, prio: PRIO_SERVER, start: Start::Boot, enabled: true, policy: RESTART },
    Program { name: "ipc_peer", caps: 0, prio: PRIO_SERVER, start: Start::Boot, enabled: true, policy: RESTART },
    Program { name: "bench_server", caps: 0, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_BENCH, policy: RESTART },
    Program { name: "gpio", caps: CAP_IO | CAP_IRQ, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_GPIO, policy: RESTART },
    // The PS/2 keyboard (boards with an i8042, board.toml [ps2]): ports
    // and IRQ 1; it looks up "console" with the right to inject input
    // (RIGHTS below), so it needs a bootstrap channel.
    Program { name: "ps2kbd", caps: CAP_IO | CAP_IRQ, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_PS2KBD, policy: RESTART },
    // PCI (board.toml [pci]): the configuration ports only. The NIC
    // driver ([nic] model e1000): device registers (KS_MMIO) and DMA
    // memory (KS_DMA_ALLOC) both need CAP_IO, its interrupt CAP_IRQ; it
    // gets its device from pci, so pci comes first.
    Program { name: "pci", caps: CAP_IO, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_PCI, policy: RESTART },
    Program { name: "e1000", caps: CAP_IO | CAP_IRQ, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_E1000, policy: RESTART },
    // TCP/IP (boards with a [nic]: CONFIG_NET): no capabilities at all;
    // it reaches the card only through the driver's "nic" service, and
    // registers "net". httpd is a client of net and of the kernel's
    // task and memory information (which needs no capability either).
    Program { name: "net", caps: 0, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_NET, policy: RESTART },
    Program { name: "httpd", caps: 0, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_NET, policy: RESTART },
    // The on-board LAN9118 ([nic] model lan9118, mps2-an386): its
    // register block (KS_MMIO: CAP_IO) and its NVIC line (CAP_IRQ); no DMA.
    Program { name: "lan9118", caps: CAP_IO | CAP_IRQ, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_LAN9118, policy: RESTART },
    // The keyboard (CONFIG_KEYBOARD; docs/protocols.md "keyboard pipeline"),
    // sink first so that each finds the next one registered: hid maps the
    // trace UART (CAP_IO), or with USB (CONFIG_TWIN=n) the OTG FS core
    // (CAP_IO) and its interrupt (CAP_IRQ); keymap and keyscan reach
    // hardware only through "gpio" (the sys task).
    Program { name: "hid", caps: CAP_IO | if USB { CAP_IRQ } else { 0 }, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_KEYBOARD, policy: RESTART },
    Program { name: "keymap", caps: 0, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_KEYBOARD, policy: RESTART },
    Program { name: "keyscan", caps: 0, prio: PRIO_SERVER, start: Start::Boot, enabled: config::CONFIG_KEYBOARD, policy: RESTART },
    Program { name: "shell", caps: CAP_TASK, prio: PRIO_SHELL, start: Start::Boot, enabled: true, policy: RESTART },
    // A test helper (userland/tests/critical) that only sleeps: the HIL
    // test starts it and kills it to see the system stop with the reason.
    // Starting it gives nothing away: killing it takes CAP_TASK, which can
    // kill `memory` (critical too) anyway.
    Program { name: "critical", caps: 0, prio: PRIO_SERVER, start: Start::OnRequest, enabled: true, policy: Policy::Critical },
];

/// Rights a program's connections to a service carry (INIT_CONNECT `arg`):
/// (program, service, rights). Init grants them when that program, on its
/// own bootstrap channel, looks the service up; every other lookup gets 0.
pub const RIGHTS: [(&str, &str, u64); 2] = [
    // Only the keyboard driver may type into the console (CONSOLE_INPUT).
    ("ps2kbd", "console", runtime::proto::CONNECT_CONSOLE_INPUT),
    // Only the console may read and write the USB device's CDC-ACM
    // interface through hid (HID_SERIAL_READ / HID_SERIAL_WRITE).
    ("console", "hid", runtime::proto::CONNECT_HID_SERIAL),
];

/// Programs that register a service under another name than their own:
/// (program, service). A NIC driver serves "nic" whichever card it drives.
pub const SERVICES: [(&str, &str); 2] = [("e1000", runtime::nic::NIC_SERVICE), ("lan9118", runtime::nic::NIC_SERVICE)];

/// The service `program` registers (INIT_REGISTER accepts only that name
/// from it).
pub fn service_of(program: &str) -> &str {
    SERVICES.iter().find(|s| s.0 == program).map_or(program, |s| s.1)
}

/// The rights of `program`'s connections to `service`.
pub fn rights(program: &str, service: &str) -> u64 {
    RIGHTS.iter().filter(|r| r.0 == program && r.1 == service).fold(0, |a, r| a | r.2)
}
