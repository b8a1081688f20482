"""Set-up: apt packages and the commands it runs, with the host faked."""

import pytest

from tools import setup_env
from tools.errors import ToolError


class FakeHost(setup_env.Host):
    def __init__(self, missing=(), root=False, backports=True, rc=0):
        self.missing, self.root, self.backports, self.rc = set(missing), root, backports, rc
        self.ran, self.added_source = [], False

    def installed(self, package):
        return package not in self.missing

    def is_root(self):
        return self.root

    def has_backports_source(self):
        return self.backports

    def add_backports_source(self):
        self.added_source = True

    def run(self, cmd, env=None):
        self.ran.append(cmd)
        return self.rc


def test_nothing_missing_does_nothing():
    host = FakeHost()
    setup_env.ensure_packages(host)
    assert host.ran == []


def test_not_root_prints_exact_command():
    host = FakeHost(missing=["qemu-system-arm", "lld"])
    with pytest.raises(ToolError) as e:
        setup_env.ensure_packages(host)
    msg = str(e.value)
    assert "\n" not in msg
    assert "sudo apt-get install -y -t bookworm-backports qemu-system-arm" in msg
    assert "sudo apt-get install -y lld" in msg
    assert host.ran == []


def test_root_adds_backports_and_installs():
    host = FakeHost(missing=["qemu-system-x86", "cargo-web"], root=True, backports=False)
    setup_env.ensure_packages(host)
    assert host.added_source
    assert host.ran == [["apt-get", "update"],
                        ["apt-get", "install", "-y", "-t", "bookworm-backports", "qemu-system-x86"],
                        ["apt-get", "install", "-y", "cargo-web"]]


def test_failed_install_is_an_error():
    with pytest.raises(ToolError, match="failed"):
        setup_env.ensure_packages(FakeHost(missing=["gcc"], root=True, rc=100))


def test_requirements_are_pinned():
    lines = [l.split("#")[0].strip() for l in
             (setup_env.REPO / "requirements.txt").read_text().splitlines()]
    reqs = [l for l in lines if l]
    assert reqs and all("==" in l for l in reqs)
    names = {l.split("==")[0].lower() for l in reqs}
    assert {"kconfiglib", "pyserial", "qemu.qmp", "pytest", "tqdm", "pyusb"} <= names


def test_arm_toolchain_is_in_the_package_list():
    assert {"gcc-arm-none-eabi", "binutils-arm-none-eabi"} <= set(setup_env.PACKAGES)
    # and is installed from the main suite, not backports
    assert not {"gcc-arm-none-eabi", "binutils-arm-none-eabi"} & set(setup_env.BACKPORTS_PACKAGES)


def test_missing_arm_toolchain_is_named_in_the_command():
    host = FakeHost(missing=["gcc-arm-none-eabi", "binutils-arm-none-eabi"])
    with pytest.raises(ToolError) as e:
        setup_env.ensure_packages(host)
    assert "sudo apt-get install -y gcc-arm-none-eabi binutils-arm-none-eabi" in str(e.value)


def test_root_installs_arm_toolchain_without_backports():
    host = FakeHost(missing=["gcc-arm-none-eabi"], root=True, backports=False)
    setup_env.ensure_packages(host)
    assert not host.added_source
    assert host.ran == [["apt-get", "update"], ["apt-get", "install", "-y", "gcc-arm-none-eabi"]]


def test_grub_packages_install_without_recommends():
    # grub-efi-amd64-bin recommends the signed GRUB + shim, whose scripts
    # would try to install a boot loader on the build host.
    host = FakeHost(missing=["grub-efi-amd64-bin", "mtools", "grub-pc-bin"], root=True)
    setup_env.ensure_packages(host)
    assert host.ran == [["apt-get", "update"],
                        ["apt-get", "install", "-y", "mtools"],
                        ["apt-get", "install", "-y", "--no-install-recommends",
                         "grub-pc-bin", "grub-efi-amd64-bin"]]
    assert {"grub-pc-bin", "grub-efi-amd64-bin", "mtools", "ovmf"} <= set(setup_env.PACKAGES)
