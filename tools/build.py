"""build.py - the build pipeline: config, userland, initfs, kernel (pc);
config, userland (two-pass link, tools/layout.py), kernel, image (arm-m).

Each step does nothing when its inputs did not change, and says
`up to date`. Child processes go through Runner.run so tests can replace
them; their full output lands in build/<board>/logs/<step>.log."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import abigen
from .boards import Board
from .config import configure
from .errors import ToolError
from .initfs import pack
from .paths import REPO, write_if_changed
from .progress import Step

USER_PROGRAMS = ["init", "memory", "console", "shell", "ipc_peer", "faulter", "critical"]
# MCU images: no memory server (no pager); gpio only with CONFIG_GPIO;
# ps2kbd only with CONFIG_PS2KBD (a board with an i8042: board.toml [ps2]);
# pci with CONFIG_PCI ([pci]); e1000 with CONFIG_E1000 and lan9118 with
# CONFIG_LAN9118 ([nic] model);
# net and httpd with CONFIG_NET (a board with a [nic]);
# hid, keymap and keyscan only with CONFIG_KEYBOARD.
MCU_PROGRAMS = ["init", "console", "shell", "ipc_peer", "faulter", "critical"]
RUST_TARGET = {"x86_64": "x86_64-unknown-none", "arm-m": "thumbv7em-none-eabihf"}
CARGO_CONFIG = {"x86_64": "userland/cross.toml", "arm-m": "userland/cross-arm.toml"}
STEPS = 4


class Runner:
    """Runs a child process, feeding each output line to `on_line`."""

    def run(self, cmd: list[str], cwd: Path, env: dict | None, on_line) -> tuple[int, str]:
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace")
        except OSError as e:
            return 127, f"{cmd[0]}: {e}\n"
        out = []
        for line in proc.stdout:
            out.append(line)
            on_line(line)
        return proc.wait(), "".join(out)


@dataclass
class BuildResult:
    image: Path
    elf: Path
    config: dict[str, str]
    rebuilt: list[str] = field(default_factory=list)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


# Programs init starts only on request (INIT_SPAWN / the shell): the rest of
# an image's programs are tasks from boot on (init among them).
ON_REQUEST = {"faulter", "critical", "fuzz", "fuzz_peer"}
# init's own channels besides one bootstrap channel per boot program: the
# kernel's, its listening channel, its timer and a lookup's new pair.
INIT_CHANNELS = 6
# Tasks the shell's commands start besides (the fuzzer pair, or faulter
# and critical).
SPARE_TASKS = 2


def check_kernel_limits(programs: list[str], config: dict[str, str]) -> None:
    """The kernel's task and per-task channel limits (visible Kconfig
    symbols: an old .config keeps its values when the image grows, e.g.
    with CONFIG_KEYBOARD) must hold the tasks the image starts at boot;
    otherwise init fails at run time. One line naming the symbol."""
    boot = [p for p in programs if p not in ON_REQUEST]
    need = {"MAX_TASKS": len(boot) + SPARE_TASKS, "TASK_CHANNELS": len(boot) - 1 + INIT_CHANNELS}
    for sym, n in need.items():
        have = config.get(sym, "")
        if have.isdigit() and int(have) < n:
            raise ToolError(f"CONFIG_{sym}={have} is too small for this image: {len(boot)} tasks "
                            f"from boot ({', '.join(boot)}) and {SPARE_TASKS} the shell starts "
                            f"need at least {n}; raise it "
                            f"(--set {sym}={n}, menuconfig) or delete the build's .config")


# The net server's heap besides its TCP buffers (MCU boards): one UDP
# socket's buffers (8 datagrams of 2048 bytes each way: a 4 KiB budget
# counted per socket id, which a client may all bind as UDP), and the rest
# of smoltcp (socket structures, the ICMP buffers, the interface).
NET_UDP_BYTES_PER_ID = 2 * 2048
NET_HEAP_SLACK = 64 * 1024


def net_heap_need(config: dict[str, str]) -> int:
    """Bytes of heap net needs on a board without a pager: every TCP
    socket's fixed buffers, UDP for every socket id, and slack."""
    num = lambda sym, default: int(config.get(sym, default))
    tcp = num("NET_TCP_SOCKETS", 64) * (num("NET_TCP_RX_BYTES", 8192) + num("NET_TCP_TX_BYTES", 12288))
    return tcp + num("NET_SOCKET_IDS", 64) * NET_UDP_BYTES_PER_ID + NET_HEAP_SLACK


