"""The build pipeline's commands and failures, with child processes faked."""

from pathlib import Path

import pytest

from tools.boards import load_board
from tools.build import Builder, Runner
from tools.errors import ToolError
from tools.paths import REPO


class FakeRunner(Runner):
    def __init__(self, rc=0, output="", effect=None):
        self.calls, self.rc, self.output, self.effect = [], rc, output, effect

    def run(self, cmd, cwd, env, on_line):
        self.calls.append((cmd, cwd, env))
        if self.effect:
            self.effect(cmd)
        for line in self.output.splitlines(True):
            on_line(line)
        return self.rc, self.output


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "userland").mkdir()
    (tmp_path / "userland" / "Cargo.toml").write_text("")
    (tmp_path / "userland" / "cross.toml").write_text("")
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "Makefile").write_text("")
    return tmp_path


def test_cargo_command_uses_debian_toolchain(repo):
    build = repo / "build" / "pc"
    b = Builder(load_board("pc"), build, [], FakeRunner(), repo=repo)
    cmd, env = b.cargo_command()
    assert cmd == ["/usr/bin/cargo", "build", "--release", "--manifest-path",
                   "userland/Cargo.toml", "--config", "userland/cross.toml"]
    assert env["PATH"].startswith("/usr/bin:")
    assert (env["RUSTC"], env["RUSTC_BOOTSTRAP"]) == ("/usr/bin/rustc", "1")
    assert env["CARGO_TARGET_DIR"] == str(build.resolve() / "userland")
    assert env["NAGI_CONFIG_RS"] == str(build.resolve() / "nagi_config.rs")


def test_userland_programs_follow_config(repo):
    b = Builder(load_board("pc"), repo / "b", [], FakeRunner(), repo=repo)
    assert b.programs({"BENCH": "y"})[-1] == "bench_server"
    assert "bench_server" not in b.programs({"BENCH": "n"})
    assert b.programs({})[0] == "init"
    # ps2kbd: in images of boards with an i8042 (board.toml [ps2] -> PS2KBD)
    assert b.programs({"PS2KBD": "y"})[-1] == "ps2kbd"
    assert "ps2kbd" not in b.programs({})
    # NIC drivers by [nic] model: e1000 (E1000), lan9118 (LAN9118)
    assert b.programs({"E1000": "y"})[-1] == "e1000"
    assert b.programs({"LAN9118": "y"})[-1] == "lan9118"
    assert not {"e1000", "lan9118"} & set(b.programs({}))


def test_userland_failure_names_the_step(repo, capsys):
    b = Builder(load_board("pc"), repo / "build" / "pc", [],
                FakeRunner(rc=101, output="error[E0425]: oops\n"), repo=repo)
    with pytest.raises(ToolError) as e:
        b.step_userland({"BENCH": "y"})
    assert str(e.value).startswith("build step 'userland' failed (exit 101)")
    assert (repo / "build/pc/logs/userland.log").read_text().endswith("error[E0425]: oops\n")


def test_missing_makefile_names_the_step(repo):
    (repo / "kernel" / "Makefile").unlink()
    b = Builder(load_board("pc"), repo / "build" / "pc", [], FakeRunner(), repo=repo)
    with pytest.raises(ToolError, match="build step 'kernel' failed: kernel/Makefile not found"):
        b.step_kernel(repo / "build/pc/initfs.bin")


def test_kernel_make_command_and_up_to_date(repo, capsys):
    build = repo / "build" / "pc"
    build.mkdir(parents=True)

    def make_image(cmd):
        (build / "nagi.img").write_bytes(b"img")
    runner = FakeRunner(effect=make_image)
    b = Builder(load_board("pc"), build, [], runner, repo=repo)
    b.step_kernel(build / "initfs.bin")
    assert runner.calls[0][0] == ["make", "--no-print-directory", "-f", "kernel/Makefile",
                                  "O=build/pc", "INITFS=build/pc/initfs.bin"]
    assert runner.calls[0][1] == repo
    assert "built nagi.img" in capsys.readouterr().out
    b.runner = FakeRunner()          # make does nothing the second time
    b.step_kernel(build / "initfs.bin")
    assert "kernel: up to date" in capsys.readouterr().out


