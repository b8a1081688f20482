"""Every board directory is complete and agrees with the Kconfig tree."""

import pytest

from tools.boards import board_names, load_board
from tools.config import _load_file, load_kconfig

BOARDS = board_names()


def test_pc_is_there():
    assert "pc" in BOARDS


@pytest.mark.parametrize("name", BOARDS)
def test_board_directory_is_complete(name):
    b = load_board(name)
    for f in ["defconfig", "Kconfig.board", "Kconfig.defconfig", "README.md"]:
        assert (b.directory / f).is_file(), f"board/{name}/{f} is missing"
    assert all(isinstance(v, bool) for v in b.capabilities.values())
    assert b.flash_methods, "at least one flash method"


@pytest.mark.parametrize("name", BOARDS)
def test_kconfig_agrees_with_board_toml(name):
    """board.toml's arch and name are what its defconfig gives Kconfig."""
    b = load_board(name)
    kconf = load_kconfig()
    _load_file(kconf, b.defconfig, replace=True)
    assert kconf.syms["BOARD"].str_value == name
    assert kconf.syms["ARCH"].str_value == b.arch


def test_pc_facts():
    b = load_board("pc")
    assert (b.qemu.binary, b.qemu.machine, b.qemu.cpu, b.qemu.memory, b.qemu.image) == \
        ("qemu-system-x86_64", "q35", "qemu64", "256M", "nagi.img")
    assert b.has("paging") and b.has("ioports") and b.has("mmu") and not b.has("keys")
    assert b.flash_methods[0] == "qemu"


def test_new_board_directory_needs_no_other_edit(tmp_path, monkeypatch):
    """A copy of board/pc under another name is found by the Kconfig glob."""
    import shutil
    from tools import paths
    repo = tmp_path / "repo"
    shutil.copytree(paths.REPO / "board", repo / "board")
    for f in ["Kconfig", "arch/Kconfig", "kernel/Kconfig", "userland/Kconfig"]:
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.REPO / f, repo / f)
    new = repo / "board" / "pc2"
    shutil.copytree(repo / "board" / "pc", new)
    for f in new.iterdir():
        f.write_text(f.read_text().replace("BOARD_PC", "BOARD_PC2").replace('"pc"', '"pc2"')
                     .replace("pc: x86_64", "pc2: x86_64"))
    (new / "board.toml").write_text((new / "board.toml").read_text()
                                    .replace('name = "pc"', 'name = "pc2"'))
    assert board_names(repo / "board") == ["pc", "pc2"]
    assert load_board("pc2", repo / "board").name == "pc2"
    kconf = load_kconfig(repo)
    _load_file(kconf, new / "defconfig", replace=True)
    assert kconf.syms["BOARD"].str_value == "pc2"
