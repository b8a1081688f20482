#!/usr/bin/env python3
"""flash.py - Nagi's entry point: set up, configure, build, boot, test and
benchmark a board. `python3 flash.py --help` lists the commands; the work
is done by the tools/ package."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
