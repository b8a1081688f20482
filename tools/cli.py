"""cli.py - the command line behind flash.py.

Parses arguments with the standard library only, checks the board, sets up
the machine (apt packages, .venv) and re-executes inside the virtualenv,
then runs one command. Every user error is one `error:` line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import traceback
from pathlib import Path

from .errors import ToolError
from .paths import REPO, build_dir

DESCRIPTION = """\
Nagi's one command: set up this machine, configure, build, boot, test and
benchmark a board. With no command it builds the default board (pc) and
boots it in QEMU with the console on this terminal.
"""

EPILOG = """\
examples:
  python3 flash.py                        set up, build, boot pc in QEMU (quit: Ctrl-A X)
  python3 flash.py build                  build build/pc/nagi.img (incremental)
  python3 flash.py run                    boot the built image in QEMU
  python3 flash.py run --board b-l475e-iot01a
                                          program the attached board (pyocd), or boot its twin
  python3 flash.py flash --board b-l475e-iot01a --probe UID
                                          program that probe's board; never the twin
  python3 flash.py run --device /dev/sdX   write build/pc/nagi-pc.img (GRUB, BIOS + UEFI) to a
                                          USB stick; refuses fixed, mounted, system and big disks
  python3 flash.py menuconfig             edit build/pc/.config in a text UI
  python3 flash.py test                   unit tests + the HIL suite on the pc twin
  python3 flash.py test --hil-only -- -k ipctest -x
                                          HIL only; args after -- go to pytest
  python3 flash.py test --board b-l475e-iot01a --hardware [--probe UID] [--port /dev/ttyACM0]
                                          the HIL suite on the physical board (flash, reset)
  python3 flash.py --set KERNEL_UBSAN=y test --hil-only
                                          same suite on a UBSan kernel (build/pc-<hash>/)
  python3 flash.py bench --json build/bench.json
                                          deterministic instruction counts (TCG -icount)
  python3 flash.py fuzz --board mps2-an386 --calls 100000 [--seed S]
                                          random syscalls from two tasks; then no panic,
                                          no hang, ipctest passes, nothing leaked

