"""`gridwatch broker`: run the development MQTT broker (Mosquitto if installed, else embedded)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from gridwatch.cli.common import one_line_errors, setup_logging
from kernel.settings import DEV_PASSWORD, DEV_USERNAME


def broker(
    host: Annotated[str, typer.Option(envvar="GRIDWATCH_BROKER_HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="GRIDWATCH_BROKER_PORT", help="TCP port to listen on.")] = 1883,
    data_dir: Annotated[Path, typer.Option(envvar="GRIDWATCH_DATA_DIR",
                                           help="Data folder; the broker uses <data-dir>/broker.")] = Path("var"),
    kind: Annotated[str, typer.Option(help="auto | mosquitto | embedded")] = "auto",
    username: Annotated[str, typer.Option(envvar="GRIDWATCH_MQTT_USERNAME")] = DEV_USERNAME,
    password: Annotated[str, typer.Option(envvar="GRIDWATCH_MQTT_PASSWORD")] = DEV_PASSWORD,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the development MQTT broker until Ctrl-C.

    Starts Mosquitto with broker/conf/mosquitto-dev.conf.tmpl (loopback, password auth, no anonymous
    access) when the `mosquitto` binary is installed, otherwise the embedded pure-Python broker (amqtt)
    on the same port with the same credentials, and says which one it started.

    Examples:

      gridwatch broker                       # 127.0.0.1:1883, user gridwatch / gridwatch-dev

      gridwatch broker --port 18830 --kind embedded --data-dir /tmp/gw

      mosquitto_sub -h 127.0.0.1 -u gridwatch -P gridwatch-dev -t 'gridwatch/#' -v
    """
    from broker.launcher import BrokerKind, BrokerSettings, start_broker

    setup_logging(verbose)
    with one_line_errors():
        settings = BrokerSettings(host=host, port=port, data_dir=data_dir / "broker", kind=BrokerKind(kind),
                                  username=username, password=SecretStr(password))
        running = start_broker(settings)
    typer.echo(f"started {running.describe()} (user {username!r}); Ctrl-C to stop")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            if not running.alive():
                typer.secho("broker exited unexpectedly", fg=typer.colors.RED, err=True)
                raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    typer.echo("broker stopped")
