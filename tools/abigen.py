"""abigen.py - the ABI, written once in kernel/abi.toml, as the C header the
kernel includes and the Rust module the runtime includes.

    python3 -m tools.abigen [--toml kernel/abi.toml] [--c OUT.h] [--rust OUT.rs]

The description's format is stated at the top of kernel/abi.toml. Every
struct's size and field offsets are computed here with C's natural
alignment (a field at a multiple of its size; implicit padding is refused,
so every C ABI agrees) and emitted as assertions for both compilers:
`_Static_assert(sizeof/offsetof ...)` in C, `const _: () = assert!(...)`
in Rust. A malformed description is an AbiError naming the entry, which
the command prints as one `error:` line. Outputs are written only when they
change (tools/paths.write_if_changed), so builds stay incremental."""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ToolError
from .paths import REPO, write_if_changed

DEFAULT_TOML = REPO / "kernel" / "abi.toml"

# type: (size, C spelling, Rust spelling)
SCALARS = {
    "u8": (1, "uint8_t", "u8"), "u16": (2, "uint16_t", "u16"),
    "u32": (4, "uint32_t", "u32"), "u64": (8, "uint64_t", "u64"),
    "i8": (1, "int8_t", "i8"), "i16": (2, "int16_t", "i16"),
    "i32": (4, "int32_t", "i32"), "i64": (8, "int64_t", "i64"),
    "char": (1, "char", "u8"),
}
CONST_TYPES = {"u8", "u16", "u32", "u64", "i32", "i64", "usize", "str"}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
ARRAY = re.compile(r"(\w+)\[(\w+)\]\Z")


class AbiError(ToolError):
    """A malformed description: one line naming the bad entry."""


@dataclass
class Const:
    name: str
    value: int | str      # str only for type "str"
    c: str                # the value as C spells it
    rust: str             # ... and Rust
    type: str
    doc: str


@dataclass
class Field:
    name: str
    type: str             # scalar name
    count: int | None     # array length, or None
    count_text: str | None
    doc: str
    offset: int = 0
    expect: str | None = None

    @property
    def size(self) -> int:
        return SCALARS[self.type][0] * (self.count or 1)


@dataclass
class Struct:
    name: str
    rust: str
    doc: str
    derive: list[str]
    fields: list[Field]
    size: int = 0


@dataclass
class Section:
    title: str
    doc: str
    consts: list[Const] = field(default_factory=list)
    structs: list[Struct] = field(default_factory=list)


@dataclass
class Abi:
    title: str
    doc: str
    sections: list[Section]

    def struct(self, name: str) -> Struct:
        for s in self.sections:
            for st in s.structs:
                if st.name == name:
                    return st
        raise AbiError(f"abi: no struct '{name}'")

    def const(self, name: str) -> Const:
        for s in self.sections:
            for c in s.consts:
                if c.name == name:
                    return c
        raise AbiError(f"abi: no constant '{name}'")


