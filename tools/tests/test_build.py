"""The build pipeline's commands and failures, with child processes faked."""

from pathlib import Path

import pytest

from tools.boards import load_board
from tools.build import Builder, Runner
from tools.errors import ToolError


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
