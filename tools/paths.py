"""paths.py - where things live in the repository and under build/."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BOARD_ROOT = REPO / "board"
BUILD_ROOT = REPO / "build"
VENV = REPO / ".venv"


def build_dir(board: str, overrides: list[str] | None = None, root: Path = BUILD_ROOT) -> Path:
    """build/<board>, or build/<board>-<hash> when --set overrides are given,
    so an override build never clobbers the default one."""
    if not overrides:
        return root / board
    key = "\n".join(sorted(overrides)).encode()
    return root / f"{board}-{hashlib.sha1(key).hexdigest()[:8]}"


def write_if_changed(path: Path, content: str | bytes) -> bool:
    """Write `content` to `path` unless it already holds exactly that (the
    write is atomic: a temporary file renamed over it). Returns True when
    the file was (re)written, so steps can say `up to date` otherwise."""
    data = content.encode() if isinstance(content, str) else content
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # One temporary name per process: two builds regenerating the same
    # shared file (build/Kconfig.board-defaults) must not rename each
    # other's half-written copy.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True
