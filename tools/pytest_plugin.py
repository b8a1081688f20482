"""pytest_plugin.py - the HIL kit as a pytest plugin.

Loaded by hil_tests/conftest.py. Gives the tests:
  - options --board (default pc), --build-dir (default build/<board>),
    --accel (auto|tcg|kvm), --boot-timeout; for a physical board instead
    of the twin --hardware, --probe UID, --port PATH|URL, --no-flash
    (tools/hardware.py: flashed once, reset before the session);
  - fixtures `board` (the board description), `dut` (one booted device for
    the whole session), `fresh_dut` (a device booted for one test, for
    tests that kill the guest; on hardware the session's board, reset
    before and after the test), `gpio` (the session's device, with pin
    control: skipped unless the board grants 'gpio', and on hardware,
    where pin control needs an actuator) and `fresh_gpio` (the same for a
    freshly booted device), `keys` (the session's device with a PS/2
    keyboard to type on: skipped unless the board has an i8042, [ps2],
    and on hardware, where typing needs a key injector), `twin_image`
    (boots a variant image a test made, e.g. a corrupted task table, on
    the twin), `tcpip` (skips unless the image has the TCP/IP server,
    CONFIG_NET), `keyboard` (keys by name and the HID reports they
    produced: tools/keyboard.py), `net` (a device booted for the test
    module with its NIC on the kit's network, tools/netkit: net.dut,
    net.kit; skipped on boards without a [nic], on hardware, and where
    the kit cannot build its network, with the one-line reason);
  - the mark @pytest.mark.needs("capability"): skipped, with the reason,
    when board.toml does not grant it;
  - on failure, the full console transcript as a report section and in
    build/<board>/hil-logs/<test>.log; JUnit XML in
    build/<board>/junit-hil.xml unless --junitxml says otherwise; a summary.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from .boards import load_board
from .dut import PIN_CONTROL_ON_HARDWARE, Dut, HardwarePins, QtestPins
from .errors import ToolError
from .paths import REPO, build_dir
from .qemu import DiskBoot, QemuTwin, accel_for
from .qtest import PinMap

_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    g = parser.getgroup("nagi", "Nagi hardware-in-the-loop")
    g.addoption("--board", default="pc", help="board under board/ (default: pc)")
    g.addoption("--build-dir", default=None,
                help="build directory holding the image (default: build/<board>)")
    g.addoption("--accel", default="auto", choices=["auto", "tcg", "kvm"],
                help="QEMU accelerator for twins (default auto)")
    g.addoption("--boot-timeout", type=float, default=90.0,
                help="seconds to wait for the first prompt (default 90)")
    g.addoption("--hardware", action="store_true",
                help="run against the physical board (pyocd probe + serial console), "
                     "not the QEMU twin")
    g.addoption("--probe", default=None, metavar="UID",
                help="with --hardware: the debug probe's unique id (needed when several)")
    g.addoption("--port", default=None, metavar="PATH|URL",
                help="with --hardware: the console (/dev/ttyACM0, rfc2217://host:port, "
                     "socket://host:port; default: board.toml [console] usb_serial)")
    g.addoption("--no-flash", action="store_true",
                help="with --hardware: do not program the image first (reset only)")
    g.addoption("--net-backend", default="auto", choices=["auto", "netns", "user"],
                help="the kit's network for the twin's NIC: netns (a tap in a namespace "
                     "with dnsmasq and the seeded relay; needs root), user (QEMU user "
                     "networking: no root, fewer tests) or auto (netns where possible)")
    g.addoption("--boot", default="kernel", choices=["kernel", "disk"],
                help="how the twin boots: kernel (QEMU's -kernel, the default) or disk "
                     "(the board's disk image, build/pc/nagi-pc.img, through SeaBIOS and "
                     "GRUB from a SATA disk; boards with a [[flash]] method \"disk\")")
    g.addoption("--junit-kind", default="hil",
                help="name part of the default JUnit file build/<board>/junit-<kind>.xml")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "needs(capability): the test needs this board capability")
    config.addinivalue_line("markers", "netns: the test needs the tap/namespace network "
                                       "(skipped, with what it leaves untested, on QEMU user networking)")
    try:
        board = load_board(config.getoption("board"))
    except ToolError as e:
        raise pytest.UsageError(str(e)) from None
    build = Path(config.getoption("build_dir") or build_dir(board.name))
    if not build.is_absolute():
        build = REPO / build
    hardware = bool(config.getoption("hardware"))
    if not hardware and any(config.getoption(o) for o in ("probe", "port", "no_flash")):
        raise pytest.UsageError("--probe, --port and --no-flash go with --hardware")
    boot = config.getoption("boot")
    if boot == "disk" and (hardware or board.flash_method("disk") is None):
        raise pytest.UsageError(f"--boot disk: board '{board.name}' has no disk image "
                                f"([[flash]] method \"disk\")" if not hardware else
                                "--boot disk boots the twin from its disk image: not with "
                                "--hardware")
    config.stash[_STATE] = {"board": board, "build": build, "accel": None, "boot": boot,
                            "disk_boots": [],
                            "logs": build / "hil-logs", "boots": 0, "failed_logs": [],
                            "hardware": hardware, "hw": None}
    if not getattr(config.option, "xmlpath", None) and not hasattr(config, "workerinput"):
        build.mkdir(parents=True, exist_ok=True)
        config.option.xmlpath = str(build / f"junit-{config.getoption('junit_kind')}.xml")


def _state(config) -> dict:
    return config.stash[_STATE]


def _accel(config):
    st = _state(config)
    if st["accel"] is None:
        try:
            st["accel"] = accel_for(st["board"], config.getoption("accel"))
        except ToolError as e:
            pytest.exit(f"error: {e}", returncode=2)
    return st["accel"]


def pytest_report_header(config):
    st = _state(config)
    where = "hardware" if st["hardware"] else "twin"
    return [f"nagi: board {st['board'].name} ({where}), build {st['build']}"]


def pytest_runtest_setup(item):
    board = _state(item.config)["board"]
    for mark in item.iter_markers(name="needs"):
        for cap in mark.args:
            if not board.has(cap):
                pytest.skip(f"board '{board.name}' lacks capability '{cap}'")
    if item.get_closest_marker("netns") is not None and board.nic and net_backend(item.config) == "user":
        from .netkit.usernet import NOTE
        pytest.skip(NOTE)


def net_backend(config) -> str:
    """"netns" or "user": --net-backend, or for auto the namespace where
    this machine can build it (root, /dev/net/tun, ip, dnsmasq)."""
    st = _state(config)
    if "net_backend" not in st:
        from .netkit.namespace import available
        choice = config.getoption("net_backend")
        why = available()
        if choice == "netns" and why:
            pytest.exit(f"error: --net-backend=netns: {why}", returncode=2)
        st["net_backend"] = "user" if choice == "user" or (choice == "auto" and why) else "netns"
    return st["net_backend"]


def boot_hardware(config) -> Dut:
    """The physical board: choose probe and port, flash (unless --no-flash),
    reset, wait for the prompt. Any missing piece ends the session with
    one `error:` line."""
    from .hardware import HardwareBoard
    st = _state(config)
    board = st["board"]
    try:
        hw = HardwareBoard(board, st["build"], probe=config.getoption("probe"),
                           port=config.getoption("port"),
                           flash=not config.getoption("no_flash"))
        console = hw.start()
    except ToolError as e:
        pytest.exit(f"error: {e}", returncode=2)
    st["hw"] = hw
    st["boots"] += 1
    dut = Dut(console, hw, board, pins=HardwarePins() if board.has("gpio") else None)
    try:
        dut.wait_for_boot(config.getoption("boot_timeout"))
    except (AssertionError, ToolError):
        _write_log(st["logs"] / "boot-session.log", dut.transcript)
        dut.close()
        raise
    return dut


def boot_dut(config, tag: str) -> Dut:
    """Boot the built image on the board's twin (on the physical board with
    --hardware) and wait for the prompt."""
    st = _state(config)
    if st["hardware"]:
        return boot_hardware(config)
    image, disk = session_image(config)
    return boot_twin(config, image, tag, disk=disk)


def disk_image_path(config) -> Path:
    """The board's disk image in the build (board.toml [[flash]] "disk")."""
    st = _state(config)
    entry = st["board"].flash_method("disk") or {}
    return st["build"] / entry.get("image", "nagi-disk.img")


