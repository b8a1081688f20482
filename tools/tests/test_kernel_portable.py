"""The portable kernel names no architecture: kernel/ (and the abi.h
generated from kernel/abi.toml) includes arch.h and nothing else from
arch/, and has no #if/#ifdef on an architecture name (features such as
ARCH_HAS_PAGING are what it may test)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARCH_NAMES = re.compile(r"x86|amd64|i386|arm|cortex|thumb|riscv|aarch64", re.I)
CONDITIONAL = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif)\b(.*)$")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def kernel_sources():
    return sorted(p for p in (REPO / "kernel").glob("*.[chS]"))


def kernel_texts():
    """(name, text) of every kernel source and of the ABI header that
    tools/abigen.py generates from kernel/abi.toml for it."""
    from tools import abigen
    yield "abi.h (generated from kernel/abi.toml)", abigen.c_header(abigen.load())
    for path in kernel_sources():
        yield str(path.relative_to(REPO)), path.read_text()


def test_there_are_kernel_sources():
    assert len(kernel_sources()) > 10


def test_no_conditional_on_an_architecture_name():
    bad = []
    for name, text in kernel_texts():
        for n, line in enumerate(text.splitlines(), 1):
            m = CONDITIONAL.match(line)
            if m and ARCH_NAMES.search(m.group(2)):
                bad.append(f"{name}:{n}: {line.strip()}")
    assert not bad, "architecture conditionals in kernel/:\n" + "\n".join(bad)


def test_only_arch_h_from_arch():
    bad = []
    for name, text in kernel_texts():
        for n, line in enumerate(text.splitlines(), 1):
            m = INCLUDE.match(line)
            if m and (m.group(1).startswith("arch/") or m.group(1) == "arch_impl.h"):
                bad.append(f"{name}:{n}: {line.strip()}")
    assert not bad, "kernel/ includes arch internals:\n" + "\n".join(bad)


def test_the_checks_would_catch_a_violation():
    assert CONDITIONAL.match("#ifdef CONFIG_ARCH_X86_64") and ARCH_NAMES.search("CONFIG_ARCH_X86_64")
    assert CONDITIONAL.match("#if defined(__arm__)") and ARCH_NAMES.search("defined(__arm__)")
    assert not ARCH_NAMES.search(" ARCH_HAS_PAGING")
