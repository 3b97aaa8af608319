"""`gridwatch sensors ...`."""

from __future__ import annotations

import typer

from gridwatch.cli.common import not_built_yet

app = typer.Typer(help="Not built yet (issue 4).", no_args_is_help=True)


@app.command("simulate")
def simulate() -> None:
    """Not built yet (issue 4)."""
    not_built_yet("sensors simulate", 4)
