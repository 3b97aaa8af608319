"""`gridwatch detect`."""

from __future__ import annotations

from gridwatch.cli.common import not_built_yet


def detect() -> None:
    """Not built yet (issue 3)."""
    not_built_yet("detect", 3)
