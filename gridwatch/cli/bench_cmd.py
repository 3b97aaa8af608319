"""`gridwatch bench`."""

from __future__ import annotations

from gridwatch.cli.common import not_built_yet


def bench() -> None:
    """Not built yet (issue 3)."""
    not_built_yet("bench", 3)
