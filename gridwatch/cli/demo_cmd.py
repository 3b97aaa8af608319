"""`gridwatch demo`: the whole stack on this machine with embedded defaults."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from gridwatch.cli.common import one_line_errors, setup_logging


def demo(
    data_dir: Annotated[Path, typer.Option(envvar="GRIDWATCH_DATA_DIR", help="Where everything keeps its data.")]
    = Path("var"),
    host: Annotated[str, typer.Option(help="Address all services listen on.")] = "127.0.0.1",
    broker_port: Annotated[int, typer.Option(envvar="GRIDWATCH_BROKER_PORT")] = 1883,
    hub_port: Annotated[int, typer.Option(envvar="GRIDWATCH_HUB_PORT")] = 8000,
    edge_metrics_port: Annotated[int, typer.Option()] = 9108,
    cameras: Annotated[Path, typer.Option(help="Folder of camera YAML files.")] = Path("configs/cameras"),
    model: Annotated[Path | None, typer.Option(envvar="GRIDWATCH_MODEL",
                                               help="ONNX detector; default: the models folder.")] = None,
    sensor_devices: Annotated[int, typer.Option(help="Simulated devices of each sensor kind.")] = 5,
    scenario: Annotated[str, typer.Option(help="Simulator scenario: smoke-fire, manhole-open, flooding, ...")]
    = "smoke-fire",
    broker_kind: Annotated[str, typer.Option(help="auto | mosquitto | embedded")] = "auto",
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the whole stack with embedded defaults until Ctrl-C.

    Starts, in order: the MQTT broker (Mosquitto if installed, else embedded), the hub on SQLite under
    <data-dir>/hub, one edge worker for the cameras in configs/cameras (demo clip generated on first run), and
    the sensor simulator. Prints the URLs to open. Ctrl-C stops them in reverse order, letting the edge flush
    its outbox and the hub finish writing, so nothing accepted is lost.

    Examples:

      gridwatch demo

      gridwatch demo --model ../shared/models/yolo11n-coco-int8-320.onnx

      gridwatch demo --hub-port 8100 --broker-port 18830 --data-dir /tmp/gw-demo --scenario flooding
    """
    from broker.launcher import BrokerKind
    from gridwatch.demo import DemoSettings, DemoStack

    setup_logging(verbose)
    with one_line_errors():
        settings = DemoSettings(data_dir=data_dir, host=host, broker_port=broker_port, hub_port=hub_port,
                                edge_metrics_port=edge_metrics_port, cameras_dir=cameras, model=model,
                                sensor_devices=sensor_devices, scenario=scenario,
                                broker_kind=BrokerKind(broker_kind))
        stack = DemoStack(settings, typer.echo)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            stack.start()
            typer.echo("\ngridwatch demo is running. Open:")
            for label, url in stack.urls():
                typer.echo(f"  {label:<24} {url}")
            typer.echo("Ctrl-C stops everything cleanly.\n")
            while not stop.wait(1.0):
                failed = stack.failed_child()
                if failed is not None:
                    typer.secho(f"{failed.name} exited unexpectedly; stopping the demo", fg=typer.colors.RED,
                                err=True)
                    raise typer.Exit(1)
        finally:
            typer.echo("stopping ...")
            stack.stop()
