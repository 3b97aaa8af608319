"""`gridwatch demo`."""

from __future__ import annotations

from gridwatch.cli.common import not_built_yet


def demo() -> None:
    """Not built yet (issue 2)."""
    not_built_yet("demo", 2)
