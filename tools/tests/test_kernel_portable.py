"""The portable kernel names no architecture: kernel/ includes arch.h and
nothing else from arch/, and has no #if/#ifdef on an architecture name
(features such as ARCH_HAS_PAGING are what it may test)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARCH_NAMES = re.compile(r"x86|amd64|i386|arm|cortex|thumb|riscv|aarch64", re.I)
CONDITIONAL = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif)\b(.*)$")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def kernel_sources():
    return sorted(p for p in (REPO / "kernel").glob("*.[chS]"))


def test_there_are_kernel_sources():
    assert len(kernel_sources()) > 10


def test_no_conditional_on_an_architecture_name():
    bad = []
    for path in kernel_sources():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = CONDITIONAL.match(line)
            if m and ARCH_NAMES.search(m.group(2)):
                bad.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not bad, "architecture conditionals in kernel/:\n" + "\n".join(bad)


def test_only_arch_h_from_arch():
    bad = []
    for path in kernel_sources():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if m and (m.group(1).startswith("arch/") or m.group(1) == "arch_impl.h"):
                bad.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not bad, "kernel/ includes arch internals:\n" + "\n".join(bad)


def test_the_checks_would_catch_a_violation():
    assert CONDITIONAL.match("#ifdef CONFIG_ARCH_X86_64") and ARCH_NAMES.search("CONFIG_ARCH_X86_64")
    assert CONDITIONAL.match("#if defined(__arm__)") and ARCH_NAMES.search("defined(__arm__)")
    assert not ARCH_NAMES.search(" ARCH_HAS_PAGING")
