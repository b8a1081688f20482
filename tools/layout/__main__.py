"""`python3 -m tools.layout map|table ...` (layout/cli.py)."""

from .cli import main

raise SystemExit(main())
