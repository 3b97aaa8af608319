"""`python -m gridwatch` runs the `gridwatch` command (the demo starts its children this way)."""

from gridwatch.cli.main import main

main()
