"""The HIL suite runs on whatever board the plugin is told (--board); the
plugin (tools/pytest_plugin.py) provides `dut`, `fresh_dut`, `board` and
the `needs` mark."""

pytest_plugins = ["tools.pytest_plugin"]