def session_image(config) -> tuple[Path, DiskBoot | None]:
    """What the session's boots start from: the kernel image (-kernel), or
    with --boot disk the disk image through SeaBIOS from a SATA disk.
    A missing image ends the session with one line."""
    st = _state(config)
    board = st["board"]
    if st["boot"] == "disk":
        image, disk = disk_image_path(config), DiskBoot("seabios", "sata")
    else:
        image, disk = (st["build"] / board.qemu.image if board.qemu else None), None
    if image is None or not image.is_file():
        pytest.exit(f"error: no image at {image}; run `python3 flash.py build` first",
                    returncode=2)
    return image, disk


def boot_twin(config, image: Path, tag: str, wait_for_prompt: bool = True,
              extra: tuple[str, ...] = (), disk: DiskBoot | None = None) -> Dut:
    """Boot `image` (the build's, or a variant a test made) on the board's
    twin, with `extra` QEMU arguments (a variant machine, e.g. without
    its i8042); with wait_for_prompt, wait for the shell's first prompt.
    With `disk` (a DiskBoot), `image` is a disk image booted by firmware."""
    st = _state(config)
    board = st["board"]
    st["boots"] += 1
    pin_control = board.has("gpio")
    twin = QemuTwin(board, image, _accel(config), qtest=pin_control, extra=tuple(extra),
                    log_path=st["logs"] / f"qemu-{tag}.log", disk=disk)
    console = twin.start()
    dut = Dut(console, twin, board)
    try:
        if pin_control:
            dut.pins = QtestPins(twin.qtest, PinMap.from_board(board))
        if wait_for_prompt:
            dut.wait_for_boot(config.getoption("boot_timeout"))
    except (AssertionError, ToolError):
        _write_log(st["logs"] / f"boot-{tag}.log", dut.transcript)
        dut.close()
        raise
    return dut


