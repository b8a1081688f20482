"""Accelerator choice with /dev and /sys faked under a temporary root."""

import pytest

from tools.accel import KvmProbe, choose_accel
from tools.errors import ToolError


def fake_root(tmp_path, dev_kvm=True, modules=()):
    (tmp_path / "dev").mkdir()
    if dev_kvm:
        (tmp_path / "dev" / "kvm").touch()
    for m in modules:
        (tmp_path / "sys" / "module" / m).mkdir(parents=True)
    return tmp_path


class Probe(KvmProbe):
    def __init__(self, root, boots=True):
        super().__init__(root)
        self.boots = boots
        self.booted = 0

    def test_boot(self):
        self.booted += 1
        return (True, "ok") if self.boots else (False, "KVM_CREATE_VM failed")


def test_no_dev_kvm_means_tcg(tmp_path):
    a = choose_accel("auto", Probe(fake_root(tmp_path, dev_kvm=False)))
    assert (a.name, a.reason) == ("tcg", "no /dev/kvm")


def test_software_kvm_means_tcg(tmp_path):
    probe = Probe(fake_root(tmp_path, modules=["kvm", "kvm_pvm"]))
    a = choose_accel("auto", probe)
    assert a.name == "tcg" and "kvm_pvm" in a.reason and "not hardware-backed" in a.reason
    assert probe.booted == 0, "no test boot without a hardware module"


@pytest.mark.parametrize("module", ["kvm_intel", "kvm_amd"])
def test_hardware_kvm_with_working_boot(tmp_path, module):
    a = choose_accel("auto", Probe(fake_root(tmp_path, modules=["kvm", module])))
    assert a.name == "kvm" and a.hardware and module in a.reason


def test_hardware_kvm_failing_boot_falls_back(tmp_path):
    a = choose_accel("auto", Probe(fake_root(tmp_path, modules=["kvm_intel"]), boots=False))
    assert a.name == "tcg" and "KVM_CREATE_VM failed" in a.reason


def test_explicit_choices(tmp_path):
    root = fake_root(tmp_path, modules=["kvm_pvm"])
    assert choose_accel("tcg", Probe(root)).name == "tcg"
    k = choose_accel("kvm", Probe(root))
    assert k.name == "kvm" and not k.hardware and "not hardware-backed" in k.reason


def test_explicit_kvm_without_dev_kvm(tmp_path):
    with pytest.raises(ToolError, match="/dev/kvm"):
        choose_accel("kvm", Probe(fake_root(tmp_path, dev_kvm=False)))


def test_describe_names_accel_and_reason(tmp_path):
    a = choose_accel("tcg", Probe(fake_root(tmp_path)))
    assert a.describe() == "accelerator: tcg (requested with --accel tcg)"