The first run installs what is missing: Debian packages when run as root
(otherwise it prints the apt-get command to run), and requirements.txt into
.venv/. Outputs go to build/<board>/ (build/<board>-<hash>/ with --set).
Accelerator: auto picks KVM only on hosts with hardware-backed KVM
(kvm_intel/kvm_amd loaded), else TCG, and always says which and why.
See tools/README.md.
"""

COMMANDS = {
    "build": "configure and build the image (config, userland, initfs, kernel)",
    "run": "build, then program the attached board (debug probe) or, with none, boot the "
           "board's QEMU twin with the console on this terminal",
    "flash": "build, then program the board through a debug probe or USB DFU (no twin)",
    "menuconfig": "edit the board's configuration (build/<board>/.config)",
    "test": "kernel unit tests, Rust runtime tests, tools tests, then the HIL suite",
    "bench": "boot under TCG -icount and report IPC/syscall instruction counts",
    "fuzz": "boot the twin, run the in-tree system-call fuzzer, check for panics, hangs "
            "and leaks",
}


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    parser.add_argument("--board", default=d("pc"), metavar="NAME",
                        help="board directory under board/ (default: pc)")
    parser.add_argument("--accel", default=d("auto"), choices=["auto", "tcg", "kvm"],
                        help="QEMU accelerator (default auto: KVM only when hardware-backed)")
    parser.add_argument("--set", dest="overrides", action="append", default=d([]),
                        metavar="SYM=VALUE",
                        help="override a config symbol, e.g. --set KERNEL_UBSAN=y (repeatable)")


def _u32(lowest: int):
    """An argparse type: an integer (decimal or 0x...) in lowest..2^32-1."""
    def parse(text: str) -> int:
        try:
            v = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not lowest <= v < 2**32:
            raise argparse.ArgumentTypeError(f"must be between {lowest} and {2**32 - 1}: {text}")
        return v
    return parse


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flash.py", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text)
        _common(p, suppress=True)
        if name == "test":
            g = p.add_mutually_exclusive_group()
            g.add_argument("--hil-only", action="store_true", help="only the HIL suite")
            g.add_argument("--unit-only", action="store_true",
                           help="only the unit tests (kernel C, Rust runtime, tools)")
            p.add_argument("--hardware", action="store_true",
                           help="run the HIL suite on the physical board (pyocd probe + serial "
                                "console) instead of the QEMU twin")
            p.add_argument("--probe", metavar="UID",
                           help="with --hardware: the debug probe (its unique id)")
            p.add_argument("--port", metavar="PATH|URL",
                           help="with --hardware: the console, e.g. /dev/ttyACM0 or "
                                "rfc2217://host:port (default: found by board.toml "
                                "[console] usb_serial)")
            p.add_argument("--no-flash", action="store_true",
                           help="with --hardware: do not program the image, only reset")
        if name in ("run", "flash"):
            p.add_argument("--probe", metavar="UID",
                           help="the debug probe to use (its unique id) when several are attached")
            p.add_argument("--method", choices=["pyocd", "dfu"],
                           help="how to reach the hardware (default: the board's first method)")
        if name == "run":
            p.add_argument("--hardware", action="store_true",
                           help="program the real board; fail instead of booting the twin")
            p.add_argument("--device", metavar="PATH",
                           help="write the board's disk image (pc: nagi-pc.img, GRUB for BIOS "
                                "and UEFI) to this USB stick (a whole removable disk, "
                                "e.g. /dev/sdb) or to a file, then read it back")
            p.add_argument("--yes", action="store_true",
                           help="with --device: do not ask before writing the disk")
            p.add_argument("--force-large", action="store_true",
                           help="with --device: write a disk larger than 256 GiB")
        if name == "fuzz":
            p.add_argument("--calls", type=_u32(1), default=100_000, metavar="N",
                           help="calls per fuzzer (two run at once; default 100000)")
            p.add_argument("--seed", type=_u32(0), metavar="S",
                           help="replay this seed (default: a random one, printed)")
            p.add_argument("--trace-from", type=_u32(0), metavar="K",
                           help="print every call from call number K on (to see the "
                                "calls before a failure)")
            p.add_argument("--stall", type=float, default=120.0, metavar="SECONDS",
                           help="no progress line for this long is a hang (default 120)")
        if name == "bench":
            p.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON")
            p.add_argument("--boots", type=int, default=3,
                           help="boots for the boot-time median (default 3)")
    return parser


def parse(argv: list[str]):
    """Split off pytest arguments after `--`, then parse the rest."""
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    else:
        extra = []
    parser = make_parser()
    args = parser.parse_args(argv)
    args.pytest_args = extra
    if extra and args.command != "test":
        parser.error("arguments after -- are passed to pytest: only with `test`")
    if args.command == "test" and not args.hardware and (args.probe or args.port
                                                         or args.no_flash):
        parser.error("--probe, --port and --no-flash go with --hardware")
    if args.command == "run" and not args.device and (args.yes or args.force_large):
        parser.error("--yes and --force-large go with --device")
    if args.command == "run" and args.device and (args.hardware or args.probe or args.method):
        parser.error("--device writes the disk image: not with --hardware, --probe or --method")
    if args.command == "test" and args.hardware and args.unit_only:
        parser.error("--hardware runs the HIL suite on the board: not with --unit-only")
    return args


def main(argv: list[str] | None = None, entry: Path = REPO / "flash.py") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse(argv)
        return dispatch(args, argv, entry)
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug in the tools: still one line, unless asked
        if os.environ.get("NAGI_DEBUG"):
            traceback.print_exc()
        print(f"error: internal error: {type(e).__name__}: {e} "
              f"(NAGI_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


def dispatch(args, argv: list[str], entry: Path) -> int:
    from .boards import load_board
    from .config import parse_overrides
    board = load_board(args.board)           # unknown board: exit 2 before any set-up
    overrides = parse_overrides(args.overrides)
    if args.accel not in ("auto", "tcg", "kvm"):
        raise ToolError(f"unknown accelerator '{args.accel}'", status=2)

    from .setup_env import ensure_environment
    ensure_environment(argv, entry)          # may re-exec inside .venv

    build = build_dir(board.name, args.overrides)
    command = args.command
    from .buildlock import BuildLock
    lock = BuildLock(build, command or "run")
    if command != "menuconfig":
        lock.acquire()         # held until the command ends, or released below
    try:
        return _dispatch_locked(args, board, overrides, build, command, lock)
    finally:
        lock.release()


def _dispatch_locked(args, board, overrides, build: Path, command, lock) -> int:
    if command is None:
        target = run_target(board, None)
        do_build(board, build, overrides)
        if target == "twin":
            lock.release()     # the console may stay open while others build
        return do_run(board, build, args.accel, None, target)
    if command == "build":
        do_build(board, build, overrides)
        return 0
    if command == "run" and args.device:
        return run_device(board, build, overrides, args)
    if command == "run":
        target = run_target(board, args)      # no probe: say so before building
        do_build(board, build, overrides)
        if target == "twin":
            lock.release()     # the console may stay open while others build
        return do_run(board, build, args.accel, args, target)
    if command == "flash":
        from .flashers import check_hardware
        check_hardware(board, getattr(args, "method", None), getattr(args, "probe", None))
        do_build(board, build, overrides)
        return do_flash(board, build, args)
    if command == "menuconfig":
        return do_menuconfig(board, build, overrides)
    if command == "test":
        from .test_runner import run_tests
        return run_tests(board, build, overrides, args)
    if command == "bench":
        from .bench import run_bench
        do_build(board, build, overrides)
        return run_bench(board, build, args)
    if command == "fuzz":
        from .fuzz import run_fuzz
        do_build(board, build, overrides)
        outcome = run_fuzz(board, build, args.calls, args.seed, args.trace_from, args.stall,
                           args.accel)
        return 0 if outcome.ok else 1
    raise ToolError(f"unknown command '{command}'", status=2)


def run_device(board, build: Path, overrides, args) -> int:
    """`run --device PATH`: the board's disk image onto a stick or a file.
    The device is checked before the build (a refusal costs no build) and
    again before writing (tools/stick.py)."""
    from .flashers import progress_bar
    from .stick import System, plan, write_stick
    entry = board.flash_method("disk")
    if entry is None:
        raise ToolError(f"board '{board.name}' has no disk image to write (board.toml has no "
                        f"[[flash]] method \"disk\")", status=2)
    plan(args.device, System(), args.force_large)
    do_build(board, build, overrides)
    image = build / entry.get("image", "nagi-disk.img")
    write_stick(image, args.device, args.yes, args.force_large,
                progress=progress_bar(f"write {image.name}"))
    return 0


def do_build(board, build: Path, overrides):
    from .build import Builder
    return Builder(board, build, overrides).build_all()


def run_target(board, args) -> str:
    """Where `run` goes, decided before the build: "hardware" or "twin".
    The board's default method (its first [[flash]] entry) if it is a
    hardware one and a probe is attached, else the twin; --hardware /
    --probe / --method insist on hardware, and without it fail here, in
    one line, before anything is built."""
    from .flashers import NoProbe, check_hardware, hardware_methods
    method, probe = getattr(args, "method", None), getattr(args, "probe", None)
    wants_hw = bool(getattr(args, "hardware", False) or probe or method)
    if wants_hw or board.qemu is None:
        check_hardware(board, method, probe)
        return "hardware"
    if board.flash_methods and board.flash_methods[0] in hardware_methods(board):
        try:
            check_hardware(board)
            return "hardware"
        except NoProbe:
            print("no debug probe found; booting the QEMU twin instead", flush=True)
    return "twin"


def do_run(board, build: Path, accel_request: str, args=None, target: str = "twin") -> int:
    """Program the attached board, or boot the twin (run_target chose)."""
    if target == "hardware":
        return do_flash(board, build, args)
    return run_twin(board, build, accel_request)


def do_flash(board, build: Path, args) -> int:
    from .flashers import flash_board
    flash_board(board, build, method=getattr(args, "method", None),
                probe=getattr(args, "probe", None))
    return 0


def run_twin(board, build: Path, accel_request: str) -> int:
    from .qemu import QemuTwin, accel_for
    if board.qemu is None:
        raise ToolError(f"board '{board.name}' has no QEMU twin")
    accel = accel_for(board, accel_request)
    twin = QemuTwin(board, build / board.qemu.image, accel)
    cmd = twin.interactive_command()
    print(accel.describe())
    print(f"Booting {board.name} in QEMU. Quit: Ctrl-A then X. QEMU monitor: Ctrl-A then C.")
    print("$ " + " ".join(cmd), flush=True)
    try:
        return subprocess.run(cmd).returncode
    except OSError as e:
        raise ToolError(f"cannot start {cmd[0]}: {e}") from None


def _run_menuconfig(config: Path) -> int:
    """kconfiglib's menuconfig on `config` (a terminal UI; tests replace it)."""
    env = dict(os.environ, KCONFIG_CONFIG=str(config), srctree=str(REPO))
    return subprocess.run([sys.executable, "-m", "menuconfig", "Kconfig"], cwd=REPO,
                          env=env).returncode