@pytest.fixture(scope="session")
def board(request):
    return _state(request.config)["board"]


@pytest.fixture(scope="session")
def dut(request):
    """The device, booted once for the session (tests share its state)."""
    d = boot_dut(request.config, "session")
    yield d
    _write_log(_state(request.config)["logs"] / "session.log", d.transcript)
    d.close()


def _need_pin_control(config) -> None:
    st = _state(config)
    board = st["board"]
    if not board.has("gpio"):
        pytest.skip(f"board '{board.name}' lacks capability 'gpio'")
    if st["hardware"]:
        pytest.skip(PIN_CONTROL_ON_HARDWARE)


@pytest.fixture
def gpio(request):
    """The session's device with pin control (dut.set_pin / press /
    pin_events / wait_pin); skipped, before any boot, on boards without
    'gpio' and on hardware (no actuator back-end yet)."""
    _need_pin_control(request.config)
    return request.getfixturevalue("dut")


@pytest.fixture
def fresh_gpio(request):
    """Like `gpio`, on a device booted for this test alone (fresh_dut)."""
    _need_pin_control(request.config)
    return request.getfixturevalue("fresh_dut")


@pytest.fixture
def keyboard(request):
    """The session's device as a keyboard (tools/keyboard.py): press /
    release / tap / chord keys by their board.toml names, read the HID
    reports the image sent. Skipped on boards without the 'hid'
    capability, and on hardware, where pressing needs an actuator; the
    image must be a twin build (CONFIG_TWIN=y: keys one per pin, reports
    on the trace UART). Every key is released before and after the test."""
    from .keyboard import Keyboard, TraceFile, report_kinds, twin_keys
    st = _state(request.config)
    board = st["board"]
    if not board.has("hid"):
        pytest.skip(f"board '{board.name}' lacks capability 'hid'")
    if st["hardware"]:
        pytest.skip(f"pressing keys: {PIN_CONTROL_ON_HARDWARE}")
    kconfig = request.getfixturevalue("kconfig")
    if kconfig.get("TWIN") != "y":
        pytest.fail(f"{st['build']} was built for the real board (CONFIG_TWIN is not set): "
                    f"its keys are a matrix and its reports go to USB; build a twin image "
                    f"(CONFIG_TWIN=y) to test it in QEMU", pytrace=False)
    dut = request.getfixturevalue("dut")
    kb = Keyboard(twin_keys(board), dut.set_pin, TraceFile(dut.backend.trace_path),
                  report_kinds(kconfig))
    kb.dut = dut
    kb.release_all()
    yield kb
    kb.release_all()


