"""The one `gridwatch` command: every subsystem is a subcommand registered here."""

from __future__ import annotations

import typer

from gridwatch.cli import (
    bench_cmd,
    broker_cmd,
    cameras_cmd,
    demo_cmd,
    detect_cmd,
    edge_cmd,
    hub_cmd,
    models_cmd,
    sensors_cmd,
)

app = typer.Typer(
    name="gridwatch",
    help=(
        "gridwatch: video and sensor edge alerting for community grid management.\n\n"
        "Start everything on this machine with embedded defaults:\n\n"
        "  gridwatch demo\n\n"
        "Or run the parts yourself (each server takes --host, --port and --data-dir):\n\n"
        "  gridwatch broker --port 1883\n\n"
        "  gridwatch hub --port 8000 --data-dir var\n\n"
        "  gridwatch edge run --gateway-id gw-demo\n\n"
        "  gridwatch sensors simulate --devices 20 --scenario smoke-fire"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("demo")(demo_cmd.demo)
app.command("broker")(broker_cmd.broker)
app.command("hub")(hub_cmd.hub)
app.add_typer(edge_cmd.app, name="edge")
app.add_typer(sensors_cmd.app, name="sensors")
app.add_typer(cameras_cmd.app, name="cameras")
app.add_typer(models_cmd.app, name="models")
app.command("detect")(detect_cmd.detect)
app.command("bench")(bench_cmd.bench)


def main() -> None:
    app()