# -- reading and checking -------------------------------------------------
def load(path: Path = DEFAULT_TOML) -> Abi:
    """Parse and check the description at `path` (AbiError: one line)."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as e:
        raise AbiError(f"abi: cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise AbiError(f"abi: {Path(path).name}: {e}") from None
    return parse(data)


def parse(data: dict) -> Abi:
    consts: dict[str, Const] = {}
    names: set[str] = set()
    sections = []
    for i, sec in enumerate(_list(data, "section", "top level")):
        where = f"section {i + 1}"
        if not isinstance(sec, dict):
            raise AbiError(f"abi: {where}: not a table")
        title = _str(sec, "title", where)
        where = f"section '{title}'"
        s = Section(title, _str(sec, "doc", where, ""))
        default = _str(sec, "type", where, "u64")
        if default not in CONST_TYPES:
            raise AbiError(f"abi: {where}: unknown type '{default}'")
        raw = sec.get("const", {})
        if not isinstance(raw, dict):
            raise AbiError(f"abi: {where}: 'const' must be a table")
        for name, entry in raw.items():
            c = _const(name, entry, default, consts)
            if name in names:
                raise AbiError(f"abi: constant {name}: defined twice")
            names.add(name)
            consts[name] = c
            s.consts.append(c)
        for st in _list(sec, "struct", where):
            s.structs.append(_struct(st, consts, names))
        sections.append(s)
    if not sections:
        raise AbiError("abi: no [[section]] entries")
    return Abi(data.get("title", "abi.h"), data.get("doc", ""), sections)


def _list(d: dict, key: str, where: str) -> list:
    v = d.get(key, [])
    if not isinstance(v, list):
        raise AbiError(f"abi: {where}: '{key}' must be an array of tables ([[{key}]])")
    return v


def _str(d: dict, key: str, where: str, default: str | None = None) -> str:
    v = d.get(key, default)
    if not isinstance(v, str):
        raise AbiError(f"abi: {where}: '{key}' must be a string")
    return v.strip("\n")


def _const(name: str, entry, default: str, consts: dict[str, Const]) -> Const:
    where = f"constant {name}"
    if not NAME.match(name):
        raise AbiError(f"abi: {where}: not a C identifier")
    if not isinstance(entry, list) or len(entry) not in (2, 3) or \
            not all(isinstance(x, str) for x in entry[1:]):
        raise AbiError(f"abi: {where}: expected [value, \"comment\"] or "
                       f"[value, \"comment\", \"type\"]")
    value, doc = entry[0], entry[1]
    ctype = entry[2] if len(entry) == 3 else default
    if ctype not in CONST_TYPES:
        raise AbiError(f"abi: {where}: unknown type '{ctype}'")
    if ctype == "str":
        if not isinstance(value, str) or not value.isprintable() or '"' in value or "\\" in value:
            raise AbiError(f"abi: {where}: a str constant needs plain printable text")
        return Const(name, value, f'"{value}"', f'b"{value}"', ctype, doc)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise AbiError(f"abi: {where}: value must be an integer or a string")
    if isinstance(value, int):
        _fits(where, value, ctype)
        return Const(name, value, str(value), str(value), ctype, doc)
    text = value.strip()
    if "|" in text:
        parts = [p.strip() for p in text.split("|")]
        total = 0
        for p in parts:
            ref = consts.get(p)
            if ref is None or ref.type != ctype:
                raise AbiError(f"abi: {where}: '{p}' is not an earlier {ctype} constant")
            total |= ref.value
        return Const(name, total, "(" + " | ".join(parts) + ")", " | ".join(parts), ctype, doc)
    try:
        number = int(text, 0)
    except ValueError:
        raise AbiError(f"abi: {where}: bad value '{value}' (an integer literal or A | B)") from None
    _fits(where, number, ctype)
    return Const(name, number, text, text, ctype, doc)


def _fits(where: str, value: int, ctype: str) -> None:
    bits = {"u8": 8, "u16": 16, "u32": 32, "u64": 64, "usize": 32, "i32": 31, "i64": 63}[ctype]
    low = -(1 << bits) if ctype.startswith("i") else 0
    if not low <= value < (1 << bits):
        raise AbiError(f"abi: {where}: {value} does not fit {ctype}")


def _struct(st, consts: dict[str, Const], names: set[str]) -> Struct:
    if not isinstance(st, dict):
        raise AbiError("abi: a [[section.struct]] entry is not a table")
    name = st.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise AbiError(f"abi: struct {name!r}: 'name' must be a C identifier")
    where = f"struct {name}"
    rust = st.get("rust", "".join(p.title() for p in name.split("_")))
    if not isinstance(rust, str) or not NAME.match(rust):
        raise AbiError(f"abi: {where}: 'rust' must be an identifier")
    if name in names or rust in names:
        raise AbiError(f"abi: {where}: defined twice")
    names.update((name, rust))
    derive = st.get("derive", ["Clone", "Copy", "Debug", "PartialEq", "Eq"])
    if not isinstance(derive, list) or not all(isinstance(d, str) and NAME.match(d) for d in derive):
        raise AbiError(f"abi: {where}: 'derive' must be a list of trait names")
    raw = st.get("fields")
    if not isinstance(raw, list) or not raw:
        raise AbiError(f"abi: {where}: 'fields' must be a non-empty list")
    fields, offset, align, seen = [], 0, 1, set()
    for f in raw:
        if not isinstance(f, list) or len(f) not in (3, 4) or \
                not all(isinstance(x, str) for x in f):
            raise AbiError(f"abi: {where}: field {f!r}: expected [name, type, \"comment\"]")
        fname, ftype = f[0], f[1]
        fwhere = f"{where} field {fname}"
        if not NAME.match(fname) or fname in seen:
            raise AbiError(f"abi: {fwhere}: bad or repeated name")
        seen.add(fname)
        count = count_text = None
        m = ARRAY.match(ftype)
        if m:
            ftype, count_text = m.group(1), m.group(2)
            count = _count(fwhere, count_text, consts)
        if ftype not in SCALARS:
            raise AbiError(f"abi: {fwhere}: unknown type '{f[1]}'")
        fld = Field(fname, ftype, count, count_text, f[2], expect=f[3] if len(f) == 4 else None)
        falign = SCALARS[ftype][0]
        if offset % falign:
            raise AbiError(f"abi: {fwhere}: at offset {offset}, not {falign}-aligned "
                           f"(add explicit padding)")
        fld.offset = offset
        if fld.expect is not None and _count(fwhere, fld.expect, consts) != offset:
            raise AbiError(f"abi: {fwhere}: offset is {offset}, expected {fld.expect}")
        offset += fld.size
        align = max(align, falign)
        fields.append(fld)
    if offset % align:
        raise AbiError(f"abi: {where}: size {offset} is not a multiple of its alignment "
                       f"{align} (add explicit padding)")
    s = Struct(name, rust, _str(st, "doc", where, ""), derive, fields, offset)
    if "size" in st:
        want = st["size"]
        expected = _count(where, want, consts) if isinstance(want, str) else want
        if expected != offset:
            raise AbiError(f"abi: {where}: size is {offset}, expected {want}")
    return s


def _count(where: str, text, consts: dict[str, Const]) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, str) and text.isdigit():
        return int(text)
    c = consts.get(text) if isinstance(text, str) else None
    if c is None or c.type != "usize":
        raise AbiError(f"abi: {where}: '{text}' is not a number or an earlier usize constant")
    return c.value


# -- C ---------------------------------------------------------------------
def _c_comment(text: str, indent: str = "") -> list[str]:
    """A block comment of `text`, its lines kept (wrapped at 76 columns)."""
    lines = []
    for para in text.splitlines() or [""]:
        lines += textwrap.wrap(para, 74 - len(indent), subsequent_indent=_lead(para)) or [""]
    if len(lines) == 1:
        return [f"{indent}/* {lines[0]} */"]
    return [f"{indent}/*"] + [f"{indent} * {l}".rstrip() for l in lines] + [f"{indent} */"]


def _lead(para: str) -> str:
    return " " * (len(para) - len(para.lstrip()))


def _c_trailing(code: str, doc: str, column: int = 24) -> list[str]:
    """`code` with `doc` as a trailing comment, continued under it."""
    if not doc:
        return [code]
    pad = max(column, len(code) + 1)
    width = max(79 - pad - 6, 30)
    parts = textwrap.wrap(doc, width)
    out = [f"{code.ljust(pad)}/* {parts[0]}" + (" */" if len(parts) == 1 else "")]
    for i, p in enumerate(parts[1:], 1):
        out.append(" " * (pad + 3) + p + (" */" if i == len(parts) - 1 else ""))
    return out


def c_header(abi: Abi, source: str = "kernel/abi.toml") -> str:
    out = [f"/* GENERATED by tools/abigen.py from {source}: edit that file, not this one. */",
           "/*", f" * {abi.title}", " *"]
    out += [f" * {l}".rstrip() for l in abi.doc.strip("\n").splitlines()]
    out += [" */", "#ifndef NAGI_ABI_H", "#define NAGI_ABI_H", "",
            "#ifndef __ASSEMBLER__", "#include <stdint.h>", "#endif", ""]
    for s in abi.sections:
        banner = f"/* --- {s.title} " + "-" * max(3, 70 - len(s.title))
        if s.doc:
            out.append(banner)
            out += [f" * {l}".rstrip() for l in s.doc.strip("\n").splitlines()]
            out[-1] += " */"
        else:
            out.append(banner + " */")
        for c in s.consts:
            out += _c_trailing(f"#define {c.name.ljust(15)} {c.c}", c.doc, 28)
        for st in s.structs:
            out.append("")
            out += _c_struct(st)
        out.append("")
    out += ["#endif /* NAGI_ABI_H */", ""]
    return "\n".join(out)


def _c_struct(st: Struct) -> list[str]:
    out = (_c_comment(st.doc) if st.doc else []) + ["#ifndef __ASSEMBLER__", f"struct {st.name} {{"]
    for f in st.fields:
        decl = f"    {SCALARS[f.type][1]} {f.name}" + (f"[{f.count_text}]" if f.count else "") + ";"
        out += _c_trailing(decl, f.doc, 32)
    out.append("};")
    out.append(f"_Static_assert(sizeof(struct {st.name}) == {st.size}, "
               f"\"struct {st.name}: size\");")
    for f in st.fields:
        out.append(f"_Static_assert(__builtin_offsetof(struct {st.name}, {f.name}) == {f.offset}, "
                   f"\"struct {st.name}: {f.name}\");")
    out.append("#endif")
    return out


# -- Rust --------------------------------------------------------------------
def rust_module(abi: Abi, source: str = "kernel/abi.toml") -> str:
    out = [f"// GENERATED by tools/abigen.py from {source}: edit that file, not this one.",
           "// Included by userland/runtime/src/abi.rs.", ""]
    for s in abi.sections:
        out.append(f"// --- {s.title} " + "-" * max(3, 70 - len(s.title)))
        out += [f"// {l}".rstrip() for l in s.doc.strip("\n").splitlines()]
        for c in s.consts:
            out += [f"/// {l}" for l in textwrap.wrap(c.doc, 76)]
            if c.type == "str":
                out.append(f"pub const {c.name}: &[u8; {len(c.value)}] = {c.rust};")
            else:
                out.append(f"pub const {c.name}: {c.type} = {c.rust};")
        for st in s.structs:
            out.append("")
            out += _rust_struct(abi, st)
        out.append("")
    return "\n".join(out)


def _rust_struct(abi: Abi, st: Struct) -> list[str]:
    out = [f"/// `struct {st.name}`" + (": " if st.doc else ".")]
    if st.doc:
        out[0] += st.doc.splitlines()[0]
        out += [f"/// {l}" for l in st.doc.splitlines()[1:]]
    out += ["#[repr(C)]"]
    if st.derive:
        out.append(f"#[derive({', '.join(st.derive)})]")
    out.append(f"pub struct {st.rust} {{")
    for f in st.fields:
        if f.doc:
            out.append(f"    /// {f.doc}")
        t = SCALARS[f.type][2]
        if f.count:
            n = f.count_text
            if not n.isdigit() and abi.const(n).type != "usize":
                n = f"{n} as usize"
            t = f"[{t}; {n}]"
        out.append(f"    pub {f.name}: {t},")
    out.append("}")
    checks = [f"core::mem::size_of::<{st.rust}>() == {st.size}"]
    checks += [f"core::mem::offset_of!({st.rust}, {f.name}) == {f.offset}" for f in st.fields]
    out.append("const _: () = assert!(")
    out += [f"    {c}" + (" &&" if i < len(checks) - 1 else "") for i, c in enumerate(checks)]
    out.append(");")
    out.append("// SAFETY: integer and byte-array fields only, with no padding (abigen")
    out.append("// refuses implicit padding): every byte pattern is a valid value.")
    out.append(f"unsafe impl Pod for {st.rust} {{}}")
    return out


# -- build helpers -------------------------------------------------------------
def msgbuf_bytes(path: Path = DEFAULT_TOML) -> int:
    """Bytes a task's message buffer takes with the bootinfo behind it
    (BOOTINFO_OFFSET + sizeof(struct nagi_bootinfo), 8-aligned): what
    tools/layout.py reserves on MPU boards."""
    abi = load(path)
    n = abi.const("BOOTINFO_OFFSET").value + abi.struct("nagi_bootinfo").size
    return (n + 7) & ~7


def generate_rust(out: Path, path: Path = DEFAULT_TOML) -> bool:
    """Write the Rust module to `out` unless it already holds it (so cargo
    does not rebuild the runtime for nothing). True when written."""
    return write_if_changed(out, rust_module(load(path)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m tools.abigen", description=__doc__.split("\n")[0])
    ap.add_argument("--toml", type=Path, default=DEFAULT_TOML)
    ap.add_argument("--c", type=Path, help="write the C header here")
    ap.add_argument("--rust", type=Path, help="write the Rust module here")
    args = ap.parse_args(argv)
    # The C header is always rewritten: make asked for it because the
    # description is newer, and a fresh mtime keeps make from asking again.
    try:
        abi = load(args.toml)
        if args.c:
            args.c.parent.mkdir(parents=True, exist_ok=True)
            args.c.write_text(c_header(abi))
        if args.rust:
            write_if_changed(args.rust, rust_module(abi))
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