KEYS_ON_HARDWARE = "typing on a real PC's keyboard needs a key injector; not available on hardware"


@pytest.fixture
def keys(request):
    """The session's device with a PS/2 keyboard to type on (dut.type_text,
    tap_keys, key_down / key_up); skipped, before any boot, on boards
    without an i8042 ([ps2]) and on hardware (no key injector yet)."""
    st = _state(request.config)
    if not st["board"].has("ps2"):
        pytest.skip(f"board '{st['board'].name}' lacks capability 'ps2'")
    if st["hardware"]:
        pytest.skip(KEYS_ON_HARDWARE)
    return request.getfixturevalue("dut")


class NetDevice:
    """What the `net` fixture gives: the booted device, the kit's network
    (tools/netkit NetKit: run commands in its namespace), the guest NIC's
    MAC and the namespace's own address."""

    def __init__(self, dut: Dut, kit, mac: str):
        self.dut, self.kit, self.mac = dut, kit, mac
        self.host_ip = "10.0.2.1"
        #: Records in kit.pcap_path when the current test started.
        self.pcap_mark = 0

    @property
    def bind_ip(self) -> str:
        """Where a server for the guest binds (the guest reaches it at host_ip)."""
        return self.kit.bind_ip

    def web(self, guest_ip: str) -> str:
        """host[:port] of the guest's port 80, as curl in ns() reaches it."""
        return self.kit.http_authority(guest_ip)

    def ns(self, cmd: list[str], timeout: float = 60.0):
        """Run `cmd` in the kit's namespace; the CompletedProcess."""
        return self.kit.run(cmd, timeout=timeout)


#: The MAC the twin's NIC gets (QEMU's default, stated so tests can match it).
TWIN_MAC = "52:54:00:12:34:56"


def nic_qemu_args(board, kit, netdev_id: str = "net0", mac: str = TWIN_MAC) -> list[str]:
    """QEMU arguments that put the board's NIC on the kit's network: a
    pluggable card ([nic] qemu_device, the pc's e1000) is added with
    `-device`; an on-board one ([nic] qemu_nic_model, mps2-an386's
    lan9118: the machine always has it) gets the netdev with `-net nic`."""
    if "qemu_nic_model" in board.nic:
        nic = ["-net", f"nic,netdev={netdev_id},model={board.nic['qemu_nic_model']},macaddr={mac}"]
    else:
        nic = ["-device", f"{board.nic['qemu_device']},netdev={netdev_id},mac={mac}"]
    return kit.netdev_args(netdev_id) + nic


@pytest.fixture(scope="module")
def net(request):
    """A device booted for this test module with its NIC attached to the
    kit's network (a namespace with a tap, dnsmasq and the seeded relay;
    removed afterwards), or where the namespace cannot be built (no root,
    no /dev/net/tun: `tools.netkit.namespace.available()`) or with
    --net-backend=user, to QEMU user networking (tools/netkit/usernet.py;
    tests marked `netns` skip there, saying what is left untested).
    Skipped, before any boot, on boards without a [nic] and on hardware."""
    from .netkit.namespace import NetKit
    from .netkit.usernet import UserNet
    st = _state(request.config)
    board = st["board"]
    if not board.nic:
        pytest.skip(f"board '{board.name}' has no NIC ([nic] in board.toml)")
    if st["hardware"]:
        pytest.skip("the kit's network attaches to the twin only (no tap on a physical board yet)")
    image, disk = session_image(request.config)
    tag = _safe_name(request.node.nodeid) or "net"
    workdir = st["build"] / "netkit" / tag
    kit = UserNet(workdir) if net_backend(request.config) == "user" else NetKit(workdir, seed=0)
    with kit:
        d = boot_twin(request.config, image, f"net-{tag}", extra=tuple(nic_qemu_args(board, kit)),
                      disk=disk)
        try:
            yield NetDevice(d, kit, TWIN_MAC)
        finally:
            _write_log(st["logs"] / f"net-{tag}.log", d.transcript)
            d.close()


