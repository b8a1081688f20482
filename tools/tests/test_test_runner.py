"""flash.py test: the host stages run for every board, then the HIL suite."""

import argparse

from tools import test_runner
from tools.boards import load_board


def test_every_board_runs_host_stages_then_hil(monkeypatch, tmp_path, capsys):
    ran = []
    stages = [(name, (lambda n: (lambda ctx: ran.append((n, ctx["board"].name))
                                 or ("passed", "ok")))(name), kind)
              for name, _, kind in test_runner.STAGES]
    monkeypatch.setattr(test_runner, "STAGES", stages)
    args = argparse.Namespace(accel="auto", pytest_args=[], unit_only=False, hil_only=False)
    for board in ("pc", "mps2-an386", "b-l475e-iot01a"):
        ran.clear()
        assert test_runner.run_tests(load_board(board), tmp_path / board, [], args) == 0
        assert [n for n, _ in ran] == [s[0] for s in test_runner.STAGES]
    out = capsys.readouterr().out
    assert "HIL suite (b-l475e-iot01a twin)" in out and "=== summary ===" in out


def test_failed_stage_fails_the_run(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(test_runner, "STAGES", [("a", lambda ctx: ("FAILED", "exit 1"), "unit"),
                                                ("b", lambda ctx: ("passed", ""), "hil")])
    args = argparse.Namespace(accel="tcg", pytest_args=[], unit_only=False, hil_only=False)
    assert test_runner.run_tests(load_board("mps2-an386"), tmp_path, [], args) == 1
    assert "1 stage(s) failed: a" in capsys.readouterr().err
