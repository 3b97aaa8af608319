"""`gridwatch edge ...`: run an edge gateway (cameras -> detector -> rules -> alerts over MQTT)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridwatch.cli.common import one_line_errors, setup_logging

app = typer.Typer(
    help=(
        "The edge gateway: cameras and sensors in, alerts out.\n\n"
        "Run the cameras in configs/cameras with the preferred model found, against a local broker:\n\n"
        "  gridwatch edge run --gateway-id gw-demo\n\n"
        "Name everything explicitly:\n\n"
        "  gridwatch edge run --gateway-id gw-12 --cameras configs/cameras --model models/store/yolo11n.onnx "
        "--broker-host 10.0.0.2 --broker-port 1883 --metrics-port 9108 --data-dir var/edge"
    ),
    no_args_is_help=True,
)

ENV = "GRIDWATCH_"


@app.command("run")
def run(
    gateway_id: Annotated[str | None, typer.Option(
        envvar=f"{ENV}GATEWAY_ID", help="this gateway's id (required here or in --config)")] = None,
    cameras: Annotated[Path | None, typer.Option(
        envvar=f"{ENV}CAMERAS_DIR", help="folder of camera YAML files [configs/cameras]")] = None,
    model: Annotated[Path | None, typer.Option(envvar=f"{ENV}MODEL",
                                               help="ONNX detector; default: the preferred one found, "
                                                    "else motion-only")] = None,
    broker_host: Annotated[str | None, typer.Option(envvar=f"{ENV}MQTT_HOST", help="broker host")] = None,
    broker_port: Annotated[int | None, typer.Option(envvar=f"{ENV}MQTT_PORT", help="broker port")] = None,
    metrics_port: Annotated[int | None, typer.Option(envvar=f"{ENV}METRICS_PORT",
                                                     help="Prometheus /metrics port, 0 = off [9108]")] = None,
    data_dir: Annotated[Path | None, typer.Option(envvar=f"{ENV}DATA_DIR",
                                                  help="outbox and local state [var/edge]")] = None,
    sensors: Annotated[Path | None, typer.Option(envvar=f"{ENV}SENSORS_REGISTRY",
                                                 help="sensor registry YAML to read sensors too")] = None,
    follow_hub: Annotated[bool | None, typer.Option(
        "--follow-hub/--no-follow-hub", envvar=f"{ENV}FOLLOW_HUB",
        help="run the cameras and sensors the hub registered for this gateway (its retained config), "
             "applying each change without a restart [off]")] = None,
    threads: Annotated[int | None, typer.Option(
        min=1, max=64, help="ONNX Runtime threads per inference run [cores / workers]")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=16, help="inference runs side by side [cores; 1 for a single camera]")] = None,
    stats_interval_s: Annotated[float | None, typer.Option(min=0.1, help="stats period in s [10]")] = None,
    config: Annotated[Path | None, typer.Option(envvar=f"{ENV}GATEWAY_CONFIG",
                                                help="gateway YAML; flags override its values")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
) -> None:
    """Run one edge gateway until Ctrl-C or SIGTERM (then it flushes its outbox and says offline).

    Examples:

      gridwatch edge run --gateway-id gw-demo

      gridwatch edge run --gateway-id gw-12 --cameras configs/cameras --model yolo11n-coco-int8-320.onnx

      GRIDWATCH_GATEWAY_ID=gw-12 GRIDWATCH_MQTT_HOST=hub.local gridwatch edge run --metrics-port 9108

      gridwatch edge run --config /etc/gridwatch/gateway.yaml --sensors configs/sensors/example.yaml

      gridwatch edge run --gateway-id gw-12 --follow-hub   # cameras and sensors as registered at the hub

    A gateway YAML holds the same settings: gateway_id, cameras_dir, model, broker (host, port,
    username, password), data_dir, sensors_registry, follow_hub, metrics_port, stats_interval_s,
    inference (threads, max_batch).
    """
    from edge.settings import build_settings, load_gateway_file
    from edge.worker import EdgeWorker
    from kernel.errors import ConfigError
    from kernel.settings import MqttSettings

    setup_logging(verbose)
    with one_line_errors():
        broker = MqttSettings.from_env(host=broker_host, port=broker_port)
        overrides: dict[str, object] = {
            "gateway_id": gateway_id, "cameras_dir": cameras, "model": model, "data_dir": data_dir,
            "sensors_registry": sensors, "metrics_port": metrics_port, "stats_interval_s": stats_interval_s,
            "follow_hub": follow_hub,
        }
        if config is not None:
            settings = load_gateway_file(config, **overrides)
            if broker_host is not None or broker_port is not None:
                settings = settings.model_copy(update={"broker": broker})
        else:
            if gateway_id is None:
                raise ConfigError(
                    "--gateway-id is required (or GRIDWATCH_GATEWAY_ID, or gateway_id in --config)")
            settings = build_settings({"broker": broker}, source="command line", **overrides)
        tuning = {k: v for k, v in (("threads", threads), ("workers", workers)) if v is not None}
        if tuning:
            settings = settings.model_copy(update={"inference": settings.inference.model_copy(update=tuning)})
        EdgeWorker(settings).run_until_signal()
