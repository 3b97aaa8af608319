"""`gridwatch sensors ...`: simulate sensor traffic, or run a standalone sensor reader for one gateway."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from gridwatch.cli.common import one_line_errors, setup_logging

log = logging.getLogger(__name__)

app = typer.Typer(
    help=(
        "Smoke detectors and manhole covers over MQTT.\n\n"
        "Simulate 5 devices of each kind with a fire, and write the matching registry:\n\n"
        "  gridwatch sensors simulate --scenario smoke-fire --write-registry var/sensors.yaml\n\n"
        "Read them on the gateway and publish alerts to the hub:\n\n"
        "  gridwatch sensors run --registry var/sensors.yaml --gateway-id gw-demo"
    ),
    no_args_is_help=True,
)

Host = Annotated[str | None, typer.Option(help="broker host (default GRIDWATCH_MQTT_HOST or 127.0.0.1)")]
Port = Annotated[int | None, typer.Option(help="broker port (default GRIDWATCH_MQTT_PORT or 1883)")]
Username = Annotated[str | None, typer.Option(help="MQTT user (default: the development account)")]
Password = Annotated[str | None, typer.Option(help="MQTT password")]
GatewayId = Annotated[str, typer.Option(help="the gateway whose sensor topics to use")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")]


@app.command("simulate")
def simulate(
    gateway_id: GatewayId = "gw-demo",
    devices: Annotated[int, typer.Option(min=1, max=10_000, help="devices of EACH kind")] = 5,
    scenario: Annotated[
        str,
        typer.Option(
            help="normal | smoke-fire | manhole-open | flooding | battery-dying | gateway-power-cut | storm"
        ),
    ] = "normal",
    rate: Annotated[
        float, typer.Option(min=0.1, max=100_000, help="messages per second, all devices together")
    ] = 10.0,
    duration_s: Annotated[
        float, typer.Option(min=0, help="how long to run; 0 only writes the registry")
    ] = 60.0,
    write_registry: Annotated[Path | None, typer.Option(help="write the matching registry YAML here")] = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same traffic)")] = 0,
    host: Host = None,
    port: Port = None,
    username: Username = None,
    password: Password = None,
    verbose: Verbose = False,
) -> None:
    """Publish realistic sensor traffic to a broker.

    Examples:

      gridwatch sensors simulate --devices 50 --rate 100 --duration-s 300

      gridwatch sensors simulate --scenario manhole-open --write-registry var/sensors.yaml

      gridwatch sensors simulate --scenario gateway-power-cut --devices 2000 --rate 500 --duration-s 30

      gridwatch sensors simulate --devices 20 --duration-s 0 --write-registry configs/sensors/mine.yaml
    """
    from edge.sensors.simulator import Scenario, SensorSimulator
    from kernel.mqtt import MqttClient
    from kernel.settings import MqttSettings

    setup_logging(verbose)
    with one_line_errors():
        try:
            chosen = Scenario(scenario)
        except ValueError:
            raise typer.BadParameter(
                f"unknown scenario {scenario!r}: expected one of {', '.join(s.value for s in Scenario)}",
                param_hint="--scenario",
            ) from None
        sim = SensorSimulator(gateway_id, devices, chosen, duration_s=duration_s, seed=seed)
        if write_registry is not None:
            write_registry.parent.mkdir(parents=True, exist_ok=True)
            write_registry.write_text(sim.registry_yaml())
            typer.echo(f"wrote registry of {len(sim.devices)} devices to {write_registry}")
        if duration_s == 0:
            return
        settings = MqttSettings.from_env(host=host, port=port, username=username, password=password)
        client = MqttClient(settings, f"gridwatch-sim-{gateway_id}")
        client.connect()
        deliveries = []

        def publish(topic: str, payload: bytes) -> None:
            deliveries.append(client.publish_tracked(topic, payload, qos=1))
            if len(deliveries) >= 200:  # keep the client's own queue short at a high --rate
                deliveries.pop().wait(30)
                deliveries.clear()

        try:
            sent = sim.run(publish, duration_s=duration_s, rate=rate)
            if deliveries:
                deliveries[-1].wait(30)  # everything handed over reaches the broker before we leave
        finally:
            client.close()
        typer.echo(
            f"published {sent} messages from {len(sim.devices)} devices ({chosen.value}) "
            f"to {settings.host}:{settings.port}"
        )


@app.command("run")
def run(
    registry: Annotated[Path, typer.Option(help="sensor registry YAML (see configs/sensors/example.yaml)")],
    gateway_id: GatewayId = "gw-demo",
    outbox: Annotated[
        Path | None, typer.Option(help="outbox file (default var/edge/<gateway>/outbox.sqlite)")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="validate the registry and exit")] = False,
    tick_interval_s: Annotated[float, typer.Option(min=0.05, max=60, help="heartbeat check interval")] = 1.0,
    stats_interval_s: Annotated[float, typer.Option(min=0, help="log stats this often (0: never)")] = 60.0,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus metrics on this port")] = None,
    host: Host = None,
    port: Port = None,
    username: Username = None,
    password: Password = None,
    verbose: Verbose = False,
) -> None:
    """Read a gateway's sensors from its broker and publish their alerts (standalone, without cameras).

    Announces the gateway online (retained status, last will offline) and runs until Ctrl-C.

    Examples:

      gridwatch sensors run --registry configs/sensors/example.yaml --gateway-id gw-demo --check

      gridwatch sensors run --registry var/sensors.yaml --gateway-id gw-demo --metrics-port 9108
    """
    from edge.outbox import Outbox, OutboxConfig
    from edge.publisher import AlertPublisher
    from edge.sensors.availability import gateway_status_message, gateway_will
    from edge.sensors.reader import ReaderConfig, SensorReader
    from edge.sensors.registry import load_registry
    from kernel.contracts import topics
    from kernel.contracts.messages import Availability
    from kernel.mqtt import MqttClient
    from kernel.settings import MqttSettings

    setup_logging(verbose)
    with one_line_errors():
        devices = load_registry(registry, gateway_id=gateway_id)
        if check:
            typer.echo(f"{registry}: {len(devices)} sensors OK for gateway {gateway_id}")
            return
        settings = MqttSettings.from_env(host=host, port=port, username=username, password=password)
        box = Outbox(OutboxConfig(path=outbox or Path("var/edge") / gateway_id / "outbox.sqlite"))
        client = MqttClient(settings, f"gridwatch-alerts-{gateway_id}")
        client.connect()
        publisher = AlertPublisher(client, box, gateway_id).start()
        reader = SensorReader(
            settings,
            gateway_id,
            devices,
            publisher,
            ReaderConfig(tick_interval_s=tick_interval_s),
            will=gateway_will(gateway_id),
        )
        reader.start()
        reader.client.publish(
            topics.gateway_status(gateway_id),
            gateway_status_message(gateway_id, Availability.ONLINE, "sensor reader started"),
            retain=True,
            wait_s=5,
        )
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port)
        typer.echo(f"reading {len(devices)} sensors of {gateway_id} on {settings.host}:{settings.port}")
        _wait_for_signal(reader, stats_interval_s)
        reader.client.publish(
            topics.gateway_status(gateway_id),
            gateway_status_message(gateway_id, Availability.OFFLINE, "shutdown"),
            retain=True,
            wait_s=5,
        )
        reader.stop()
        publisher.flush(5)
        publisher.stop()
        client.close()
        box.close()


def _wait_for_signal(reader: object, stats_interval_s: float) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    last = time.monotonic()
    while not stop.wait(0.5):
        if stats_interval_s and time.monotonic() - last >= stats_interval_s:
            last = time.monotonic()
            log.info("sensor reader stats: %s", reader.stats())  # type: ignore[attr-defined]
