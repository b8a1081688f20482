"""tools/buildlock.py: one flash.py per build directory."""

import os
import subprocess
import sys

import pytest

from tools.buildlock import ENV, BuildLock
from tools.errors import ToolError
from tools.paths import REPO


def test_a_second_holder_is_refused_in_one_line_naming_the_first(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with BuildLock(tmp_path, "test"):
        # Another process (no inherited NAGI_BUILD_LOCKS) is refused.
        code = ("import sys; sys.path.insert(0, sys.argv[2]);"
                "from tools.buildlock import BuildLock; from tools.errors import ToolError\n"
                "try:\n    BuildLock(sys.argv[1], 'bench').acquire()\n"
                "except ToolError as e:\n    print(e)\n")
        env = {k: v for k, v in os.environ.items() if k != ENV}
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(REPO)],
                             capture_output=True, text=True, env=env).stdout
        assert out == (f"{tmp_path} is in use by flash.py test (pid {os.getpid()}); wait for it "
                       f"to finish (or build elsewhere: a --set override gets its own directory)\n")
    # Released: the next one gets it.
    with BuildLock(tmp_path, "bench"):
        pass
    assert ENV not in os.environ


def test_a_flash_py_started_by_the_holder_goes_on(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with BuildLock(tmp_path, "test"):
        assert str((tmp_path / ".flash.lock").resolve()) in os.environ[ENV]
        with BuildLock(tmp_path, "build"):        # nested: the same run
            pass


def test_flash_py_build_refuses_a_busy_build_directory(tmp_path, monkeypatch):
    """The real command: `flash.py build` while a lock is held on its
    directory stops before building, with the one line and status 1."""
    from tools.paths import build_dir
    monkeypatch.delenv(ENV, raising=False)
    build = build_dir("pc", ["NAGI_LOCK_TEST=1"])
    with BuildLock(build, "test"):
        env = {k: v for k, v in os.environ.items() if k != ENV}
        p = subprocess.run([sys.executable, str(REPO / "flash.py"), "--set", "NAGI_LOCK_TEST=1",
                            "build"], capture_output=True, text=True, cwd=REPO, env=env,
                           timeout=120)
    import shutil
    shutil.rmtree(build, ignore_errors=True)
    assert p.returncode == 1
    assert p.stderr.startswith(f"error: {build} is in use by flash.py test (pid ")
    assert "Building" not in p.stdout
