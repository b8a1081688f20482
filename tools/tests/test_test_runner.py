"""flash.py test, from the command line down to the commands it would run:
which stages --hil-only / --unit-only select, where the pytest arguments
after `--` go, and how a failed or skipped stage shows in the summary and
the exit status. Only _run (the subprocess call) and the HIL stage's build
are replaced."""

import sys

import pytest

from tools import cli, test_runner


class Commands:
    """Stands in for test_runner._run: records each command, answers with
    the exit status of the first rule whose words all appear in it."""

    def __init__(self, rules=()):
        self.rules, self.seen = list(rules), []

    def __call__(self, cmd, cwd=None, env=None):
        self.seen.append(list(cmd))
        return next((rc for words, rc in self.rules if all(w in cmd for w in words)), 0)

    def kinds(self):
        """Each command as the stage it belongs to."""
        def kind(cmd):
            if cmd[0] == "make":
                return "kernel"
            if "cargo" in cmd[0]:
                return "rust"
            return "tools" if "tools/tests" in cmd else "hil" if "hil_tests" in cmd else cmd[0]
        return [kind(c) for c in self.seen]


@pytest.fixture
def flash_test(monkeypatch, tmp_path):
    """cli.main(["test", ...]) with the commands recorded and the build a no-op."""
    import tools.build
    import tools.setup_env
    monkeypatch.setattr(tools.setup_env, "ensure_environment", lambda argv, entry: None)
    monkeypatch.setattr(cli, "build_dir", lambda board, overrides: tmp_path / board)
    builds = []
    monkeypatch.setattr(tools.build.Builder, "build_all", lambda self: builds.append(self))
    commands = Commands()
    monkeypatch.setattr(test_runner, "_run", commands)

    def run(*argv, rules=()):
        commands.rules = list(rules)
        return cli.main(["test", *argv])
    run.commands, run.builds = commands, builds
    return run


@pytest.mark.parametrize("board", ["pc", "mps2-an386", "b-l475e-iot01a"])
def test_every_board_runs_the_host_stages_then_hil(flash_test, board, capsys):
    assert flash_test("--board", board) == 0
    assert flash_test.commands.kinds() == ["kernel", "rust", "tools", "hil"]
    hil = flash_test.commands.seen[-1]
    assert hil[:4] == [sys.executable, "-m", "pytest", "hil_tests"]
    assert f"--board={board}" in hil and len(flash_test.builds) == 1
    out = capsys.readouterr().out
    assert f"=== HIL suite ({board} twin) ===" in out
    assert "4 passed, 0 failed, 0 skipped (of 4 stages)" in out


def test_hil_only_runs_only_the_hil_stage(flash_test, capsys):
    assert flash_test("--board", "mps2-an386", "--hil-only") == 0
    assert flash_test.commands.kinds() == ["hil"]
    out = capsys.readouterr().out
    assert "=== kernel unit tests" not in out and "=== tools tests" not in out
    assert "1 passed, 0 failed, 0 skipped (of 1 stages)" in out


def test_unit_only_runs_only_the_unit_stages(flash_test, capsys):
    assert flash_test("--board", "b-l475e-iot01a", "--unit-only") == 0
    assert flash_test.commands.kinds() == ["kernel", "rust", "tools"]
    rust = flash_test.commands.seen[1]             # the host-tested library crates
    assert rust[:8] == ["/usr/bin/cargo", "test", "-p", "runtime", "-p", "keyboard",
                        "-p", "usb_kbd"]
    assert flash_test.builds == []                 # no image is built for unit tests
    assert "=== HIL suite" not in capsys.readouterr().out


def test_pytest_arguments_after_dashes_reach_the_hil_pytest(flash_test):
    assert flash_test("--hil-only", "--", "-k", "crash", "-x") == 0
    hil, = flash_test.commands.seen
    assert hil[-3:] == ["-k", "crash", "-x"]


def test_pytest_arguments_reach_the_tools_pytest_with_unit_only(flash_test):
    assert flash_test("--unit-only", "--", "-k", "layout") == 0
    tools_cmd = flash_test.commands.seen[flash_test.commands.kinds().index("tools")]
    assert tools_cmd[-2:] == ["-k", "layout"]
    for other in flash_test.commands.seen:
        if other is not tools_cmd:
            assert "layout" not in other


def test_pytest_arguments_go_to_the_hil_suite_only_in_a_full_run(flash_test):
    assert flash_test("--", "-k", "crash") == 0
    kinds = flash_test.commands.kinds()
    assert "-k" in flash_test.commands.seen[kinds.index("hil")]
    assert "-k" not in flash_test.commands.seen[kinds.index("tools")]


def test_a_failing_stage_fails_the_run_and_the_rest_still_run(flash_test, capsys):
    assert flash_test("--board", "mps2-an386", rules=[(["tools/tests"], 1)]) == 1
    assert flash_test.commands.kinds() == ["kernel", "rust", "tools", "hil"]
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert any(l.startswith("FAILED   tools tests (Python)") and "pytest exit 1" in l
               for l in lines)
    assert "3 passed, 1 failed, 0 skipped (of 4 stages)" in lines
    assert captured.err == "error: 1 stage(s) failed: tools tests (Python)\n"


def test_a_failed_build_fails_the_hil_stage_without_running_pytest(flash_test, monkeypatch,
                                                                   capsys):
    import tools.build
    from tools.errors import ToolError

    def broken(self):
        raise ToolError("build step 'kernel' failed: make exit 2")
    monkeypatch.setattr(tools.build.Builder, "build_all", broken)
    assert flash_test("--hil-only") == 1
    assert flash_test.commands.seen == []
    assert "FAILED   HIL suite (pc twin)" in capsys.readouterr().out


def test_a_skipped_stage_is_not_counted_as_passed(flash_test, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(test_runner, "REPO", tmp_path)     # no kernel/tests, no userland
    assert flash_test("--unit-only") == 0
    assert flash_test.commands.kinds() == ["tools"]
    out = capsys.readouterr().out.splitlines()
    assert any(l.startswith("skipped  kernel unit tests (C)") for l in out)
    assert any(l.startswith("skipped  Rust unit tests (runtime, keyboard, usb_kbd)") for l in out)
    assert "1 passed, 0 failed, 2 skipped (of 3 stages)" in out


def test_dashes_without_test_are_refused(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["build", "--", "-k", "x"])
    assert e.value.code == 2
    assert "only with `test`" in capsys.readouterr().err
