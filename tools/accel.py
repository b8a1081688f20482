"""accel.py - choose QEMU's accelerator: KVM only when it is hardware-backed.

On some hosts /dev/kvm is a software hypervisor for nested guests (the
kvm_pvm module): slower than TCG and unable to run every guest. So `auto`
picks KVM only when /dev/kvm exists, kvm_intel or kvm_amd is loaded, and a
test boot under KVM works; otherwise TCG. Every decision carries a reason
the tools print."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import ToolError

HW_MODULES = ("kvm_intel", "kvm_amd")


@dataclass(frozen=True)
class Accel:
    name: str     # "tcg" or "kvm"
    reason: str
    hardware: bool = False   # KVM backed by kvm_intel/kvm_amd (cycle counts mean something)

    def describe(self) -> str:
        return f"accelerator: {self.name} ({self.reason})"


class KvmProbe:
    """The host facts the choice depends on; tests fake the roots or
    replace test_boot()."""

    def __init__(self, root: Path = Path("/"), qemu_binary: str = "qemu-system-x86_64"):
        self.root = root
        self.qemu_binary = qemu_binary

    def has_dev_kvm(self) -> bool:
        return (self.root / "dev" / "kvm").exists()

    def loaded_modules(self) -> list[str]:
        mods = self.root / "sys" / "module"
        return [m for m in HW_MODULES + ("kvm_pvm", "kvm") if (mods / m).exists()]

    def test_boot(self) -> tuple[bool, str]:
        """Start QEMU paused under KVM and quit it over QMP on stdin."""
        cmd = [self.qemu_binary, "-accel", "kvm", "-M", "q35", "-cpu", "host,-arch-capabilities",
               "-display", "none", "-nodefaults", "-S", "-qmp", "stdio"]
        try:
            p = subprocess.run(cmd, input='{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
                               capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, str(e)
        if p.returncode != 0:
            msg = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
            return False, msg
        return True, "ok"


def choose_accel(requested: str, probe: KvmProbe | None = None) -> Accel:
    """requested: 'auto', 'tcg' or 'kvm'."""
    probe = probe or KvmProbe()
    if requested == "tcg":
        return Accel("tcg", "requested with --accel tcg")
    if requested == "kvm":
        if not probe.has_dev_kvm():
            raise ToolError("--accel kvm: /dev/kvm does not exist on this host", status=2)
        mods = probe.loaded_modules()
        if not any(m in HW_MODULES for m in mods):
            return Accel("kvm", "requested with --accel kvm; warning: no kvm_intel/kvm_amd "
                                "module, this KVM is not hardware-backed and may be slow")
        return Accel("kvm", "requested with --accel kvm", hardware=True)
    if requested != "auto":
        raise ToolError(f"unknown accelerator '{requested}'; use auto, tcg or kvm", status=2)

    if not probe.has_dev_kvm():
        return Accel("tcg", "no /dev/kvm")
    mods = probe.loaded_modules()
    hw = [m for m in mods if m in HW_MODULES]
    if not hw:
        others = ", ".join(m for m in mods if m != "kvm") or "none"
        return Accel("tcg", f"/dev/kvm is not hardware-backed: kvm_intel/kvm_amd not loaded "
                            f"(other KVM modules: {others})")
    ok, detail = probe.test_boot()
    if not ok:
        return Accel("tcg", f"{hw[0]} is loaded but a KVM test boot failed: {detail}")
    return Accel("kvm", f"hardware-backed KVM ({hw[0]}) and a test boot worked", hardware=True)
