"""boards.py - a board description (board/<name>/board.toml) as an object.

Every fact about a board lives in its board.toml, and this module is the
only reader of that file: the tools, the QEMU back-end, the tests'
capability marks and the generated configuration (tools/board_config.py:
Kconfig defaults, C and Rust constants) all take the `Board` loaded here.
load_board() checks the file as it reads it; a malformed board.toml is one
ToolError line naming the file (TOML syntax) or the board and key (a wrong
type, a missing key, a malformed pin)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ToolError
from .paths import BOARD_ROOT

ARCHES = ("x86_64", "arm-m")
# Console UART drivers (the kernel's arch console and userland/servers/console).
UARTS = ("16550", "stm32-usart", "cmsdk-uart")
# Cores an arm-m board may name as `cpu`: (gcc's -mcpu, has an FPU).
CORES = {
    "cortex-m3": ("cortex-m3", False),
    "cortex-m4": ("cortex-m4", False),
    "cortex-m4f": ("cortex-m4", True),
    "cortex-m7": ("cortex-m7", True),
}
# How the kernel may raise the CPU clock at boot ([clock] source):
# "msi-pll": STM32L4 MSI (4 MHz at reset) through the main PLL (RM0351).
CLOCK_SOURCES = ("msi-pll",)
# Where the 48 MHz clock of USB OTG FS (CLK48) comes from ([clock] usb_source):
# "pllsai1q": PLLSAI1's Q output, fed like the main PLL (RM0351 "PLLSAI1").
USB_CLOCK_SOURCES = ("pllsai1q",)
USB_CLOCK_HZ = 48_000_000
PIN_RX = re.compile(r"^P([A-K])(\d{1,2})$")     # "PB6": port B, pin 6 (STM32 naming)
# [keyboard]: key names (keymap.toml and the tests use them) and diode directions.
KEY_NAME_RX = re.compile(r"^[a-z][a-z0-9_]*$")
DIODES = ("col2row", "row2col")
MAX_KEYS = 256                    # the HID state's bitmap and the key messages' bound
MAX_MATRIX_LINES = 32             # userland/keyboard matrix::MAX_LINES


@dataclass(frozen=True)
class QemuTwin:
    """The pieces of the board's QEMU command line (board.toml [qemu])."""
    binary: str
    machine: str
    cpu: str | None           # None: the machine has a fixed CPU (no -cpu)
    memory: str | None        # None: the machine has fixed memory (no -m)
    image: str
    boot: tuple[str, ...]
    kvm_cpu: str | None = None
    extra: tuple[str, ...] = ()
    # The twin's UART takes its next input byte only when QEMU's main loop
    # wakes up (the kit wakes it after each byte it sends; tools/qemu.py).
    wake_after_input: bool = False


@dataclass(frozen=True)
class Key:
    """One [[keyboard.key]]: wired to `pin` (direct, to GND, pull-up, active
    low), or at `row`/`col` of the matrix with `twin_pin` its pin on the
    QEMU twin (which wires keys one per pin)."""
    name: str
    pin: str | None = None
    row: int | None = None
    col: int | None = None
    twin_pin: str | None = None

    @property
    def sim_pin(self) -> str:
        """The pin the QEMU twin (and a CONFIG_TWIN build) reads this key on."""
        return self.pin if self.pin is not None else self.twin_pin


@dataclass(frozen=True)
class Matrix:
    """[keyboard.matrix]: row and column pins, diode direction as QMK names it."""
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    diode: str                    # "col2row" or "row2col"


@dataclass(frozen=True)
class Keyboard:
    """[keyboard]: the keys in index order, the matrix (None: direct
    wiring), the USB IDs the board enumerates with, and the trace UART
    (dict: base, irq, rcc_enr, rcc_bit) the twin's HID reports go to."""
    keys: tuple[Key, ...]
    matrix: Matrix | None
    usb_vid: int
    usb_pid: int
    trace_uart: dict


