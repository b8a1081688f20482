"""setup_env.py - make this machine able to build and test Nagi.

Runs on the system python3 with the standard library only: checks the
Debian packages (installs them when root, else prints the apt command),
creates .venv/ with requirements.txt, and re-executes flash.py inside it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from .errors import ToolError
from .paths import REPO, VENV

# Packages from bookworm-backports (QEMU >= 9 for the Cortex-M twins).
BACKPORTS_PACKAGES = ["qemu-system-x86", "qemu-system-arm"]
# gcc-arm-none-eabi: the Cortex-M kernel; binutils-arm-none-eabi: its ld, readelf.
# console-setup-linux: the PSF font the pc kernel's screen console is generated from
# (tools/fontgen.py). iproute2, dnsmasq-base, iputils-ping, curl: the network kit (tools/netkit): its
# namespace and tap, the DHCP server in it, and the peers tests run there.
# libc6-dev: static glibc for the bench's Linux guest (/init is gcc -static).
# grub-pc-bin, grub-efi-amd64-bin, mtools: the pc's disk image (GRUB for BIOS
# and UEFI, the FAT ESP; tools/disk_image.py); ovmf: UEFI for its boot tests.
PACKAGES = ["rustc-web", "cargo-web", "rust-web-src", "lld", "gcc", "make", "python3-venv",
            "gcc-arm-none-eabi", "binutils-arm-none-eabi",
            "iproute2", "dnsmasq-base", "iputils-ping", "curl", "libc6-dev",
            "grub-pc-bin", "grub-efi-amd64-bin", "mtools", "ovmf", "console-setup-linux"]
# Installed without their recommends: grub-efi-amd64-bin recommends the signed
# GRUB and shim, whose scripts would try to install a boot loader on this host.
NO_RECOMMENDS = {"grub-pc-bin", "grub-efi-amd64-bin"}
BACKPORTS_SUITE = "bookworm-backports"
BACKPORTS_FILE = Path("/etc/apt/sources.list.d/backports.sources")
BACKPORTS_SOURCE = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
REEXEC_MARK = "NAGI_IN_VENV"


class Host:
    """The system calls set-up makes; tests replace them."""

    def installed(self, package: str) -> bool:
        try:
            out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                 capture_output=True, text=True)
        except OSError:
            return False
        return out.returncode == 0 and out.stdout.strip().endswith(" installed")

    def is_root(self) -> bool:
        return os.geteuid() == 0

    def has_backports_source(self) -> bool:
        for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]:
            if path.suffix not in (".list", ".sources") and path.name != "sources.list":
                continue
            try:
                if BACKPORTS_SUITE in path.read_text():
                    return True
            except OSError:
                continue
        return False

    def add_backports_source(self) -> None:
        BACKPORTS_FILE.write_text(BACKPORTS_SOURCE)

    def run(self, cmd: list[str], env: dict | None = None) -> int:
        print("+ " + " ".join(cmd), flush=True)
        return subprocess.run(cmd, env=env).returncode


def apt_commands(missing_backports: list[str], missing: list[str]) -> list[list[str]]:
    cmds = []
    if missing_backports:
        cmds.append(["apt-get", "install", "-y", "-t", BACKPORTS_SUITE, *missing_backports])
    plain = [p for p in missing if p not in NO_RECOMMENDS]
    bare = [p for p in missing if p in NO_RECOMMENDS]
    if plain:
        cmds.append(["apt-get", "install", "-y", *plain])
    if bare:
        cmds.append(["apt-get", "install", "-y", "--no-install-recommends", *bare])
    return cmds


def ensure_packages(host: Host | None = None) -> None:
    host = host or Host()
    missing_bp = [p for p in BACKPORTS_PACKAGES if not host.installed(p)]
    missing = [p for p in PACKAGES if not host.installed(p)]
    if not missing_bp and not missing:
        return
    cmds = apt_commands(missing_bp, missing)
    if not host.is_root():
        shown = " && ".join("sudo " + " ".join(c) for c in cmds)
        extra = "" if not missing_bp or host.has_backports_source() else \
            f" (after adding {BACKPORTS_SUITE} to /etc/apt/sources.list.d/)"
        raise ToolError(f"missing packages {' '.join(missing_bp + missing)}; run: {shown}{extra}")
    print(f"Installing missing packages: {' '.join(missing_bp + missing)}")
    if missing_bp and not host.has_backports_source():
        print(f"Adding {BACKPORTS_SUITE} to {BACKPORTS_FILE}")
        host.add_backports_source()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if host.run(["apt-get", "update"], env) != 0:
        raise ToolError("apt-get update failed")
    for cmd in cmds:
        if host.run(cmd, env) != 0:
            raise ToolError(f"'{' '.join(cmd)}' failed")


def requirements_stamp(req: Path) -> str:
    return hashlib.sha256(req.read_bytes()).hexdigest()


def ensure_venv(venv: Path = VENV, req: Path = REPO / "requirements.txt") -> Path:
    """Create .venv and install requirements.txt when it changed."""
    python = venv / "bin" / "python"
    stamp = venv / ".requirements.sha256"
    want = requirements_stamp(req)
    if python.exists() and stamp.is_file() and stamp.read_text().strip() == want:
        return python
    if not python.exists():
        print(f"Creating virtualenv {venv}")
        if subprocess.run([sys.executable, "-m", "venv", str(venv)]).returncode != 0:
            raise ToolError(f"cannot create the virtualenv {venv} (is python3-venv installed?)")
    print(f"Installing {req.name} into {venv}")
    rc = subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                         "-q", "-r", str(req)]).returncode
    if rc != 0:
        raise ToolError(f"pip install -r {req.name} failed")
    stamp.write_text(want + "\n")
    return python


def in_venv(venv: Path = VENV) -> bool:
    return Path(sys.prefix).resolve() == venv.resolve()


def ensure_environment(argv: list[str], entry: Path) -> None:
    """Set up what is missing, then re-exec `entry argv` inside .venv
    (returns only when already running inside it)."""
    if in_venv() and os.environ.get(REEXEC_MARK):
        return
    ensure_packages()
    python = ensure_venv()
    if in_venv():
        return
    env = dict(os.environ, **{REEXEC_MARK: "1"})
    sys.stdout.flush()
    os.execve(str(python), [str(python), str(entry), *argv], env)
