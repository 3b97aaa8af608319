"""The hub's configuration of this gateway (``GatewayConfig``, retained on ``gridwatch/<gw>/config``) read
with the edge's own models: which cameras run here and which sensors are read, revision by revision.

A camera the edge models refuse is left out with a precise error (the others still run); sensor registrations
are taken whole or not at all (a refused list keeps the sensors as they were)."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from edge.sensors.registry import SensorRegistry, registry_from_data
from edge.threads import SupervisedThread, ThreadHealth
from kernel.camera_config import CameraConfig, parse_camera
from kernel.contracts import sealing
from kernel.contracts.messages import GatewayConfig, decode
from kernel.errors import ConfigError, ContractError
from kernel.mqtt import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubConfig:
    """One revision of the hub's configuration, checked: what to run, and what was refused and why."""

    revision: int
    cameras: tuple[CameraConfig, ...]
    sensors: SensorRegistry | None  # None: the sensor list was refused
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CameraChanges:
    """How a new camera list differs from the running one (a changed camera is stopped and started again)."""

    stop: tuple[str, ...]
    start: tuple[CameraConfig, ...]

    @property
    def empty(self) -> bool:
        return not self.stop and not self.start


def read_hub_config(config: GatewayConfig, gateway_id: str, password: SecretStr | str | None = None) -> HubConfig:
    """Check ``config`` with the edge's camera and sensor models; refuse one for another gateway. Stream URLs
    the hub sealed for this gateway are opened with its registered (MQTT) ``password``."""
    if config.gateway_id != gateway_id:
        raise ConfigError(f"GatewayConfig for {config.gateway_id!r} reached gateway {gateway_id!r}")
    origin = f"hub config revision {config.revision}"
    if isinstance(password, SecretStr):
        password = password.get_secret_value()
    key = sealing.gateway_key(gateway_id, password) if password else None
    cameras: list[CameraConfig] = []
    errors: list[str] = []
    for n, data in enumerate(config.cameras):
        name = data.get("camera_id", f"cameras[{n}]")
        try:
            camera = parse_camera(_unsealed(dict(data), key), f"{origin}, camera {name}")
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if camera.gateway_id not in (None, gateway_id):
            errors.append(f"{origin}, camera {name}: assigned to gateway {camera.gateway_id!r}, not this one")
            continue
        cameras.append(camera)
    sensors: SensorRegistry | None = None
    try:
        sensors = registry_from_data(config.sensors, source=f"{origin}, sensors", gateway_id=gateway_id)
    except ConfigError as exc:
        errors.append(str(exc))
    return HubConfig(config.revision, tuple(cameras), sensors, tuple(errors))


def _unsealed(data: dict[str, object], key: bytes | None) -> dict[str, object]:
    """``data`` with its sealed stream URL opened; ConfigError when it cannot be."""
    source = data.get("source")
    url = source.get("url") if isinstance(source, dict) else None
    if not sealing.is_sealed(url):
        return data
    if key is None:
        raise ConfigError(f"camera {data.get('camera_id')}: source.url is sealed for this gateway and no password "
                          "was given to open it: the gateway needs its registered MQTT password (broker.password)")
    try:
        clear = sealing.unseal(str(url), key)
    except ContractError as exc:
        raise ConfigError(f"camera {data.get('camera_id')}: source.url: {exc}") from exc
    return {**data, "source": {**source, "url": clear}}  # type: ignore[dict-item]


def camera_changes(running: dict[str, CameraConfig], wanted: tuple[CameraConfig, ...]) -> CameraChanges:
    """Stop what is gone or changed, start what is new or changed; leave identical cameras running."""
    target = {camera.camera_id: camera for camera in wanted if camera.enabled}
    stop = tuple(cid for cid, camera in running.items() if target.get(cid) != camera)
    start = tuple(camera for cid, camera in target.items() if running.get(cid) != camera)
    return CameraChanges(stop, start)


class HubConfigFollower:
    """Takes ``GatewayConfig`` messages on the MQTT network thread (decode only) and applies them in arrival
    order on a supervised thread of its own, so starting and stopping cameras never blocks the connection."""

    THREAD = "edge-hub-config"

    def __init__(self, apply: Callable[[GatewayConfig], bool], health: ThreadHealth | None = None) -> None:
        self._apply = apply
        self._queue: queue.Queue[GatewayConfig | None] = queue.Queue()
        self._thread = SupervisedThread(self.THREAD, self._apply_next, health or ThreadHealth())
        self._started = False

    def receive(self, message: Message) -> None:
        try:
            self._queue.put(decode(GatewayConfig, message.payload, topic=message.topic))
        except ContractError as exc:
            log.error("hub config ignored: %s", exc)

    def start(self) -> None:
        self._started = True
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._started and self._thread.alive:
            self._queue.put(None)
            self._thread.stop(timeout_s)

    def _apply_next(self) -> bool:
        """Apply the next revision that arrived (waiting up to a second); False once stopped."""
        try:
            config = self._queue.get(timeout=1.0)
        except queue.Empty:
            return True
        if config is None:
            return False
        try:
            self._apply(config)
        except Exception:  # noqa: BLE001 - a bad revision must not end config following
            log.exception("hub config revision %s not applied", config.revision)
        return True
