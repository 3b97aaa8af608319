"""A hostile gateway against a production Mosquitto running on exactly the files the hub writes: it cannot take
over a hub session by its client id, cannot divert alerts by joining the hub's shared group, and a gateway
registered while the broker runs can connect at once (the hub makes the broker reload its files)."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from broker.launcher import mosquitto_binary
from central.db.models import Alert
from central.hub import Hub
from central.schemas import GatewayCreate
from gridwatch.cli.hub_cmd import ingest_settings
from kernel.contracts import topics
from kernel.contracts.messages import encode
from kernel.errors import TransportError
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.broker.prodkit import ProductionBroker, start_production_broker, tls_material
from tests.central.hubkit import event, make_settings
from tests.conftest import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed"),
]
HUB_PASSWORD = "hub-password-for-tests"
ALERTS = 40


@dataclass
class Site:
    worker: Hub  # an ingest worker of the shared group, as `gridwatch hub --ingest-only --worker-name w1` runs
    broker: ProductionBroker
    passwords: dict[str, str]

    def mqtt(self, user: str, password: str | None = None) -> MqttSettings:
        return MqttSettings(host="localhost", port=self.broker.port, username=user,
                            password=SecretStr(password or self.passwords[user]), tls_ca_file=self.broker.cafile)

    def stored_alerts(self) -> int:
        with self.worker.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Alert)) or 0)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    port, cert, key = tls_material(tmp_path)
    settings = make_settings(
        tmp_path, None, mqtt_enabled=True, broker_pid_file=tmp_path / "mosquitto.pid",
        mqtt=MqttSettings(host="localhost", port=port, username="hub", password=SecretStr(HUB_PASSWORD),
                          tls_ca_file=cert),
        ingest=ingest_settings(ingest_only=True, worker_name="w1", auto_register=True),
    )
    worker = Hub(settings)
    passwords = {
        gw: worker.registry.create_gateway(GatewayCreate(gateway_id=gw)).mqtt_password for gw in ("gw-1", "gw-2")
    }
    auth = settings.data_dir / "mosquitto"
    broker = start_production_broker(tmp_path, auth / "passwd", auth / "acl", port=port, cert_key=(cert, key))
    worker.start()
    try:
        assert worker.mqtt is not None and worker.mqtt.client.wait_connected(10), broker.log.read_text()
        yield Site(worker, broker, passwords)
    finally:
        worker.stop()
        broker.stop()


def test_a_gateway_can_neither_take_over_hub_sessions_nor_join_the_hubs_shared_group(site: Site) -> None:
    stolen: queue.Queue[str] = queue.Queue()
    attackers = []
    # gw-2 tries every client id a hub process uses or used, with a persistent session, and subscribes to
    # the hub's shared group by its public name.
    for client_id in ("gridwatch-hub", "gridwatch-hub-ingest-w1", "hub@w1", "hub"):
        attacker = MqttClient(site.mqtt("gw-2"), client_id, clean_session=False)
        attacker.subscribe(topics.shared("hub", topics.all_events()), lambda m: stolen.put(m.topic))
        attacker.connect()
        attackers.append(attacker)
    gateway = MqttClient(site.mqtt("gw-1"), "edge-gw-1")
    gateway.connect()
    try:
        for n in range(ALERTS):
            assert gateway.publish(topics.events("gw-1", "camera"), encode(event(f"cam-{n % 3}")), wait_s=5)
        assert wait_until(lambda: site.stored_alerts() == ALERTS, 30), f"{site.stored_alerts()} of {ALERTS} stored"
        log = site.broker.log.read_text()
        assert "hub@w1 already connected" not in log, "a gateway's connection closed the hub worker's session"
        assert site.worker.mqtt is not None and site.worker.mqtt.client.connected
        assert stolen.empty()
    finally:
        gateway.close()
        for attacker in attackers:
            attacker.close()


def test_a_gateway_registered_while_the_broker_runs_connects_without_a_restart(site: Site) -> None:
    password = site.worker.registry.create_gateway(GatewayCreate(gateway_id="gw-new")).mqtt_password
    newcomer = MqttClient(site.mqtt("gw-new", password), "edge-gw-new")

    def connects() -> bool:
        try:
            newcomer.connect(timeout_s=5)
        except TransportError:
            return False
        return True

    try:
        assert wait_until(connects, 10), "the broker never admitted the newly registered gateway"
    finally:
        newcomer.close()