def test_initfs_puts_init_first_and_skips_unchanged(repo, capsys):
    build = repo / "build" / "pc"
    elf = build / "elfs"
    elf.mkdir(parents=True)
    paths = []
    for n in ["init", "memory", "shell"]:
        (elf / n).write_bytes(n.encode() * 3)
        paths.append(elf / n)
    b = Builder(load_board("pc"), build, [], FakeRunner(), repo=repo)
    out = b.step_initfs(paths)
    from tools.initfs import unpack
    assert [n for n, _ in unpack(out.read_bytes())] == ["init", "memory", "shell"]
    mtime = out.stat().st_mtime_ns
    b.step_initfs(paths)
    assert out.stat().st_mtime_ns == mtime
    assert "initfs: up to date" in capsys.readouterr().out


# -- arm-m (docs/mcu-port.md) ------------------------------------------------------

from tools.tests.arm_standins import build_kernel, build_program, needs_gcc  # noqa: E402


@pytest.fixture
def arm_repo(repo):
    (repo / "userland" / "cross-arm.toml").write_text("")
    (repo / "userland" / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["runtime", "init", "memory", "console", "shell", "ipc_peer",\n'
        '"faulter", "critical", "bench_server", "gpio", "lan9118", "net", "httpd", "tests/fuzz",\n'
        '"keyboard"]\n')
    # The real stack and heap sizes (net's heap is checked against the
    # socket budget: tools/build.py check_net_heap).
    (repo / "userland" / "tasks.toml").write_text((REPO / "userland" / "tasks.toml").read_text())
    # A library member ([lib], no [[bin]]), as userland/keyboard: no program.
    (repo / "userland" / "keyboard").mkdir(parents=True)
    (repo / "userland" / "keyboard" / "Cargo.toml").write_text(
        '[package]\nname = "keyboard"\n\n[lib]\npath = "src/lib.rs"\n')
    # One crate, two programs ([[bin]] names), as userland/tests/fuzz.
    (repo / "userland" / "tests" / "fuzz").mkdir(parents=True)
    (repo / "userland" / "tests" / "fuzz" / "Cargo.toml").write_text(
        '[package]\nname = "fuzz"\n\n[[bin]]\nname = "fuzz"\npath = "src/main.rs"\n\n'
        '[[bin]]\nname = "fuzz_peer"\npath = "src/peer.rs"\n')
    return repo


def test_arm_cargo_command_uses_cross_arm_and_layout_dir(arm_repo):
    build = arm_repo / "build" / "mps2-an386"
    b = Builder(load_board("mps2-an386"), build, [], FakeRunner(), repo=arm_repo)
    cmd, env = b.cargo_command()
    assert cmd == ["/usr/bin/cargo", "build", "--release", "--manifest-path",
                   "userland/Cargo.toml", "--config", "userland/cross-arm.toml"]
    assert env["NAGI_LAYOUT_DIR"] == str(build.resolve() / "layout")
    assert b.elf_dir() == build / "userland" / "thumbv7em-none-eabihf" / "release"
    (arm_repo / "userland" / "cross-arm.toml").unlink()
    with pytest.raises(ToolError, match="cross-arm.toml not found"):
        b.cargo_command()


def test_pc_cargo_command_has_no_layout_dir(repo):
    cmd, env = Builder(load_board("pc"), repo / "b", [], FakeRunner(), repo=repo).cargo_command()
    assert "NAGI_LAYOUT_DIR" not in env or env["NAGI_LAYOUT_DIR"] == __import__("os").environ.get(
        "NAGI_LAYOUT_DIR")
    assert "userland/cross.toml" in cmd


def test_mcu_programs_follow_config(arm_repo):
    b = Builder(load_board("b-l475e-iot01a"), arm_repo / "b", [], FakeRunner(), repo=arm_repo)
    assert b.programs({"BENCH": "y", "GPIO": "y"}) == \
        ["init", "console", "shell", "ipc_peer", "faulter", "critical", "bench_server", "gpio"]
    assert b.programs({"BENCH": "n", "GPIO": "n"}) == \
        ["init", "console", "shell", "ipc_peer", "faulter", "critical"]
    assert "memory" in b.workspace_programs() and "runtime" not in b.workspace_programs()
    assert b.programs({"FUZZ": "y"})[-2:] == ["fuzz", "fuzz_peer"]


def test_workspace_programs_are_the_bin_names_of_each_member(arm_repo):
    b = Builder(load_board("b-l475e-iot01a"), arm_repo / "b", [], FakeRunner(), repo=arm_repo)
    names = b.workspace_programs()
    assert names[-2:] == ["fuzz", "fuzz_peer"]           # two [[bin]]s of one crate
    assert "tests/fuzz" not in names and "gpio" in names   # no Cargo.toml: the member's name
    assert "keyboard" not in names                         # [lib], no [[bin]]: a library


def test_usb_kbd_is_a_library_every_board_build_compiles(tmp_path):
    """userland/usb_kbd has no program (no layout, not in any image), but as
    a workspace member the userland step's `cargo build` compiles it for the
    board's target: thumbv7em-none-eabihf on the MCU boards. That build is
    its Cortex-M compile check (the host tests only see the fake bus)."""
    import tomllib
    from tools import paths
    userland = paths.REPO / "userland"
    members = tomllib.loads((userland / "Cargo.toml").read_text())["workspace"]["members"]
    assert "usb_kbd" in members
    crate = tomllib.loads((userland / "usb_kbd" / "Cargo.toml").read_text())
    assert "lib" in crate and "bin" not in crate
    b = Builder(load_board("b-l475e-iot01a"), tmp_path / "b", [], FakeRunner(), repo=paths.REPO)
    assert "usb_kbd" not in b.workspace_programs()
    cmd, _ = b.cargo_command()
    assert "-p" not in cmd and "userland/cross-arm.toml" in cmd   # the whole workspace


class ArmRunner(Runner):
    """Plays cargo (links stand-in programs against $NAGI_LAYOUT_DIR) and
    make (links a stand-in kernel, `kernel_code` bytes of code)."""

    def __init__(self, build, elf_dir, kernel_code=1000, flash=0x0):
        self.build, self.elf_dir, self.calls = build, elf_dir, []
        self.kernel_code, self.flash = kernel_code, flash

    def run(self, cmd, cwd, env, on_line):
        self.calls.append(cmd[0])
        if cmd[0].endswith("cargo"):
            self.elf_dir.mkdir(parents=True, exist_ok=True)
            layout = Path(env["NAGI_LAYOUT_DIR"])
            for p in ["init", "memory", "console", "shell", "ipc_peer", "faulter", "critical",
                      "bench_server", "gpio", "lan9118", "net", "httpd", "fuzz", "fuzz_peer"]:
                out = self.elf_dir / p
                before = out.read_bytes() if out.exists() else None
                tmp = self.elf_dir / (p + ".new")
                try:
                    build_program(p, layout, tmp, code=3000 if p == "shell" else 200)
                except RuntimeError as e:
                    return 101, str(e)
                if tmp.read_bytes() != before:       # like cargo: untouched when unchanged
                    tmp.replace(out)
                else:
                    tmp.unlink()
            return 0, ""
        if cmd[0] == "make":
            out = self.build / "kernel.elf"
            res = build_kernel(self.build / "kernel.new", flash=self.flash,
                               code=self.kernel_code)
            if res.returncode:
                on_line(res.stderr)
                return 2, res.stderr
            new = (self.build / "kernel.new").read_bytes()
            if not out.exists() or out.read_bytes() != new:
                (self.build / "kernel.new").replace(out)
            return 0, ""
        raise AssertionError(cmd)


@needs_gcc
def test_arm_build_produces_the_image_and_the_map(arm_repo, capsys):
    import json
    board = load_board("mps2-an386")
    build = arm_repo / "build" / "mps2-an386"
    b = Builder(board, build, [], None, repo=arm_repo)
    b.runner = ArmRunner(build, b.elf_dir())
    b.step_config = lambda: __import__("tools.config", fromlist=["x"]).configure(
        board, build, []).values
    result = b.build_all()
    out = capsys.readouterr().out
    assert result.image == build / "nagi.elf" == result.elf
    for f in ["nagi.elf", "nagi.bin", "nagi.hex", "memory-map.json", "layout/shell.ld"]:
        assert (build / f).is_file(), f
    assert b.runner.calls == ["/usr/bin/cargo", "/usr/bin/cargo", "make"]
    assert "[4/4] image: wrote nagi.elf, nagi.bin, nagi.hex" in out
    mm = json.loads((build / "memory-map.json").read_text())
    assert f"kernel: flash {mm['kernel_flash_bytes']} B / 16384, static RAM " \
           f"{mm['kernel_ram_bytes']} B / 8192" in out
    assert [t["name"] for t in mm["tasks"]] == \
        ["init", "console", "shell", "ipc_peer", "faulter", "critical", "bench_server",
         "fuzz", "fuzz_peer", "lan9118", "net", "httpd"]  # no gpio, no memory; [nic]: lan9118, net
    # again: one cargo run, everything up to date, the map printed again
    b.runner.calls.clear()
    b.build_all()
    out = capsys.readouterr().out
    assert b.runner.calls == ["/usr/bin/cargo", "make"]
    assert "[2/4] userland: up to date" in out and "[4/4] image: up to date" in out
    assert "kernel: flash" in out


@needs_gcc
def test_arm_kernel_too_big_is_one_line(arm_repo, capsys):
    board = load_board("mps2-an386")
    build = arm_repo / "build" / "mps2-an386"
    b = Builder(board, build, [], None, repo=arm_repo)
    b.runner = ArmRunner(build, b.elf_dir(), kernel_code=20000)
    from tools.config import configure
    b.step_config = lambda: configure(board, build, []).values
    with pytest.raises(ToolError) as e:
        b.build_all()
    msg = str(e.value)
    assert msg.startswith("layout: kernel does not fit: needs ") and "B of flash at 0x00000000, "\
        "16384 B reserved (short by " in msg and "\n" not in msg


def test_net_heap_must_hold_the_socket_budget():
    """On MCU boards net's heap is static: the build refuses a tasks.toml
    heap below the Kconfig socket budget, in one line naming both."""
    from tools.build import check_net_heap, net_heap_need
    config = {"NET_TCP_SOCKETS": "64", "NET_TCP_RX_BYTES": "8192", "NET_TCP_TX_BYTES": "12288",
              "NET_SOCKET_IDS": "64"}
    need = net_heap_need(config)
    assert need == 64 * (8192 + 12288) + 64 * 4096 + 64 * 1024
    check_net_heap(need, config)
    with pytest.raises(ToolError) as e:
        check_net_heap(need - 8, config)
    msg = str(e.value)
    assert "\n" not in msg and "[net] heap" in msg and f"needs {need} B" in msg
    assert "CONFIG_NET_TCP_SOCKETS=64" in msg


def test_the_real_net_heap_holds_mps2s_socket_budget():
    """userland/tasks.toml's [net] heap against mps2-an386's configured
    budget (the Kconfig defaults for boards without paging)."""
    from tools.build import check_net_heap
    from tools.layout import load_task_sizes
    from tools.config import configure
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        values = configure(load_board("mps2-an386"), Path(d), []).values
    assert values.get("NET") == "y"
    sizes = load_task_sizes(REPO / "userland" / "tasks.toml", ["net"])
    check_net_heap(sizes["net"].heap, values)
