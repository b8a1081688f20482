"""kernel/abi.h and userland/runtime/src/abi.rs must agree: every
`#define NAME <int>` of the header that abi.rs also defines as
`pub const NAME` has the same value there."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ABI_H = REPO / "kernel" / "abi.h"
ABI_RS = REPO / "userland" / "runtime" / "src" / "abi.rs"


def c_int(text: str) -> int | None:
    text = text.strip()
    m = re.fullmatch(r"\(?\s*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*\)?", text)
    return int(m.group(1), 0) if m else None


def c_defines(src: str) -> dict[str, int]:
    out = {}
    for m in re.finditer(r"^\s*#\s*define\s+(\w+)\s+([^/\n]+?)\s*(?:/[*/].*)?$", src, re.M):
        value = c_int(m.group(2))
        if value is not None:
            out[m.group(1)] = value
    return out


def rust_consts(src: str) -> dict[str, int]:
    out = {}
    for m in re.finditer(r"^\s*pub\s+const\s+(\w+)\s*:\s*[\w:]+\s*=\s*([^;]+);", src, re.M):
        raw = m.group(2).strip().replace("_", "")
        raw = re.sub(r"(u8|u16|u32|u64|usize|i8|i16|i32|i64|isize)$", "", raw)
        try:
            out[m.group(1)] = int(raw, 0)
        except ValueError:
            pass          # an expression, e.g. IPC_SEND | IPC_RECV: checked via its parts
    return out


def test_parsers():
    assert c_defines("#define A 0x10 /* x */\n#define B (1)\n#define C \"s\"\n") == {"A": 16, "B": 1}
    assert rust_consts("pub const A: u64 = 0x1_0;\npub const B: i64 = A | 1;\n") == {"A": 16}


def test_abi_rs_matches_abi_h():
    if not ABI_RS.exists():
        pytest.skip(f"{ABI_RS.relative_to(REPO)} does not exist yet")
    c = c_defines(ABI_H.read_text())
    rs = rust_consts(ABI_RS.read_text())
    common = sorted(set(c) & set(rs))
    assert len(common) >= 20, f"only {len(common)} shared constants: is abi.rs parsed right?"
    diffs = [f"{n}: abi.h {c[n]:#x} vs abi.rs {rs[n]:#x}" for n in common if c[n] != rs[n]]
    assert not diffs, "; ".join(diffs)
