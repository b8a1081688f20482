"""flash.py's command line: help, and errors as one line without traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from tools import cli
from tools.errors import ToolError

REPO = Path(__file__).resolve().parents[2]


def flash(*args):
    """Run flash.py with the system python3, as a newcomer would."""
    return subprocess.run([sys.executable, str(REPO / "flash.py"), *args],
                          capture_output=True, text=True, cwd=REPO, timeout=60)


def test_help_has_examples_and_commands():
    p = flash("--help")
    assert p.returncode == 0
    for word in ["build", "run", "menuconfig", "test", "bench", "--board", "--accel", "--set",
                 "examples:", "Ctrl-A X"]:
        assert word in p.stdout


@pytest.mark.parametrize("args", [["--board", "x"], ["--board", "x", "build"],
                                  ["bench", "--board", "x"]])
def test_unknown_board(args):
    p = flash(*args)
    assert p.returncode == 2
    from tools.boards import board_names
    assert p.stderr == f"error: unknown board 'x'; valid boards: {', '.join(board_names())}\n"
    assert "pc" in board_names()
    assert p.stdout == ""


def test_bad_set_is_one_line():
    p = flash("--set", "NOEQUALS", "build")
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("error: ")


def test_pytest_args_only_with_test():
    p = flash("build", "--", "-x")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_parse_splits_pytest_args():
    args = cli.parse(["test", "--board", "pc", "--hil-only", "--", "-k", "ipc"])
    assert (args.command, args.board, args.hil_only, args.pytest_args) == \
        ("test", "pc", True, ["-k", "ipc"])
    args = cli.parse(["--set", "A=1", "build", "--set", "B=2"])
    assert args.overrides == ["B=2"] or args.overrides == ["A=1", "B=2"]
    assert cli.parse([]).command is None and cli.parse([]).board == "pc"


def test_broken_config_via_main(monkeypatch, tmp_path, capsys):
    """A broken .config is a one-line error from main(), status 1."""
    build = tmp_path / "pc"
    build.mkdir()
    (build / ".config").write_text("CONFIG_BOARD_PC=y\ngarbage line\n")
    (build / ".config").touch()
    import tools.setup_env
    monkeypatch.setattr(tools.setup_env, "ensure_environment", lambda argv, entry: None)
    monkeypatch.setattr(cli, "build_dir", lambda board, overrides: build)
    assert cli.main(["build"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: broken config") and err.count("\n") == 1


def test_internal_errors_are_one_line(monkeypatch, capsys):
    def boom(*a):
        raise RuntimeError("bug")
    monkeypatch.setattr(cli, "dispatch", boom)
    monkeypatch.delenv("NAGI_DEBUG", raising=False)
    assert cli.main(["build"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: bug" in err and "Traceback" not in err


def test_tool_error_status(monkeypatch, capsys):
    monkeypatch.setattr(cli, "dispatch", lambda *a: (_ for _ in ()).throw(ToolError("x", 3)))
    assert cli.main(["build"]) == 3
    assert capsys.readouterr().err == "error: x\n"


@pytest.mark.parametrize("args,msg", [
    (["run", "--yes"], "--yes and --force-large go with --device"),
    (["run", "--force-large"], "--yes and --force-large go with --device"),
    (["run", "--device", "x.img", "--hardware"], "--device writes the disk image"),
])
def test_device_option_errors(args, msg, capsys):
    with pytest.raises(SystemExit):
        cli.parse(args)
    assert msg in capsys.readouterr().err


def test_run_device_refuses_before_building(monkeypatch, capsys):
    # A character device is refused in one line before any build.
    monkeypatch.setattr(cli, "do_build", lambda *a: pytest.fail("built"))
    monkeypatch.setattr("tools.setup_env.ensure_environment", lambda argv, entry: None)
    rc = cli.main(["run", "--board", "pc", "--device", "/dev/null"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1
    assert err.startswith("error: /dev/null is not a block device (a character device)")


def test_run_device_on_a_board_without_a_disk_image(monkeypatch, capsys):
    monkeypatch.setattr("tools.setup_env.ensure_environment", lambda argv, entry: None)
    rc = cli.main(["run", "--board", "mps2-an386", "--device", "x.img"])
    assert rc == 2
    assert "board 'mps2-an386' has no disk image to write" in capsys.readouterr().err


def test_run_device_writes_a_file(monkeypatch, tmp_path, capsys):
    build = tmp_path / "build"
    build.mkdir()
    (build / "nagi-pc.img").write_bytes(b"\x55" * 5000)
    monkeypatch.setattr(cli, "build_dir", lambda board, overrides: build)
    monkeypatch.setattr(cli, "do_build", lambda *a: None)
    monkeypatch.setattr("tools.setup_env.ensure_environment", lambda argv, entry: None)
    out = tmp_path / "stick.img"
    assert cli.main(["run", "--board", "pc", "--device", str(out)]) == 0
    assert out.read_bytes() == b"\x55" * 5000
    assert "read back: sha256" in capsys.readouterr().out