def do_menuconfig(board, build: Path, overrides, run=_run_menuconfig) -> int:
    """Edit build/<board>/.config. Choosing another board in the board
    menu moves the edited configuration to that board's build directory
    (saying so in one line) and leaves this board's configuration as it
    was, so neither board's later builds break."""
    from .boards import load_board
    from .config import configure, selected_board
    configure(board, build, overrides)       # make sure .config exists
    dotconfig = build / ".config"
    saved = dotconfig.read_bytes()
    rc = run(dotconfig)
    if rc != 0:
        dotconfig.write_bytes(saved)
        raise ToolError(f"menuconfig exited with status {rc}; {dotconfig} left as it was")
    chosen = selected_board(dotconfig)
    if chosen and chosen != board.name:
        try:
            other = load_board(chosen)
        except ToolError:
            dotconfig.write_bytes(saved)
            raise
        # build/<board>[-hash] -> build/<chosen>[-hash]: the same overrides.
        target = build.parent / (chosen + build.name[len(board.name):])
        target.mkdir(parents=True, exist_ok=True)
        (target / ".config").write_bytes(dotconfig.read_bytes())
        dotconfig.write_bytes(saved)
        configure(other, target, overrides)
        configure(board, build, overrides)
        print(f"menuconfig: board {chosen} chosen: configuration moved to "
              f"{target / '.config'} (build it with --board {chosen}); "
              f"{board.name}'s is unchanged")
        return 0
    result = configure(board, build, overrides)
    changed = ", ".join(str(p.relative_to(build)) for p in result.changed) or "nothing changed"
    print(f"configuration of {board.name}: {changed}")
    return 0
