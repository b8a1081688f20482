"""paths.py - where things live in the repository and under build/."""

from __future__ import annotations

import hashlib
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
