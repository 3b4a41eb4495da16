"""``python -m swxsoc_reach``: the CLI entry point."""

from swxsoc_reach.cli import main

raise SystemExit(main())
