"""Nagi's Python kit: configuration, build, QEMU back-end, HIL pytest plugin,
benchmark. `flash.py` at the repository root is the entry point; see
tools/README.md. Modules import third-party packages lazily, so the CLI and
the set-up step run on a bare python3 before the virtualenv exists."""