@pytest.fixture(scope="session")
def build(request) -> Path:
    """The build directory the session's image comes from."""
    return _state(request.config)["build"]


@pytest.fixture
def twin_image(request):
    """boot(image, wait_for_prompt=True, extra=()) -> Dut: boot a variant
    image (a corrupted copy the test made) or the build's image on a
    variant machine (`extra` QEMU arguments) on the board's twin for this
    test alone; closed after the test. With --boot disk the build's own
    image is booted from the disk image instead (a variant image a test
    made stays on -kernel). Skipped on hardware (it would reflash the board)."""
    st = _state(request.config)
    if st["hardware"]:
        pytest.skip("boots variant images on the twin only (it would reflash the board)")
    booted = []

    def boot(image: Path, wait_for_prompt: bool = True, extra: tuple[str, ...] = ()) -> Dut:
        disk = None
        if st["board"].qemu and Path(image) == st["build"] / st["board"].qemu.image:
            image, disk = session_image(request.config)   # --boot disk: the build's disk image
        d = boot_twin(request.config, Path(image),
                      f"{_safe_name(request.node.nodeid)}-{len(booted)}", wait_for_prompt, extra,
                      disk=disk)
        booted.append(d)
        return d

    yield boot
    for d in booted:
        d.close()


@pytest.fixture
def disk_boot(request):
    """boot(firmware, bus, extra=(), image=None) -> (Dut, seconds to the
    prompt): the build's disk image (or a variant `image` the test wrote)
    booted by "seabios" or "ovmf" from a "sata" or "usb" disk
    (qemu.DiskBoot), with `extra` QEMU arguments, for this test alone. Skipped on hardware, on boards
    without a disk image, and without the firmware (the reason says which)."""
    st = _state(request.config)
    if st["hardware"]:
        pytest.skip("boots the disk image on the twin only")
    if st["board"].flash_method("disk") is None:
        pytest.skip(f"board '{st['board'].name}' has no disk image ([[flash]] method \"disk\")")
    built = disk_image_path(request.config)
    if not built.is_file():
        pytest.exit(f"error: no disk image at {built}; run `python3 flash.py build` first",
                    returncode=2)
    booted = []

    def boot(firmware: str, bus: str, extra: tuple[str, ...] = (), image: Path | None = None):
        why = DiskBoot.missing_firmware(firmware)
        if why:
            pytest.skip(why)
        tag = f"{_safe_name(request.node.nodeid)}-{len(booted)}"
        d = boot_twin(request.config, Path(image or built), tag, extra=extra,
                      disk=DiskBoot(firmware, bus))
        booted.append(d)
        seconds = time.monotonic() - d.backend.started_at    # boot_twin waited for the prompt
        st["disk_boots"].append((f"{firmware}/{bus}", seconds))
        return d, seconds

    yield boot
    for d in booted:
        d.close()


@pytest.fixture(scope="session")
def kconfig(request) -> dict[str, str]:
    """The built configuration (build/<board>/.config) as {SYMBOL: value}."""
    path = _state(request.config)["build"] / ".config"
    values = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        name, sep, value = line.partition("=")
        if line.startswith("CONFIG_") and sep:
            values[name[len("CONFIG_"):]] = value.strip('"')
    return values


@pytest.fixture(scope="session")
def tcpip(kconfig):
    """The TCP/IP server (net, with httpd) is in the image (CONFIG_NET: any
    board with a [nic]); skipped with the reason otherwise, before any
    module's twin boots (session scope). Test modules
    of the network use it for every test:
    `pytestmark = pytest.mark.usefixtures("tcpip")`."""
    if kconfig.get("NET") != "y":
        pytest.skip("no TCP/IP server in this image (CONFIG_NET is not set: the board has no [nic])")


