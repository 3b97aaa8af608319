"""`gridwatch hub`."""

from __future__ import annotations

from gridwatch.cli.common import not_built_yet


def hub() -> None:
    """Not built yet (issue 5)."""
    not_built_yet("hub", 5)
