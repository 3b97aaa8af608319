"""Installer registry: gateways (with one-time credentials), cameras (validated by the edge's own config
model, stream URL sealed) and sensors; every change bumps and publishes the gateway's configuration."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.passwords import password_hash
from central.auth import Passwords
from central.broker_auth import HubBrokerAccount, reload_broker, write_broker_auth
from central.clock import Clock
from central.db.engine import Database
from central.db.models import Camera, Gateway, Sensor, User
from central.errors import Conflict, Invalid, NotFound
from central.keys import Sealer, new_password
from central.people import area_id_of
from central.registry_views import (
    camera_public,
    gateway_config_of,
    gateway_public,
    sensor_public,
    validate_camera_config,
)
from central.schemas import (
    CameraCreate,
    CameraPublic,
    CameraUpdate,
    GatewayCreate,
    GatewayCredentials,
    GatewayPublic,
    GatewayUpdate,
    SensorCreate,
    SensorPublic,
    SensorUpdate,
)
from central.sensor_kinds import sensor_vendor
from central.states import Role
from kernel.contracts.messages import GatewayConfig
from kernel.contracts.sealing import gateway_key
from kernel.settings import DEV_PASSWORD

log = logging.getLogger(__name__)

ConfigSink = Callable[[GatewayConfig], None]


class DeviceRegistry:
    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        passwords: Passwords,
        clock: Clock,
        auth_dir: Path,
        hub_account: HubBrokerAccount,
        publish_config: ConfigSink | None = None,
        broker_pid_file: Path | None = None,
    ) -> None:
        self.db = db
        self.sealer = sealer
        self.passwords = passwords
        self.clock = clock
        self.auth_dir = auth_dir
        self.hub_account = hub_account  # this hub process's own broker account
        self.publish_config = publish_config
        self.broker_pid_file = broker_pid_file

    # -- gateways ----------------------------------------------------------------------------------

    def create_gateway(self, body: GatewayCreate) -> GatewayCredentials:
        password = new_password()
        with self.db.session() as session:
            if session.get(Gateway, body.gateway_id) is not None:
                raise Conflict(f"gateway {body.gateway_id!r} is already registered")
            if session.scalars(select(User.id).where(User.username == body.gateway_id)).first() is not None:
                raise Conflict(f"gateway id {body.gateway_id!r} is taken by a user account")
            if self.hub_account.owns(body.gateway_id):
                raise Conflict(f"gateway id {body.gateway_id!r} is the hub's own broker account")
            gateway = Gateway(
                gateway_id=body.gateway_id,
                name=body.name,
                area_id=area_id_of(session, body.area_code),
                mqtt_password_hash=password_hash(password),
                config_key_encrypted=self.sealer.seal(gateway_key(body.gateway_id, password).decode("ascii")),
                auto_registered=False,
                retired=False,
                state="unknown",
                config_revision=0,
            )
            session.add(gateway)
            session.add(
                User(
                    username=body.gateway_id,
                    display_name=f"gateway {body.gateway_id}",
                    password_hash=self.passwords.hash(password),
                    role=Role.GATEWAY.value,
                    active=True,
                )
            )
            session.flush()
            public = gateway_public(gateway)
        self.write_broker_auth()
        return GatewayCredentials(
            gateway=public,
            mqtt_username=body.gateway_id,
            mqtt_password=password,
            http_username=body.gateway_id,
            http_password=password,
        )

    def update_gateway(self, gateway_id: str, body: GatewayUpdate) -> GatewayPublic:
        with self.db.session() as session:
            gateway = self._gateway(session, gateway_id)
            if body.name is not None:
                gateway.name = body.name
            if body.area_code is not None:
                gateway.area_id = area_id_of(session, body.area_code)
            return gateway_public(gateway)

    def retire_gateway(self, gateway_id: str) -> GatewayPublic:
        with self.db.session() as session:
            gateway = self._gateway(session, gateway_id)
            gateway.retired = True
            gateway.mqtt_password_hash = None
            gateway.config_key_encrypted = None
            for user in session.scalars(
                select(User).where(User.username == gateway_id, User.role == Role.GATEWAY.value)
            ):
                user.active = False
            public = gateway_public(gateway)
        self.write_broker_auth()
        return public

    def list_gateways(self) -> list[GatewayPublic]:
        with self.db.session() as session:
            return [gateway_public(g) for g in session.scalars(select(Gateway).order_by(Gateway.gateway_id))]

    def get_gateway(self, gateway_id: str) -> GatewayPublic:
        with self.db.session() as session:
            return gateway_public(self._gateway(session, gateway_id))

    def write_broker_auth(self) -> None:
        """Rewrite the broker's password file and ACL (the hub's accounts and every active gateway's) and make
        the broker reload them."""
        with self.db.session() as session:
            accounts = {
                g.gateway_id: g.mqtt_password_hash
                for g in session.scalars(select(Gateway))
                if g.mqtt_password_hash and not g.retired
            }
        write_broker_auth(self.auth_dir, accounts, self.hub_account)
        reload_broker(self.broker_pid_file)

    # -- cameras ------------------------------------------------------------------------------------

    def create_camera(self, body: CameraCreate) -> CameraPublic:
        url = body.stream_url.get_secret_value()
        config = validate_camera_config(body.camera_id, body.gateway_id, url, body.config)
        with self.db.session() as session:
            self._gateway(session, body.gateway_id, live=True)
            if session.get(Camera, body.camera_id) is not None:
                raise Conflict(f"camera {body.camera_id!r} is already registered")
            camera = Camera(
                camera_id=body.camera_id,
                gateway_id=body.gateway_id,
                name=body.name,
                area_id=area_id_of(session, body.area_code),
                stream_url_encrypted=self.sealer.seal(url),
                latitude=body.location.lat if body.location else None,
                longitude=body.location.lon if body.location else None,
                config=config,
                retired=False,
                state="unknown",
            )
            session.add(camera)
            public = camera_public(camera)
        self._config_changed(body.gateway_id)
        return public

    def update_camera(self, camera_id: str, body: CameraUpdate) -> CameraPublic:
        with self.db.session() as session:
            camera = self._device(session, Camera, camera_id)
            url = (
                body.stream_url.get_secret_value()
                if body.stream_url
                else self.sealer.open(camera.stream_url_encrypted or "")
            )
            if body.config is not None or body.stream_url is not None:
                camera.config = validate_camera_config(
                    camera_id,
                    camera.gateway_id,
                    url,
                    body.config if body.config is not None else camera.config or {},
                )
                camera.stream_url_encrypted = self.sealer.seal(url)
            if body.area_code is not None:
                camera.area_id = area_id_of(session, body.area_code)
            if body.name is not None:
                camera.name = body.name
            if body.location is not None:
                camera.latitude, camera.longitude = body.location.lat, body.location.lon
            public, gateway_id = camera_public(camera), camera.gateway_id
        self._config_changed(gateway_id)
        return public

    def list_cameras(self, gateway_id: str | None = None) -> list[CameraPublic]:
        query = select(Camera).order_by(Camera.camera_id)
        if gateway_id is not None:
            query = query.where(Camera.gateway_id == gateway_id)
        with self.db.session() as session:
            return [camera_public(c) for c in session.scalars(query)]

    # -- sensors ------------------------------------------------------------------------------------

    def create_sensor(self, body: SensorCreate) -> SensorPublic:
        with self.db.session() as session:
            self._gateway(session, body.gateway_id, live=True)
            if session.get(Sensor, body.device_id) is not None:
                raise Conflict(f"sensor {body.device_id!r} is already registered")
            self._check_cameras(session, body.linked_camera_ids)
            sensor = Sensor(
                device_id=body.device_id,
                gateway_id=body.gateway_id,
                kind=body.kind,
                vendor=sensor_vendor(body.kind, body.vendor),
                area_id=area_id_of(session, body.area_code),
                latitude=body.location.lat if body.location else None,
                longitude=body.location.lon if body.location else None,
                linked_camera_ids=list(body.linked_camera_ids),
                retired=False,
                state="unknown",
            )
            session.add(sensor)
            public = sensor_public(sensor)
        self._config_changed(body.gateway_id)
        return public

    def update_sensor(self, device_id: str, body: SensorUpdate) -> SensorPublic:
        with self.db.session() as session:
            sensor = self._device(session, Sensor, device_id)
            if body.kind is not None or body.vendor is not None:
                # A new kind without a vendor starts from its default vendor again.
                sensor.kind = body.kind or sensor.kind
                sensor.vendor = sensor_vendor(sensor.kind, body.vendor)
            if body.area_code is not None:
                sensor.area_id = area_id_of(session, body.area_code)
            if body.location is not None:
                sensor.latitude, sensor.longitude = body.location.lat, body.location.lon
            if body.linked_camera_ids is not None:
                self._check_cameras(session, body.linked_camera_ids)
                sensor.linked_camera_ids = list(body.linked_camera_ids)
            public, gateway_id = sensor_public(sensor), sensor.gateway_id
        self._config_changed(gateway_id)
        return public

    def list_sensors(self, gateway_id: str | None = None) -> list[SensorPublic]:
        query = select(Sensor).order_by(Sensor.device_id)
        if gateway_id is not None:
            query = query.where(Sensor.gateway_id == gateway_id)
        with self.db.session() as session:
            return [sensor_public(s) for s in session.scalars(query)]

    def retire_device(self, model: type[Camera] | type[Sensor], device_id: str) -> None:
        with self.db.session() as session:
            device = self._device(session, model, device_id)
            device.retired = True
            gateway_id = device.gateway_id
        self._config_changed(gateway_id)

    # -- gateway configuration ------------------------------------------------------------------------

    def gateway_config(self, gateway_id: str, *, for_person: bool = False) -> GatewayConfig:
        """The configuration a gateway runs: its live cameras and sensors, stream credentials sealed for the
        gateway, or redacted ``for_person``."""
        with self.db.session() as session:
            gateway = self._gateway(session, gateway_id)
            key = None if for_person else self._seal_key(gateway)
            return gateway_config_of(session, gateway, self.sealer, self.clock.now(), key, for_person)

    def _seal_key(self, gateway: Gateway) -> bytes | None:
        """The key a gateway's configuration secrets are sealed with: from its registered password; for a
        hub on the development account, from the development password its gateways share (a development
        broker keeps nothing secret from anyone holding that account anyway)."""
        if self.hub_account.generated:
            return gateway_key(gateway.gateway_id, DEV_PASSWORD)
        if gateway.config_key_encrypted is None:
            return None
        return self.sealer.open(gateway.config_key_encrypted).encode("ascii")

    def _config_changed(self, gateway_id: str) -> None:
        with self.db.session() as session:
            self._gateway(session, gateway_id).config_revision += 1
        if self.publish_config is not None:
            self.publish_config(self.gateway_config(gateway_id))

    # -- lookups --------------------------------------------------------------------------------------

    @staticmethod
    def _gateway(session: Session, gateway_id: str, live: bool = False) -> Gateway:
        gateway = session.get(Gateway, gateway_id)
        if gateway is None:
            raise NotFound(f"gateway {gateway_id!r} is not registered")
        if live and gateway.retired:
            raise Conflict(f"gateway {gateway_id!r} is retired: register devices on a live gateway")
        return gateway

    @staticmethod
    def _device(session: Session, model: type[Any], device_id: str) -> Any:
        device = session.get(model, device_id)
        if device is None:
            raise NotFound(f"{model.__tablename__[:-1]} {device_id!r} is not registered")
        return device

    @staticmethod
    def _check_cameras(session: Session, camera_ids: tuple[str, ...]) -> None:
        missing = [c for c in camera_ids if session.get(Camera, c) is None]
        if missing:
            raise Invalid(f"linked_camera_ids: cameras {missing} are not registered")
