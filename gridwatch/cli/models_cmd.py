"""`gridwatch models ...`."""

from __future__ import annotations

import typer

from gridwatch.cli.common import not_built_yet

app = typer.Typer(help="Not built yet (issue 2).", no_args_is_help=True)


@app.command("inspect")
def inspect() -> None:
    """Not built yet (issue 2)."""
    not_built_yet("models inspect", 2)