def check_net_heap(heap: int, config: dict[str, str]) -> None:
    """On MCU boards net's heap is static (userland/tasks.toml [net]): it
    must hold the socket budget of the Kconfig "Network" menu, or net
    would abort on an allocation at run time. One line naming both."""
    need = net_heap_need(config)
    if heap < need:
        raise ToolError(f"userland/tasks.toml [net] heap {heap} B is too small for the socket budget "
                        f"(CONFIG_NET_TCP_SOCKETS={config.get('NET_TCP_SOCKETS')} x "
                        f"(NET_TCP_RX_BYTES={config.get('NET_TCP_RX_BYTES')} + "
                        f"NET_TCP_TX_BYTES={config.get('NET_TCP_TX_BYTES')}), UDP for "
                        f"NET_SOCKET_IDS={config.get('NET_SOCKET_IDS')}, slack): needs {need} B; "
                        f"raise the heap or lower the budget (menuconfig, Network)")


class Builder:
    """Builds one board configuration into one build directory."""

    def __init__(self, board: Board, build: Path, overrides: list[tuple[str, str]],
                 runner: Runner | None = None, repo: Path = REPO):
        self.board, self.build, self.overrides = board, build, overrides
        self.runner = runner or Runner()
        self.repo = repo

    # -- helpers ---------------------------------------------------------
    def _run_step(self, step: Step, name: str, cmd: list[str], env=None, show=None,
                  append: bool = False, explain=None, quiet_fail: bool = False) -> str:
        """Run a step's command; on failure show its tail and raise.
        `append` adds to the step's log instead of replacing it; `explain`
        may turn the output of a failure into a better one-line message."""
        def on_line(line):
            if show is None or show(line):
                step.line(line)
        rc, output = self.runner.run(cmd, self.repo, env, on_line)
        log = self.build / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a" if append else "w") as f:
            f.write(f"$ {' '.join(cmd)}\n{output}")
        if rc != 0 and quiet_fail:
            raise ToolError(f"build step '{name}' failed (exit {rc})")
        if rc != 0:
            step.finish("FAILED")
            tail = output.rstrip().splitlines()[-20:]
            for line in tail:
                print(f"    | {line}")
            better = explain(output) if explain else None
            if better:
                raise ToolError(f"{better}; full log: {os.path.relpath(log, self.repo)}")
            raise ToolError(f"build step '{name}' failed (exit {rc}); full log: "
                            f"{os.path.relpath(log, self.repo)}")
        return output

    # -- steps -----------------------------------------------------------
    def step_config(self) -> dict[str, str]:
        step = Step(1, self.steps, "config")
        result = configure(self.board, self.build, self.overrides, self.repo)
        step.finish(("wrote " + ", ".join(str(p.relative_to(self.build)) for p in result.changed))
                    if result.changed else "up to date")
        return result.values

    def cargo_command(self) -> tuple[list[str], dict]:
        """The userland build: Debian's toolchain named explicitly (rustup's
        comes first in PATH on these machines)."""
        target_dir = (self.build / "userland").resolve()
        abi_rs = (self.build / "include" / "generated" / "abi.rs").resolve()
        abigen.generate_rust(abi_rs)       # AbiError is a ToolError: one line
        env = dict(os.environ)
        env.update(PATH="/usr/bin:" + env.get("PATH", ""), RUSTC="/usr/bin/rustc",
                   RUSTC_BOOTSTRAP="1", CARGO_TARGET_DIR=str(target_dir),
                   NAGI_CONFIG_RS=str((self.build / "nagi_config.rs").resolve()),
                   NAGI_KEYBOARD_RS=str((self.build / "keyboard_board.rs").resolve()),
                   NAGI_ABI_RS=str(abi_rs))
        cmd = ["/usr/bin/cargo", "build", "--release",
               "--manifest-path", "userland/Cargo.toml"]
        cross = CARGO_CONFIG.get(self.board.arch, "userland/cross.toml")
        if (self.repo / cross).is_file():
            cmd += ["--config", cross]  # see userland/README.md
        elif self.is_mcu:
            raise ToolError(f"build step 'userland' failed: {cross} not found")
        if self.is_mcu:
            env["NAGI_LAYOUT_DIR"] = str(self.layout_dir.resolve())
        return cmd, env

    @property
    def steps(self) -> int:
        """Steps of this board's build: one more for a disk image."""
        return STEPS + (not self.is_mcu and self.board.flash_method("disk") is not None)

    @property
    def is_mcu(self) -> bool:
        return self.board.arch == "arm-m"

    @property
    def layout_dir(self) -> Path:
        return self.build / "layout"

    def programs(self, config: dict[str, str]) -> list[str]:
        names = list(MCU_PROGRAMS if self.is_mcu else USER_PROGRAMS)
        if config.get("BENCH") == "y":
            names.append("bench_server")
        if config.get("FUZZ") == "y":
            names += ["fuzz", "fuzz_peer"]
        if self.is_mcu and config.get("GPIO") == "y":
            names.append("gpio")
        if config.get("PS2KBD") == "y":
            names.append("ps2kbd")
        if self.is_mcu and config.get("KEYBOARD") == "y":
            names += ["hid", "keymap", "keyscan"]
        if config.get("PCI") == "y":
            names.append("pci")
        if config.get("E1000") == "y":
            names.append("e1000")
        if config.get("LAN9118") == "y":
            names.append("lan9118")
        if config.get("NET") == "y":
            names += ["net", "httpd"]
        return names

    def workspace_programs(self) -> list[str]:
        """Every program (binary) of userland/Cargo.toml's members but the
        runtime's: each needs its layout file, in the image or not. A
        member's programs are its [[bin]] names (default: the crate's); a
        member with [lib] and no [[bin]] (such as keyboard) is a library."""
        import tomllib
        userland = self.repo / "userland"
        try:
            data = tomllib.loads((userland / "Cargo.toml").read_text())
            members = data.get("workspace", {}).get("members", [])
        except (OSError, tomllib.TOMLDecodeError):
            members = []
        names = []
        for m in members:
            if Path(m).name == "runtime":
                continue
            try:
                crate = tomllib.loads((userland / m / "Cargo.toml").read_text())
            except (OSError, tomllib.TOMLDecodeError):
                crate = {}
            bins = [b.get("name") for b in crate.get("bin", ()) if b.get("name")]
            if "lib" in crate and not bins:
                continue
            names += bins or [Path(m).name]
        return names

    def elf_dir(self) -> Path:
        target = RUST_TARGET.get(self.board.arch)
        if target is None:
            raise ToolError(f"no Rust target known for arch '{self.board.arch}'")
        return self.build / "userland" / target / "release"

    def step_userland(self, config: dict[str, str]) -> list[Path]:
        step = Step(2, self.steps, "userland")
        if not (self.repo / "userland" / "Cargo.toml").is_file():
            step.finish("FAILED")
            raise ToolError("build step 'userland' failed: userland/Cargo.toml not found")
        elfs = [self.elf_dir() / n for n in self.programs(config)]
        before = [_mtime(p) for p in elfs]
        cmd, env = self.cargo_command()
        self._run_step(step, "userland", cmd, env,
                       show=lambda l: l.lstrip().startswith(("Compiling", "error", "warning")))
        missing = [p.name for p in elfs if not p.is_file()]
        if missing:
            step.finish("FAILED")
            raise ToolError(f"build step 'userland' failed: cargo did not produce "
                            f"{', '.join(missing)} in {self.elf_dir()}")
        changed = [p.name for p, t in zip(elfs, before) if _mtime(p) != t]
        step.finish(f"built {', '.join(changed)}" if changed else "up to date")
        return elfs

    def step_initfs(self, elfs: list[Path]) -> Path:
        step = Step(3, self.steps, "initfs")
        files = [(p.name, p.read_bytes()) for p in elfs]
        assert files[0][0] == "init", "init must be the first entry"
        out = self.build / "initfs.bin"
        wrote = write_if_changed(out, pack(files))
        step.finish(f"wrote {out.name} ({len(files)} programs)" if wrote else "up to date")
        return out

    def step_kernel(self, initfs: Path) -> Path:
        step = Step(4, self.steps, "kernel")
        if not (self.repo / "kernel" / "Makefile").is_file():
            step.finish("FAILED")
            raise ToolError("build step 'kernel' failed: kernel/Makefile not found")
        image = self.build / "nagi.img"
        before = _mtime(image)
        rel = os.path.relpath(self.build, self.repo)
        cmd = ["make", "--no-print-directory", "-f", "kernel/Makefile", f"O={rel}",
               f"INITFS={rel}/initfs.bin"]
        self._run_step(step, "kernel", cmd,
                       show=lambda l: "Nothing to be done" not in l and "is up to date" not in l)
        if not image.is_file():
            raise ToolError(f"build step 'kernel' failed: make did not produce {image}")
        step.finish("built nagi.img" if _mtime(image) != before else "up to date")
        return image

    def step_disk_image(self, kernel: Path) -> Path:
        """The bootable disk image of a board with a [[flash]] method
        "disk" (the pc: GRUB for BIOS and UEFI, tools/disk_image.py),
        rebuilt only when the kernel, the layout or the GRUB files changed."""
        from . import disk_image
        entry = self.board.flash_method("disk")
        step = Step(5, self.steps, "disk image")
        out = self.build / entry.get("image", "nagi-disk.img")
        layout = disk_image.Layout(int(entry.get("esp_mib", disk_image.DEFAULT_ESP_MIB)))
        stamp = out.with_name(out.name + ".inputs")
        digest = disk_image.inputs_digest(kernel, layout)
        if out.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
            step.finish("up to date")
            return out
        stamp.unlink(missing_ok=True)
        try:
            disk_image.build_image(kernel, out, layout)
        except ToolError:
            step.finish("FAILED")
            raise
        stamp.write_text(digest + "\n")
        step.finish(f"wrote {out.name} ({out.stat().st_size // disk_image.MIB} MiB: GPT, "
                    f"GRUB for BIOS and UEFI)")
        return out

    # -- arm-m steps (docs/mcu-port.md) -----------------------------------
    def step_userland_mcu(self, config: dict[str, str]):
        """Link the programs into their static regions (tools/layout.py)."""
        from . import layout as lay
        step = Step(2, self.steps, "userland")
        if not (self.repo / "userland" / "Cargo.toml").is_file():
            step.finish("FAILED")
            raise ToolError("build step 'userland' failed: userland/Cargo.toml not found")
        mem = lay.McuMemory.from_config(config)
        programs = self.programs(config)
        workspace = self.workspace_programs()
        missing = [p for p in programs if p not in workspace]
        if missing:
            step.finish("FAILED")
            raise ToolError(f"build step 'userland' failed: {', '.join(missing)} not in "
                            f"userland/Cargo.toml's workspace members")
        all_programs = workspace
        sizes = lay.load_task_sizes(self.repo / "userland" / "tasks.toml", all_programs)
        if "net" in programs:
            try:
                check_net_heap(sizes["net"].heap, config)
            except ToolError:
                step.finish("FAILED")
                raise
        elf_dir = self.elf_dir()
        before = {p: _mtime(elf_dir / p) for p in programs}
        cmd, env = self.cargo_command()
        log = self.build / "logs" / "userland.log"
        log.unlink(missing_ok=True)

        def cargo(layout_dir: Path, tentative: bool) -> None:
            env["NAGI_LAYOUT_DIR"] = str(layout_dir.resolve())
            self._run_step(step, "userland", cmd, env, append=True, quiet_fail=tentative,
                           show=lambda l: l.lstrip().startswith(("Compiling", "error",
                                                                 "warning")))
        try:
            layout, elfs = lay.link_programs(mem, programs, all_programs, sizes,
                                             self.layout_dir, elf_dir, cargo, log=step.line)
        except lay.LayoutError:
            step.finish("FAILED")
            raise
        changed = [p for p in programs if _mtime(elf_dir / p) != before[p]]
        step.finish(f"built {', '.join(changed)}" if changed else "up to date")
        return layout, elfs

    def step_kernel_mcu(self, config: dict[str, str]) -> Path:
        from . import layout as lay
        step = Step(3, self.steps, "kernel")
        if not (self.repo / "kernel" / "Makefile").is_file():
            step.finish("FAILED")
            raise ToolError("build step 'kernel' failed: kernel/Makefile not found")
        mem = lay.McuMemory.from_config(config)
        elf = self.build / "kernel.elf"
        before = _mtime(elf)
        rel = os.path.relpath(self.build, self.repo)
        cmd = ["make", "--no-print-directory", "-f", "kernel/Makefile", f"O={rel}"]
        self._run_step(step, "kernel", cmd,
                       show=lambda l: "Nothing to be done" not in l and "is up to date" not in l,
                       explain=lambda out: lay.kernel_link_error(out, mem))
        if not elf.is_file():
            step.finish("FAILED")
            raise ToolError(f"build step 'kernel' failed: make did not produce {elf}")
        step.finish("built kernel.elf" if _mtime(elf) != before else "up to date")
        return elf

    def step_image(self, config: dict[str, str], layout, elfs, kernel_elf: Path) -> Path:
        """kernel.elf + task table + programs -> nagi.elf/.bin/.hex; the map."""
        from . import layout as lay
        from .elfimage import ElfError, read_elf
        step = Step(4, self.steps, "image")
        mem = lay.McuMemory.from_config(config)
        try:
            kernel = read_elf(kernel_elf)
            usage = lay.kernel_usage(kernel, mem)
            lay.check_kernel(usage, mem)
            files = lay.merge_image(kernel, mem, layout, elfs, self.build)
        except (OSError, ElfError) as e:
            step.finish("FAILED")
            raise ToolError(f"build step 'image' failed: {e}") from None
        except lay.LayoutError:
            step.finish("FAILED")
            raise
        mm = lay.memory_map(self.board.name, mem, usage, layout)
        write_if_changed(self.build / "memory-map.json",
                               lay.memory_map_json(mm).encode())
        step.finish(f"wrote {', '.join(p.name for p in files.changed)}" if files.changed
                    else "up to date")
        for line in lay.memory_map_lines(mm):
            print(line)
        return files.elf

    def build_all(self) -> BuildResult:
        print(f"Building board '{self.board.name}' in {os.path.relpath(self.build, self.repo)}/")
        config = self.step_config()
        check_kernel_limits(self.programs(config), config)
        if self.is_mcu:
            layout, elfs = self.step_userland_mcu(config)
            kernel = self.step_kernel_mcu(config)
            image = self.step_image(config, layout, elfs, kernel)
            name = self.board.qemu.image if self.board.qemu else "nagi.elf"
            return BuildResult(image=self.build / name, elf=image, config=config)
        elfs = self.step_userland(config)
        initfs = self.step_initfs(elfs)
        image = self.step_kernel(initfs)
        if self.board.flash_method("disk") is not None:
            self.step_disk_image(image)
        return BuildResult(image=image, elf=self.build / "nagi.elf", config=config)