@pytest.fixture
def fresh_dut(request):
    """A device booted for this test alone (for tests that kill the guest).
    On hardware there is one board and one console: the session's device,
    reset before the test and again after it, so the session goes on from
    a fresh boot."""
    st = _state(request.config)
    if st["hardware"]:
        d = request.getfixturevalue("dut")
        timeout = request.config.getoption("boot_timeout")
        st["boots"] += 1
        d.reset(timeout)
        yield d
        st["boots"] += 1
        d.reset(timeout)
        return
    d = boot_dut(request.config, _safe_name(request.node.nodeid))
    yield d
    d.close()


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


def _write_log(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _net_devices(item) -> list:
    return [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, NetDevice)]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Mark where this test's traffic starts in its network's capture."""
    from .netkit import pcap
    for dev in _net_devices(item):
        dev.pcap_mark = pcap.count(dev.kit.pcap_path)
    yield


def _attach_pcap(item, report) -> None:
    """A failed test that had the kit's network gets its traffic (from
    its start; all of it when the failure came before) as a pcap file of
    its own, named in the report, the JUnit XML and the summary."""
    from .netkit import pcap
    st = _state(item.config)
    for n, dev in enumerate(_net_devices(item)):
        name = _safe_name(item.nodeid) + (f"-{n}" if n else "")
        dest = st["logs"] / f"{name}.pcap"
        frames = pcap.cut(dev.kit.pcap_path, dev.pcap_mark, dest)
        if frames:
            report.sections.append(("network capture", f"{frames} frames of this test: {dest}"))
            item.user_properties.append(("pcap", str(dest)))   # JUnit: the teardown report carries them
            st["failed_logs"].append(dest)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    _attach_pcap(item, report)
    duts = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, Dut)]
    for kb in (v for v in getattr(item, "funcargs", {}).values() if hasattr(v, "source")):
        path = getattr(kb.source, "path", None)
        if path is not None and Path(path).is_file():
            report.sections.append(("HID trace", Path(path).read_text(errors="replace")[-20000:]))
    for d in duts:
        report.sections.append(("console transcript", d.transcript))
        st = _state(item.config)
        log = st["logs"] / f"{_safe_name(item.nodeid)}.log"
        _write_log(log, d.transcript)
        st["failed_logs"].append(log)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    st = _state(config)
    stats = terminalreporter.stats
    counts = {k: len(stats.get(k, [])) for k in ("passed", "failed", "error", "skipped")}
    tr = terminalreporter
    tr.section("Nagi HIL summary")
    if st["hardware"]:
        accel = st["hw"].describe() if st["hw"] else "hardware: no boot"
        image = ("the image already on the board (--no-flash)" if config.getoption("no_flash")
                 else st["build"] / "nagi.hex")
    else:
        accel = st["accel"].describe() if st["accel"] else "no boot"
        image = st["build"] / (st["board"].qemu.image if st["board"].qemu else "nagi.img")
    if st["boot"] == "disk" and not st["hardware"]:
        image = f"{disk_image_path(config)} (SeaBIOS, SATA)"
    tr.write_line(f"board {st['board'].name}; image {image}; {accel}; "
                  f"boots {st['boots']}")
    for how, seconds in st["disk_boots"]:
        tr.write_line(f"disk boot {how}: prompt {seconds:.1f} s after QEMU started")
    tr.write_line(", ".join(f"{n} {k}" for k, n in counts.items()))
    if st.get("net_backend") == "user":
        from .netkit.usernet import NOTE
        tr.write_line(f"network: {NOTE}")
    if getattr(config.option, "xmlpath", None):
        tr.write_line(f"JUnit XML: {config.option.xmlpath}")
    for log in st["failed_logs"]:
        kind = "network capture" if log.suffix == ".pcap" else "console log"
        tr.write_line(f"{kind} of a failed test: {log}")
