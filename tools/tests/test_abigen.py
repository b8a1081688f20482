"""tools/abigen.py: kernel/abi.toml is the one statement of the ABI; the C
header and the Rust module are both generated from it, and both compilers
check the struct layouts it computes. These tests change a copy of the
description and look at what each compiler makes of the outputs."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import abigen

REPO = Path(__file__).resolve().parents[2]
GCC = shutil.which("gcc")
RUSTC = "/usr/bin/rustc" if Path("/usr/bin/rustc").exists() else shutil.which("rustc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc is not installed")
needs_rustc = pytest.mark.skipif(RUSTC is None, reason="rustc is not installed")

# The runtime's abi.rs, minus its doc comments: the Pod trait, then the
# generated module (as include!d there).
RUST_MAIN = """
#[allow(dead_code)]
mod abi {
    pub unsafe trait Pod: Copy + 'static {}
    include!("abi.rs");
}
fn main() {
    println!("{} {} {}", abi::KS_TIMER, core::mem::size_of::<abi::BootInfo>(),
             core::mem::offset_of!(abi::Msg, data));
}
"""
C_MAIN = """#include <stdio.h>
#include <stddef.h>
#include "abi.h"
int main(void) {
    printf("%d %zu %zu\\n", KS_TIMER, sizeof(struct nagi_bootinfo),
           offsetof(struct nagi_msg, data));
    return 0;
}
"""


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = abigen.DEFAULT_TOML.read_text()
    assert old in text, old
    path = tmp_path / "abi.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def compile_c(tmp_path: Path, header: str) -> subprocess.CompletedProcess:
    (tmp_path / "abi.h").write_text(header)
    (tmp_path / "main.c").write_text(C_MAIN)
    return subprocess.run([GCC, "-std=gnu11", "-Wall", "-Werror", "-o", str(tmp_path / "c.out"),
                           str(tmp_path / "main.c")], capture_output=True, text=True)


def compile_rust(tmp_path: Path, module: str) -> subprocess.CompletedProcess:
    (tmp_path / "abi.rs").write_text(module)
    (tmp_path / "main.rs").write_text(RUST_MAIN)
    return subprocess.run([RUSTC, "--edition=2021", "-o", str(tmp_path / "rs.out"),
                           str(tmp_path / "main.rs")], capture_output=True, text=True,
                          cwd=tmp_path)


def run(path: Path) -> str:
    return subprocess.run([str(path)], capture_output=True, text=True, check=True).stdout.strip()


def test_the_description_lays_out_the_known_structs():
    abi = abigen.load()
    assert abi.struct("nagi_msg").size == abi.const("MSG_SIZE").value == 256
    assert {f.name: f.offset for f in abi.struct("nagi_msg").fields}["data"] == 32
    assert abi.struct("ks_task_info").size == 64
    assert abi.struct("nagi_bootinfo").size == 80
    assert abi.struct("ks_create_task_req").size == 48
    assert abigen.msgbuf_bytes() == 512 + 80
    assert abi.const("IPC_CALL").value == 3 and abi.const("IPC_CALL").c == "(IPC_SEND | IPC_RECV)"


def test_no_hand_copy_of_the_abi_is_left():
    assert not (REPO / "kernel" / "abi.h").exists()
    rs = (REPO / "userland" / "runtime" / "src" / "abi.rs").read_text()
    assert "include!(env!(\"NAGI_ABI_RS\"))" in rs
    assert not re.search(r"pub const \w+", rs), "abi.rs defines constants by hand"


def both_outputs(tmp_path: Path, abi) -> tuple[str, str]:
    """What the C and the Rust program print, each built from its output."""
    c, rs = tmp_path / "c", tmp_path / "rs"
    c.mkdir(), rs.mkdir()
    r = compile_c(c, abigen.c_header(abi))
    assert r.returncode == 0, r.stderr
    r = compile_rust(rs, abigen.rust_module(abi))
    assert r.returncode == 0, r.stderr
    return run(c / "c.out"), run(rs / "rs.out")


@needs_gcc
@needs_rustc
def test_a_changed_constant_reaches_both_outputs(tmp_path):
    path = edited(tmp_path, 'KS_TIMER = ["0x0109"', 'KS_TIMER = ["0x0199"')
    assert both_outputs(tmp_path, abigen.load(path)) == ("409 80 32", "409 80 32")


@needs_gcc
@needs_rustc
def test_a_changed_struct_reaches_both_outputs(tmp_path):
    # A field more in the bootinfo: both compilers see the new size.
    path = edited(tmp_path, '    ["scratch", "u64",', '    ["extra", "u64", ""],\n    ["scratch", "u64",')
    assert both_outputs(tmp_path, abigen.load(path)) == ("265 88 32", "265 88 32")


@needs_gcc
def test_c_compiler_checks_every_size_and_offset(tmp_path):
    header = abigen.c_header(abigen.load())
    assert compile_c(tmp_path, header).returncode == 0
    wrong_size = header.replace("sizeof(struct nagi_bootinfo) == 80", "sizeof(struct nagi_bootinfo) == 72")
    wrong_offset = header.replace("offsetof(struct nagi_msg, arg) == 24", "offsetof(struct nagi_msg, arg) == 20")
    for bad in (wrong_size, wrong_offset):
        assert bad != header
        r = compile_c(tmp_path, bad)
        assert r.returncode != 0 and "static assertion failed" in r.stderr


@needs_rustc
def test_rust_compiler_checks_every_size_and_offset(tmp_path):
    module = abigen.rust_module(abigen.load())
    wrong_size = module.replace("size_of::<BootInfo>() == 80", "size_of::<BootInfo>() == 72")
    wrong_offset = module.replace("offset_of!(Msg, arg) == 24", "offset_of!(Msg, arg) == 20")
    for bad in (wrong_size, wrong_offset):
        assert bad != module
        r = compile_rust(tmp_path, bad)
        assert r.returncode != 0 and "error[E0080]" in r.stderr, r.stderr


@pytest.mark.parametrize("old,new,message", [
    # A stated size or offset the layout does not have.
    ('size = "MSG_SIZE"', 'size = 248', "struct nagi_msg: size is 256, expected 248"),
    ('["data", "u8[MSG_INLINE_MAX]", "", "MSG_HEADER_SIZE"]', '["data", "u8[MSG_INLINE_MAX]", "", "24"]',
     "struct nagi_msg field data: offset is 32, expected 24"),
    # Implicit padding (a u64 after one u32) is refused.
    ('    ["prio", "u32", "0 = highest .. NUM_PRIORITIES - 1 (else E_INVAL)"],\n', '',
     "struct ks_create_task_req field arg: at offset 4, not 8-aligned"),
    ('KS_TIMER = ["0x0109"', 'KS_TIMER = ["0x01zz"', "constant KS_TIMER: bad value '0x01zz'"),
    ('KS_TIMER = ["0x0109"', 'KS_TIMER = ["0x10109"', "constant KS_TIMER: 65801 does not fit u16"),
    ('IPC_CALL = ["IPC_SEND | IPC_RECV"', 'IPC_CALL = ["IPC_SEND | IPC_RECEIVE"',
     "constant IPC_CALL: 'IPC_RECEIVE' is not an earlier u64 constant"),
    ('    ["cid", "i32", ""],\n    ["ms", "u32", ""],', '    ["cid", "i33", ""],\n    ["ms", "u32", ""],',
     "struct ks_timer_req field cid: unknown type 'i33'"),
    ('"char[TASK_NAME_MAX]", "a file', '"char[NAME_MAX]", "a file',
     "struct ks_create_task_req field name: 'NAME_MAX' is not a number"),
    ('SYS_OPEN = [2, ', 'SYS_OPEN = [2.5, ', "constant SYS_OPEN: value must be an integer"),
    ('E_OK = [0, ""]', 'SYS_NOP = [0, ""]', "constant SYS_NOP: defined twice"),
    ('E_BUSY = [14, "resource already in use"]', 'E_BUSY = 14', "constant E_BUSY: expected [value"),
])
def test_a_bad_entry_is_one_error_line_naming_it(tmp_path, old, new, message):
    path = edited(tmp_path, old, new)
    with pytest.raises(abigen.AbiError) as e:
        abigen.load(path)
    assert message in str(e.value)
    r = subprocess.run([sys.executable, "-m", "tools.abigen", "--toml", str(path),
                        "--c", str(tmp_path / "abi.h")], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: abi: ") and message in r.stderr
    assert not (tmp_path / "abi.h").exists()


def test_a_toml_syntax_error_is_one_line(tmp_path):
    path = tmp_path / "abi.toml"
    path.write_text("[[section]]\ntitle = \"x\"\n[section.const]\nA = [1, \"x\"\n")
    r = subprocess.run([sys.executable, "-m", "tools.abigen", "--toml", str(path)],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "abi.toml" in r.stderr
    assert "Traceback" not in r.stderr


def test_doc_comments_are_carried_into_the_header():
    header = abigen.c_header(abigen.load())
    assert "GENERATED by tools/abigen.py from kernel/abi.toml" in header
    assert "* x86_64: `syscall` with the number in rax" in header
    assert re.search(r"#define E_PERM +11 +/\* the caller lacks the capability \*/", header)
    assert "uint64_t page;" in header and "send: page-aligned vaddr to move" in header
    module = abigen.rust_module(abigen.load())
    assert "/// the caller lacks the capability\npub const E_PERM: i64 = 11;" in module