@dataclass(frozen=True)
class Board:
    name: str
    arch: str
    description: str
    directory: Path
    qemu: QemuTwin | None
    capabilities: dict[str, bool] = field(default_factory=dict)
    flash_methods: tuple[str, ...] = ()
    console: dict = field(default_factory=dict)
    memory: tuple[dict, ...] = ()
    cpu_hz: int | None = None
    flash: tuple[dict, ...] = ()      # the [[flash]] tables, in order
    gpio: dict = field(default_factory=dict)   # [gpio]: inputs / outputs lists
    cpu: str | None = None            # arm-m: a key of CORES ("cortex-m4f")
    irq_count: int | None = None      # arm-m: NVIC lines the kernel routes
    clock: dict = field(default_factory=dict)  # [clock]: how the kernel reaches cpu_hz
    ps2: dict = field(default_factory=dict)    # [ps2]: the i8042's ports and IRQ (ps2kbd)
    pci: dict = field(default_factory=dict)    # [pci]: config-space ports (the pci enumerator)
    nic: dict = field(default_factory=dict)    # [nic]: the network card, its driver and twin device
    keyboard: Keyboard | None = None  # [keyboard]; None when the board has no keys

    @property
    def defconfig(self) -> Path:
        return self.directory / "defconfig"

    @property
    def kconfig_symbol(self) -> str:
        """The board's symbol in the Board choice (its Kconfig.board)."""
        return "BOARD_" + re.sub(r"[^A-Z0-9]", "_", self.name.upper())

    def has(self, capability: str) -> bool:
        return bool(self.capabilities.get(capability, False))

    def memory_region(self, kind: str) -> dict | None:
        """The first [[memory]] entry of that kind ("flash", "ram")."""
        return next((m for m in self.memory if m.get("kind") == kind), None)

    def flash_method(self, method: str) -> dict | None:
        """The [[flash]] table of `method` ("pyocd", "qemu", "dfu")."""
        return next((f for f in self.flash if f.get("method") == method), None)

    def gpio_pin(self, name: str) -> dict | None:
        """A [[gpio.inputs]] / [[gpio.outputs]] entry by name, with
        `direction` ("input"/"output") added."""
        for direction in ("inputs", "outputs"):
            for pin in self.gpio.get(direction, ()):
                if pin.get("name") == name:
                    return dict(pin, direction=direction[:-1])
        return None


def parse_pin(text: str) -> tuple[int, int] | None:
    """"PB6" -> (1, 6): port index (A = 0) and pin number; None if malformed."""
    m = PIN_RX.match(text) if isinstance(text, str) else None
    if not m or int(m.group(2)) > 15:
        return None
    return ord(m.group(1)) - ord("A"), int(m.group(2))


def board_names(root: Path = BOARD_ROOT) -> list[str]:
    """Every directory under board/ that holds a board.toml, sorted."""
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob("*/board.toml"))


def load_board(name: str, root: Path = BOARD_ROOT) -> Board:
    """Read and check board/<name>/board.toml; ToolError (exit 2) for an
    unknown board, ToolError (one line) for a malformed description."""
    names = board_names(root)
    if name not in names:
        raise ToolError(f"unknown board '{name}'; valid boards: {', '.join(names) or '(none)'}",
                        status=2)
    path = root / name / "board.toml"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ToolError(f"{path}: {e}") from None
    return _Checker(name, path).board(data)


def load_boards(root: Path = BOARD_ROOT) -> list[Board]:
    """Every board under root, loaded and checked."""
    return [load_board(n, root) for n in board_names(root)]


