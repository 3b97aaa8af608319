"""`gridwatch demo`: broker, hub, one edge worker and the sensor simulator on one machine, stopped cleanly."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field

from broker.launcher import BrokerKind, BrokerSettings, RunningBroker, start_broker
from kernel.errors import KernelError
from kernel.settings import DEV_PASSWORD, DEV_USERNAME

log = logging.getLogger(__name__)

DEMO_GATEWAY_ID = "gw-demo"
DEMO_ADMIN_PASSWORD = "gridwatch-admin"  # demo only; printed with the URLs


class DemoSettings(BaseModel):
    """What `gridwatch demo` starts and where."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="address every demo service listens on")
    broker_port: int = Field(1883, ge=1, le=65535)
    hub_port: int = Field(8000, ge=1, le=65535)
    edge_metrics_port: int = Field(9108, ge=1, le=65535)
    data_dir: Path = Field(Path("var"), description="broker, hub and edge keep their data under here")
    cameras_dir: Path = Field(Path("configs/cameras"), description="one YAML file per camera")
    model: Path | None = Field(None, description="ONNX detector; None = look in the models folder")
    sensor_devices: int = Field(5, ge=0, le=10_000, description="simulated devices of each sensor kind")
    scenario: str = Field("smoke-fire", description="simulator scenario the demo plays")
    broker_kind: BrokerKind = BrokerKind.AUTO


@dataclass
class Child:
    """A child process whose output is echoed with a ``[name]`` prefix."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    _pump: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> None:
        # A session of its own: Ctrl-C reaches only the demo, which then stops children in order.
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self._pump = threading.Thread(target=self._echo, name=f"echo-{self.name}", daemon=True)
        self._pump.start()

    def _echo(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            sys.stderr.write(f"[{self.name}] {raw.decode(errors='replace')}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float) -> int | None:
        """SIGTERM, wait (the child flushes what it holds), SIGKILL only as a last resort."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", self.name, timeout_s)
                self.process.kill()
                self.process.wait()
        if self._pump is not None:
            self._pump.join(2.0)
        return self.process.returncode


def _gridwatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "gridwatch", *args]


DEMO_CLIP = Path("var/demo/sample.mp4")  # the path configs/cameras/demo.yaml plays
FOREVER_S = 10 * 365 * 86400.0


def registry_path(settings: DemoSettings) -> Path:
    return settings.data_dir.resolve() / "edge" / "sensors.yaml"


def registry_command(settings: DemoSettings) -> list[str]:
    """Writes the simulated devices' registry, so the edge worker knows every device the simulator plays."""
    return _gridwatch("sensors", "simulate", "--gateway-id", DEMO_GATEWAY_ID, "--devices",
                      str(max(settings.sensor_devices, 1)), "--duration-s", "0",
                      "--write-registry", str(registry_path(settings)))


def child_commands(settings: DemoSettings) -> list[tuple[str, list[str]]]:
    """The demo's long-running children in start order (stopped in reverse)."""
    data = settings.data_dir.resolve()
    edge = ["edge", "run", "--gateway-id", DEMO_GATEWAY_ID, "--cameras", str(settings.cameras_dir),
            "--sensors", str(registry_path(settings)), "--data-dir", str(data / "edge"),
            "--metrics-port", str(settings.edge_metrics_port)]
    if settings.model is not None:
        edge += ["--model", str(settings.model)]
    children = [
        ("hub", _gridwatch("hub", "--host", settings.host, "--port", str(settings.hub_port),
                           "--data-dir", str(data), "--auto-register")),
        ("edge", _gridwatch(*edge)),
    ]
    if settings.sensor_devices:
        children.append(("sensors", _gridwatch(
            "sensors", "simulate", "--gateway-id", DEMO_GATEWAY_ID, "--devices", str(settings.sensor_devices),
            "--scenario", settings.scenario, "--duration-s", str(FOREVER_S))))
    return children


def ensure_sample_clip(path: Path = DEMO_CLIP) -> bool:
    """Generate the demo camera's clip on first run (no network, no shared media needed); True if written."""
    if path.is_file() and path.stat().st_size > 0:
        return False
    from edge.sample_clip import ClipSpec, write_clip

    write_clip(path, ClipSpec(width_px=640, height_px=360, fps=10.0, frames=300, walkers=3))
    return True


class DemoStack:
    """Starts the demo's parts in order and stops them in reverse, so nothing in flight is lost."""

    def __init__(self, settings: DemoSettings, echo: Callable[[str], None]) -> None:
        self.settings = settings
        self.echo = echo
        self.broker: RunningBroker | None = None
        self.children: list[Child] = []

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "GRIDWATCH_MQTT_HOST": self.settings.host,
            "GRIDWATCH_MQTT_PORT": str(self.settings.broker_port),
            "GRIDWATCH_MQTT_USERNAME": DEV_USERNAME,
            "GRIDWATCH_MQTT_PASSWORD": DEV_PASSWORD,
            "GRIDWATCH_ADMIN_PASSWORD": env.get("GRIDWATCH_ADMIN_PASSWORD", DEMO_ADMIN_PASSWORD),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        self.broker = start_broker(BrokerSettings(host=s.host, port=s.broker_port, data_dir=s.data_dir / "broker",
                                                  kind=s.broker_kind))
        self.echo(f"broker: started {self.broker.describe()}")
        if ensure_sample_clip():
            self.echo(f"demo camera: generated sample clip {DEMO_CLIP}")
        env = self._env()
        done = subprocess.run(registry_command(s), env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise KernelError(f"could not write the sensor registry: {done.stderr.strip()[-300:]}")
        for name, argv in child_commands(s):
            child = Child(name, argv, env)
            child.start()
            self.children.append(child)
            if name == "hub":
                self._wait_for_hub()

    def _wait_for_hub(self, timeout_s: float = 60.0) -> None:
        url = f"http://{self.settings.host}:{self.settings.hub_port}/health"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.children[-1].alive():
                raise KernelError("the hub exited during start-up (its output is above)")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise KernelError(f"the hub did not answer {url} within {timeout_s:.0f} s")

    def urls(self) -> list[tuple[str, str]]:
        s = self.settings
        hub = f"http://{s.host}:{s.hub_port}"
        return [
            ("hub (consoles)", f"{hub}/"),
            ("hub API docs (OpenAPI)", f"{hub}/docs"),
            ("hub health", f"{hub}/health"),
            ("hub metrics", f"{hub}/metrics"),
            ("edge metrics", f"http://{s.host}:{s.edge_metrics_port}/metrics"),
            ("MQTT broker", f"mqtt://{s.host}:{s.broker_port} (user {DEV_USERNAME} / {DEV_PASSWORD})"),
            ("admin login", f"admin / {self._env()['GRIDWATCH_ADMIN_PASSWORD']}"),
        ]

    def failed_child(self) -> Child | None:
        return next((c for c in self.children if not c.alive() and c.name != "sensors"), None)

    def stop(self) -> None:
        for child in reversed(self.children):
            code = child.stop(timeout_s=30.0 if child.name == "edge" else 15.0)
            # uvicorn re-raises SIGTERM after its graceful shutdown, so the hub reports -SIGTERM, not 0.
            how = "after SIGTERM" if code == -signal.SIGTERM else f"exit status {code}"
            self.echo(f"{child.name}: stopped ({how})")
        if self.broker is not None:
            self.broker.stop()
            self.echo("broker: stopped")
