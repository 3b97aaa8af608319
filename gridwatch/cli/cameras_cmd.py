"""`gridwatch cameras ...`."""

from __future__ import annotations

import typer

from gridwatch.cli.common import not_built_yet

app = typer.Typer(help="Not built yet (issue 3).", no_args_is_help=True)


@app.command("validate")
def validate() -> None:
    """Not built yet (issue 3)."""
    not_built_yet("cameras validate", 3)