class _Checker:
    """Turns the TOML of one board into a Board, checking each key as it
    goes; every problem is one ToolError line naming board, key and what
    is wrong."""

    def __init__(self, name: str, path: Path):
        self.name, self.path = name, path

    def fail(self, key: str, problem: str):
        raise ToolError(f"board '{self.name}' ({self.path}): {key}: {problem}")

    def get(self, table: dict, key: str, kind, where: str = "", required: bool = True,
            default=None):
        """table[key] checked against `kind` (a type, or a tuple of allowed
        values); `where` prefixes the key in messages ("console.")."""
        full = where + key
        if key not in table:
            if required:
                self.fail(full, "missing")
            return default
        value = table[key]
        if isinstance(kind, tuple):
            if value not in kind:
                self.fail(full, f"{value!r} is not one of {', '.join(map(str, kind))}")
            return value
        # bool is an int in Python: a count given as `true` is still wrong.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(full, f"expected {_kind_name(kind)}, got {_toml_value(value)}")
        if kind is int and value < 0:
            self.fail(full, f"must not be negative, got {value}")
        return value

    def pin(self, table: dict, key: str, where: str, required: bool = True) -> str | None:
        value = self.get(table, key, str, where, required)
        if value is not None and parse_pin(value) is None:
            self.fail(where + key, f"{value!r} is not a pin (expected P<port A-K><0-15>, "
                                   f"e.g. PB6)")
        return value

    def board(self, data: dict) -> Board:
        name = self.get(data, "name", str)
        if name != self.name:
            self.fail("name", f"'{name}' but the directory is '{self.name}'")
        arch = self.get(data, "arch", ARCHES)
        mcu = arch == "arm-m"
        cpu = self.get(data, "cpu", tuple(CORES), required=mcu)
        cpu_hz = self.get(data, "cpu_hz", int, required=mcu)
        if cpu_hz is not None and cpu_hz == 0:
            self.fail("cpu_hz", "must be positive")
        irq_count = self.get(data, "irq_count", int, required=mcu)
        if irq_count is not None and not 1 <= irq_count <= 496:
            self.fail("irq_count", f"{irq_count} is not in 1..496 (ARMv7-M NVIC lines)")
        ps2 = self.ps2(data)
        pci = self.pci(data)
        nic = self.nic(data, pci, irq_count)
        capabilities = self.capabilities(data, cpu, ps2)
        flash = self.flash(data)
        clock = self.clock(data, cpu_hz)
        console, gpio = self.console(data), self.gpio(data)
        keyboard = self.keyboard(data, console, gpio)
        return Board(name=name, arch=arch,
                     description=self.get(data, "description", str, required=False,
                                          default=""),
                     directory=self.path.parent, qemu=self.qemu(data),
                     capabilities=capabilities,
                     flash_methods=tuple(f["method"] for f in flash),
                     console=console, memory=self.memory(data, mcu),
                     cpu_hz=cpu_hz, flash=flash, gpio=gpio, cpu=cpu,
                     irq_count=irq_count, clock=clock, ps2=ps2, pci=pci, nic=nic,
                     keyboard=keyboard)

    def clock(self, data: dict, cpu_hz: int | None) -> dict:
        """[clock]: absent, the CPU runs at its reset clock (cpu_hz); with
        source "msi-pll" (STM32L4, RM0351 "Clocks"), the kernel feeds MSI
        at input_hz through the main PLL: cpu_hz = input_hz / pll_m * pll_n
        / pll_r, with flash_latency wait states set first."""
        c = self.table(data, "clock")
        if not c:
            return {}
        w = "clock."
        self.get(c, "source", CLOCK_SOURCES, w)
        hz = self.get(c, "input_hz", int, w)
        m, n, r = (self.get(c, k, int, w) for k in ("pll_m", "pll_n", "pll_r"))
        latency = self.get(c, "flash_latency", int, w)
        if not 1 <= m <= 8:
            self.fail(w + "pll_m", f"{m} is not in 1..8")
        if not 8 <= n <= 86:
            self.fail(w + "pll_n", f"{n} is not in 8..86")
        if r not in (2, 4, 6, 8):
            self.fail(w + "pll_r", f"{r} is not one of 2, 4, 6, 8")
        if latency > 4:
            self.fail(w + "flash_latency", f"{latency} is not in 0..4 wait states")
        if not 4_000_000 <= hz // m <= 16_000_000:
            self.fail(w + "pll_m", f"PLL input {hz // m} Hz is outside 4..16 MHz")
        if not 64_000_000 <= hz // m * n <= 344_000_000:
            self.fail(w + "pll_n", f"VCO {hz // m * n} Hz is outside 64..344 MHz")
        if cpu_hz is None or hz // m * n // r != cpu_hz:
            self.fail("cpu_hz", f"{cpu_hz} but [clock] gives {hz // m * n // r} Hz")
        self.usb_clock(c, hz // m)
        return dict(c)

    def usb_clock(self, c: dict, pll_input: int) -> None:
        """[clock] usb_source "pllsai1q": CLK48 = pll_input * pllsai1_n /
        pllsai1_q, exactly 48 MHz (USB full speed). On the STM32L47x,
        PLLSAI1 takes the main PLL's source and M divider (RM0351 "PLLSAI1":
        no PLLSAI1M), so its VCO input is `pll_input`; its VCO must stay in
        64..344 MHz, N in 8..86, Q one of 2, 4, 6, 8. Absent: no CLK48."""
        w = "clock."
        source = self.get(c, "usb_source", USB_CLOCK_SOURCES, w, required=False)
        if source is None:
            for key in ("pllsai1_n", "pllsai1_q"):
                if key in c:
                    self.fail(w + key, "given but usb_source is not (set usb_source = \"pllsai1q\")")
            return
        n, q = (self.get(c, k, int, w) for k in ("pllsai1_n", "pllsai1_q"))
        if not 8 <= n <= 86:
            self.fail(w + "pllsai1_n", f"{n} is not in 8..86")
        if q not in (2, 4, 6, 8):
            self.fail(w + "pllsai1_q", f"{q} is not one of 2, 4, 6, 8")
        vco = pll_input * n
        if not 64_000_000 <= vco <= 344_000_000:
            self.fail(w + "pllsai1_n", f"PLLSAI1 VCO {vco} Hz is outside 64..344 MHz")
        if vco % q or vco // q != USB_CLOCK_HZ:
            self.fail(w + "pllsai1_q", f"CLK48 would be {vco / q:.0f} Hz, not the "
                                       f"{USB_CLOCK_HZ} Hz USB needs")

    def table(self, data: dict, key: str, required: bool = False) -> dict:
        return self.get(data, key, dict, required=required, default={})

    def tables(self, data: dict, key: str, where: str = "") -> list[dict]:
        entries = self.get(data, key, list, where, required=False, default=[])
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.fail(f"{where}{key}[{i}]", f"expected a table, got {entry!r}")
        return entries

    def capabilities(self, data: dict, cpu: str | None, ps2: dict | None = None) -> dict[str, bool]:
        caps = self.table(data, "capabilities")
        for key in caps:
            self.get(caps, key, bool, "capabilities.")
        caps = dict(caps)
        if "ps2" in caps:
            self.fail("capabilities.ps2", "follows from the [ps2] table; remove it")
        caps["ps2"] = bool(ps2)
        if cpu is not None:
            if "fpu" in caps:
                self.fail("capabilities.fpu", f"follows from cpu = '{cpu}'; remove it")
            caps["fpu"] = CORES[cpu][1]
        return caps

    def qemu(self, data: dict) -> QemuTwin | None:
        q = self.table(data, "qemu")
        if not q:
            return None
        w = "qemu."
        strs = lambda key: tuple(self.strings(q, key, w))
        return QemuTwin(binary=self.get(q, "binary", str, w),
                        machine=self.get(q, "machine", str, w),
                        cpu=self.get(q, "cpu", str, w, required=False),
                        memory=self.get(q, "memory", str, w, required=False),
                        image=self.get(q, "image", str, w), boot=strs("boot"),
                        kvm_cpu=self.get(q, "kvm_cpu", str, w, required=False),
                        extra=strs("extra"),
                        wake_after_input=self.get(q, "wake_after_input", bool, w,
                                                  required=False, default=False))

    def strings(self, table: dict, key: str, where: str) -> list[str]:
        items = self.get(table, key, list, where, required=False, default=[])
        for item in items:
            if not isinstance(item, str):
                self.fail(where + key, f"expected a list of strings, got {item!r}")
        return items

    def flash(self, data: dict) -> tuple[dict, ...]:
        entries = self.tables(data, "flash")
        for i, f in enumerate(entries):
            self.get(f, "method", str, f"flash[{i}].")
        return tuple(dict(f) for f in entries)

    def memory(self, data: dict, mcu: bool) -> tuple[dict, ...]:
        entries = self.tables(data, "memory")
        for i, m in enumerate(entries):
            w = f"memory[{i}]."
            self.get(m, "name", str, w)
            self.get(m, "kind", ("flash", "ram"), w)
            self.get(m, "start", int, w)
            if self.get(m, "size", int, w) == 0:
                self.fail(w + "size", "must be positive")
            kernel = self.get(m, "kernel", int, w, required=False)
            if kernel is not None and kernel > m["size"]:
                self.fail(w + "kernel", f"0x{kernel:x} is larger than the region")
        if mcu:
            for kind in ("flash", "ram"):
                found = [m for m in entries if m["kind"] == kind]
                if not found:
                    self.fail("memory", f"an arm-m board needs a [[memory]] of kind '{kind}'")
                if "kernel" not in found[0]:
                    self.fail(f"memory[{entries.index(found[0])}].kernel",
                              "missing (the kernel's reservation at the start of the region)")
        return tuple(dict(m) for m in entries)

    def console(self, data: dict) -> dict:
        c = self.table(data, "console", required=True)
        w = "console."
        self.get(c, "uart", UARTS, w)
        self.get(c, "base", int, w)
        self.get(c, "irq", int, w)
        self.get(c, "tx_irq", int, w, required=False)
        self.get(c, "tx_delay_us", int, w, required=False)
        if self.get(c, "baud", int, w) == 0:
            self.fail(w + "baud", "must be positive")
        usb = c.get("usb_serial")
        if usb is not None and not isinstance(usb, (str, list)):
            self.fail(w + "usb_serial", f"expected 'VID:PID' or a list of them, got {usb!r}")
        # usb_cdc: on the real board (CONFIG_TWIN=n) the console server runs
        # over the keyboard's own USB CDC-ACM port (the hid task relays it;
        # docs/usb.md); the kernel keeps the UART. Needs the keyboard's USB
        # device ([keyboard] usb_vid/usb_pid, checked there) and the port
        # the kit finds it by (usb_serial).
        cdc = self.get(c, "usb_cdc", bool, w, required=False)
        if cdc and usb is None:
            self.fail(w + "usb_cdc", "needs usb_serial (the VID:PID the kit finds the console port by)")
        # The pins and clock the UART needs before it works (stm32-usart).
        pins = [self.pin(c, k, w, required=False) for k in ("tx", "rx")]
        af = self.get(c, "pin_af", int, w, required=any(pins))
        if af is not None and af > 15:
            self.fail(w + "pin_af", f"{af} is not an alternate function (0..15)")
        if any(pins) and not all(pins):
            self.fail(w + ("rx" if pins[0] else "tx"), "missing (tx and rx go together)")
        enr = self.get(c, "rcc_enr", int, w, required=False)
        bit = self.get(c, "rcc_bit", int, w, required=enr is not None)
        if bit is not None and bit > 31:
            self.fail(w + "rcc_bit", f"{bit} is not a bit of a 32-bit register")
        if bit is not None and enr is None:
            self.fail(w + "rcc_enr", "missing (rcc_bit names a bit of it)")
        if c["uart"] == "stm32-usart" and enr is None:
            self.fail(w + "rcc_enr", "missing (an stm32-usart needs its clock enabled)")
        return dict(c)

    def ps2(self, data: dict) -> dict:
        """[ps2]: an i8042 PS/2 controller (the PC's keyboard port): its
        data and command/status I/O ports and the keyboard's IRQ. The
        ps2kbd driver goes into the image of a board that has one."""
        p = self.table(data, "ps2")
        if not p:
            return {}
        w = "ps2."
        for key in ("data_port", "command_port"):
            if self.get(p, key, int, w) > 0xffff:
                self.fail(w + key, f"0x{p[key]:x} is not an I/O port (0..0xffff)")
        if self.get(p, "irq", int, w) > 15:
            self.fail(w + "irq", f"{p['irq']} is not an ISA IRQ (0..15)")
        return dict(p)

    def pci(self, data: dict) -> dict:
        """[pci]: PCI configuration mechanism #1 (the pc): the address port
        (0xcf8) and the data port (0xcfc), 4 bytes each, granted to the pci
        enumerator as one range."""
        p = self.table(data, "pci")
        if not p:
            return {}
        w = "pci."
        a, d = self.get(p, "config_address", int, w), self.get(p, "config_data", int, w)
        for key, v in (("config_address", a), ("config_data", d)):
            if v > 0xfffc:
                self.fail(w + key, f"0x{v:x} is not an I/O port of 4 bytes (0..0xfffc)")
        if not 0 < d - a <= 60:
            self.fail(w + "config_data", "must lie 4..60 ports above config_address (one port range)")
        return dict(p)

    NIC_MODELS = ("e1000", "lan9118")

    def nic(self, data: dict, pci: dict, irq_count: int | None = None) -> dict:
        """[nic]: the board's network card: model (its driver) and where
        the driver finds it - a PCI card (e1000: the ids it asks the
        enumerator for; the twin plugs it in with `-device <qemu_device>`)
        or a chip on the board's bus (lan9118: its register block `base`,
        `size` (one MPU region: a power of two >= 32, base aligned to it)
        and NVIC line `irq`; the twin has it on board and gives it the
        kit's network with `-net nic,model=<qemu_nic_model>`)."""
        n = self.table(data, "nic")
        if not n:
            return {}
        w = "nic."
        model = self.get(n, "model", self.NIC_MODELS, w)
        if model == "e1000":
            if not pci:
                self.fail(w + "model", "e1000 is a PCI card: the board needs a [pci] table")
            for key in ("pci_vendor", "pci_device"):
                if self.get(n, key, int, w) > 0xffff:
                    self.fail(w + key, f"0x{n[key]:x} is not a 16-bit PCI id")
            self.get(n, "qemu_device", str, w)
            extra = set(n) - {"model", "pci_vendor", "pci_device", "qemu_device"}
        else:
            base, size = self.get(n, "base", int, w), self.get(n, "size", int, w)
            if size < 32 or size & (size - 1):
                self.fail(w + "size", f"0x{size:x} is not a power of two >= 32 (one MPU region)")
            if base % size:
                self.fail(w + "base", f"0x{base:x} is not aligned to its size 0x{size:x} (one MPU region)")
            if not (0x4000_0000 <= base and base + size <= 0x6000_0000):
                self.fail(w + "base", f"0x{base:x} is not in the peripheral region 0x40000000..0x60000000")
            irq = self.get(n, "irq", int, w)
            if irq_count is not None and not 0 <= irq < irq_count:
                self.fail(w + "irq", f"{irq} is not an NVIC line of this board (0..{irq_count - 1})")
            self.get(n, "qemu_nic_model", str, w)
            extra = set(n) - {"model", "base", "size", "irq", "qemu_nic_model"}
        if extra:
            self.fail(w + sorted(extra)[0], f"not a key of a {model} [nic]")
        return dict(n)

    def gpio(self, data: dict) -> dict:
        g = self.table(data, "gpio")
        for direction in ("inputs", "outputs"):
            for i, entry in enumerate(self.tables(g, direction, "gpio.")):
                w = f"gpio.{direction}[{i}]."
                self.get(entry, "name", str, w)
                self.pin(entry, "pin", w)
                self.get(entry, "qtest_device", str, w, required=False)
                self.get(entry, "irq", int, w, required=False)
        return dict(g)

    def keyboard(self, data: dict, console: dict, gpio: dict) -> Keyboard | None:
        """[keyboard]: every key has `pin` (direct wiring) or `row`, `col`
        and `twin_pin` (a matrix, which then needs [keyboard.matrix] with
        its diode direction); every pin is distinct and clashes with no
        console or [gpio] pin; the pins the twin reads have distinct pin
        numbers (each key has an EXTI line of its own to wake the scanner)."""
        if "keyboard" not in data:
            if console.get("usb_cdc"):
                self.fail("console.usb_cdc", "needs a [keyboard] (its USB device carries the console)")
            return None
        k = self.table(data, "keyboard")
        w = "keyboard."
        vid, pid = self.get(k, "usb_vid", int, w), self.get(k, "usb_pid", int, w)
        for key, v in (("usb_vid", vid), ("usb_pid", pid)):
            if v > 0xFFFF:
                self.fail(w + key, f"0x{v:x} is not a 16-bit USB ID")
        usb = console.get("usb_serial")
        ids = [usb] if isinstance(usb, str) else list(usb or ())
        if console.get("usb_cdc") and f"{vid:04x}:{pid:04x}" not in [str(i).lower() for i in ids]:
            self.fail("console.usb_cdc", f"console.usb_serial must name the keyboard's own "
                                         f"{vid:04x}:{pid:04x} (the CDC-ACM port is its interface)")
        t = self.get(k, "trace_uart", dict, w)
        for key in ("base", "irq", "rcc_enr", "rcc_bit"):
            self.get(t, key, int, w + "trace_uart.")
        if t["rcc_bit"] > 31:
            self.fail(w + "trace_uart.rcc_bit", f"{t['rcc_bit']} is not a bit of a 32-bit register")
        if t["base"] % 4:
            self.fail(w + "trace_uart.base", f"0x{t['base']:x} is not word-aligned")
        # Pins already taken: console tx/rx and [gpio] inputs/outputs.
        taken: dict[str, str] = {}
        for key in ("tx", "rx"):
            if key in console:
                taken[console[key]] = "console." + key
        for direction in ("inputs", "outputs"):
            for i, entry in enumerate(gpio.get(direction, ())):
                taken[entry["pin"]] = f"gpio.{direction}[{i}] ({entry['name']})"

        def claim(pin: str, where: str):
            if pin in taken:
                self.fail(where, f"pin {pin} is already {taken[pin]}")
            taken[pin] = where

        matrix = None
        if "matrix" in k:
            m = self.get(k, "matrix", dict, w)
            mw = w + "matrix."
            lines = {}
            for key in ("rows", "cols"):
                pins = self.get(m, key, list, mw)
                if not 1 <= len(pins) <= MAX_MATRIX_LINES:
                    self.fail(mw + key, f"{len(pins)} pins; want 1..{MAX_MATRIX_LINES}")
                for i, pin in enumerate(pins):
                    self._pin_value(pin, f"{mw}{key}[{i}]")
                    claim(pin, f"{mw}{key}[{i}]")
                lines[key] = tuple(pins)
            if "diode" not in m:
                self.fail(mw + "diode", "missing: a matrix needs its diode direction "
                                        "(col2row or row2col); a diode-less matrix ghosts")
            diode = self.get(m, "diode", DIODES, mw)
            matrix = Matrix(rows=lines["rows"], cols=lines["cols"], diode=diode)
        raw = self.tables(k, "key", w)
        if not raw:
            self.fail(w + "key", "no [[keyboard.key]] tables: the keys in index order")
        if len(raw) > MAX_KEYS:
            self.fail(w + "key", f"{len(raw)} keys; at most {MAX_KEYS}")
        keys: list[Key] = []
        names: set[str] = set()
        positions: dict[tuple[int, int], str] = {}
        lines_of: dict[int, str] = {}
        for i, entry in enumerate(raw):
            kw = f"{w}key[{i}]."
            name = self.get(entry, "name", str, kw)
            if not KEY_NAME_RX.match(name):
                self.fail(kw + "name", f"{name!r} is not a plain lower-case name "
                                       f"(letters, digits, _; e.g. \"lshift\")")
            if name in names:
                self.fail(kw + "name", f"'{name}' is used twice")
            names.add(name)
            unknown = set(entry) - {"name", "pin", "row", "col", "twin_pin"}
            if unknown:
                self.fail(kw + sorted(unknown)[0], "unknown key (want name and pin, or "
                                                   "name, row, col and twin_pin)")
            if "pin" in entry:
                if any(x in entry for x in ("row", "col", "twin_pin")):
                    self.fail(kw + "pin", "a key has either pin (direct wiring) or "
                                          "row, col and twin_pin (a matrix), not both")
                if matrix is not None:
                    self.fail(kw + "pin", "the board has a [keyboard.matrix]: give row, col "
                                          "and twin_pin")
                pin = self.pin(entry, "pin", kw)
                claim(pin, kw + "pin")
                key = Key(name=name, pin=pin)
            else:
                if not all(x in entry for x in ("row", "col", "twin_pin")):
                    missing = next(x for x in ("row", "col", "twin_pin") if x not in entry)
                    self.fail(kw + missing, "missing (a key has either pin, or row, col "
                                            "and twin_pin)")
                if matrix is None:
                    self.fail(kw + "row", "a matrix key needs [keyboard.matrix] "
                                          "(rows, cols, diode)")
                row, col = self.get(entry, "row", int, kw), self.get(entry, "col", int, kw)
                if row >= len(matrix.rows):
                    self.fail(kw + "row", f"{row} is not a row (0..{len(matrix.rows) - 1})")
                if col >= len(matrix.cols):
                    self.fail(kw + "col", f"{col} is not a column (0..{len(matrix.cols) - 1})")
                if (row, col) in positions:
                    self.fail(kw + "row", f"row {row}, col {col} is already key "
                                          f"'{positions[(row, col)]}'")
                positions[(row, col)] = name
                twin = self.pin(entry, "twin_pin", kw)
                claim(twin, kw + "twin_pin")
                key = Key(name=name, row=row, col=col, twin_pin=twin)
            number = parse_pin(key.sim_pin)[1]
            button = [e for e in gpio.get("inputs", ()) if "irq" in e]
            for e in button:
                if parse_pin(e["pin"])[1] == number:
                    lines_of.setdefault(number, f"gpio input '{e['name']}' ({e['pin']})")
            if number in lines_of:
                self.fail(kw + ("pin" if key.pin else "twin_pin"),
                          f"{key.sim_pin} shares EXTI line {number} with {lines_of[number]}: "
                          f"the pins keys are read on need distinct pin numbers")
            lines_of[number] = f"key '{name}' ({key.sim_pin})"
            keys.append(key)
        return Keyboard(keys=tuple(keys), matrix=matrix, usb_vid=vid, usb_pid=pid,
                        trace_uart=dict(t))

    def _pin_value(self, value, where: str) -> str:
        if parse_pin(value) is None:
            self.fail(where, f"{value!r} is not a pin (expected P<port A-K><0-15>, e.g. PB6)")
        return value


def _toml_value(value) -> str:
    """A value as board.toml would spell it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _kind_name(kind) -> str:
    return {int: "an integer", str: "a string", bool: "true or false", list: "a list",
            dict: "a table", float: "a number"}.get(kind, kind.__name__)
