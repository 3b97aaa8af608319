"""AlertPublisher through real brokers: outbox first, in order, once each, across a broker restart."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.launcher import BrokerKind, BrokerSettings, RunningBroker, start_broker
from edge.outbox import Outbox, OutboxConfig
from edge.publisher import AlertPublisher
from kernel.contracts import topics
from kernel.contracts.messages import (
    AlertEvent,
    AlertType,
    Phase,
    SensorEventDetail,
    Severity,
    SourceKind,
    decode,
    new_event_id,
    utc_now,
)
from kernel.mqtt import Message, MqttClient
from kernel.settings import MqttSettings
from tests.conftest import wait_until

GW = "gw-pub"


def _alert(n: int) -> AlertEvent:
    event_id = new_event_id()
    now = utc_now()
    return AlertEvent(
        event_id=event_id, episode_id=event_id, phase=Phase.START, gateway_id=GW,
        source_kind=SourceKind.SENSOR, source_id=f"smoke-{n:03d}", alert_type=AlertType.SMOKE_ALARM,
        severity=Severity.CRITICAL, observed_ts=now, emitted_ts=now, title=f"smoke {n}",
        detail=SensorEventDetail(device_kind="smoke", alarm_id="smoke", readings={"n": n}),
    )


class Collector:
    """Subscribes to the gateway's events and records every arrival, duplicates included."""

    def __init__(self, settings: MqttSettings, client_id: str | None = None, durable: bool = False) -> None:
        self.received: list[AlertEvent] = []
        self._cond = threading.Condition()
        self.client = MqttClient(settings, client_id, clean_session=not durable)
        self.client.subscribe(topics.all_events(GW), self._on)
        self.client.connect()

    def _on(self, message: Message) -> None:
        alert = decode(AlertEvent, message.payload, topic=message.topic)
        assert message.topic == topics.events(GW, "sensor")
        with self._cond:
            self.received.append(alert)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout_s: float = 20.0) -> list[AlertEvent]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.received) >= count, timeout_s)
            return list(self.received)

    def settle(self) -> None:
        """Return once the broker has processed this client's acknowledgements of all it received so far.

        The broker reads a connection's packets in order, so a publish it acknowledged was read after every
        PUBACK sent before it. Two round trips: the first one's answer is read by the network thread only after
        it finished the messages before it (and queued their PUBACKs), so the second one follows them all.
        """
        for _ in range(2):
            assert self.client.publish("gridwatch/test/settle", b"", wait_s=5)


def test_publishes_in_order_exactly_once(broker: RunningBroker, tmp_path: Path) -> None:
    settings = MqttSettings(host=broker.host, port=broker.port)
    collector = Collector(settings)
    client = MqttClient(settings)
    client.connect()
    outbox = Outbox(OutboxConfig(path=tmp_path / "o.sqlite", fsync=False))
    publisher = AlertPublisher(client, outbox, GW).start()
    alerts = [_alert(n) for n in range(50)]
    for alert in alerts:
        assert publisher.publish(alert)
    assert not publisher.publish(alerts[3]), "same event id twice is stored once"
    assert publisher.flush(10)
    got = collector.wait_for(50)
    assert [a.event_id for a in got] == [a.event_id for a in alerts]
    counters = publisher.counters()
    assert (counters.sent, counters.pending) == (50, 0)
    stats = publisher.stats()
    assert (stats.emitted, stats.stored, stats.duplicates, stats.sent, stats.pending) == (51, 50, 1, 50, 0)
    assert wait_until(lambda: publisher.stats().unmarked == 0, 5)  # the last ack's mark may still be running
    assert stats.dropped == {"outbox_full": 0, "evicted": 0, "outbox_error": 0}
    assert not any(stats.outbox_errors.values())
    publisher.stop()
    client.close()
    collector.client.close()


def test_broker_outage_loses_and_duplicates_nothing(tmp_path: Path, port: int) -> None:
    from broker.launcher import mosquitto_binary

    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    broker_settings = BrokerSettings(port=port, data_dir=tmp_path / "broker", kind=BrokerKind.MOSQUITTO)
    broker = start_broker(broker_settings)
    settings = MqttSettings(host=broker.host, port=broker.port)
    # A durable subscriber session (persisted by Mosquitto across the restart) so nothing published
    # before it reconnects is missed by the test itself.
    collector = Collector(settings, client_id="outage-collector", durable=True)
    client = MqttClient(settings)
    client.connect()
    outbox = Outbox(OutboxConfig(path=tmp_path / "o.sqlite"))
    publisher = AlertPublisher(client, outbox, GW).start()
    alerts = [_alert(n) for n in range(60)]
    try:
        for alert in alerts[:20]:
            publisher.publish(alert)
        assert publisher.flush(10)
        assert len(collector.wait_for(20)) == 20
        # The collector's own PUBACKs reach Mosquitto first: a message the broker persisted as
        # unacknowledged to the collector is redelivered after the restart (the broker's at-least-once,
        # not the publisher's).
        collector.settle()
        broker.stop()
        for alert in alerts[20:50]:
            publisher.publish(alert)  # broker down: durable in the outbox
        assert publisher.counters().pending == 30
        broker = start_broker(broker_settings)
        for alert in alerts[50:]:
            publisher.publish(alert)
        assert publisher.flush(30)
        got = collector.wait_for(60, timeout_s=30)
        assert [a.event_id for a in got] == [a.event_id for a in alerts]
        assert publisher.counters().sent == 60
    finally:
        publisher.stop()
        client.close()
        collector.client.close()
        broker.stop()


def test_outbox_survives_a_publisher_restart(mosquitto_broker: RunningBroker, tmp_path: Path) -> None:
    settings = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    outbox_path = tmp_path / "o.sqlite"
    offline = MqttClient(MqttSettings(host="127.0.0.1", port=1))  # never connects
    first = AlertPublisher(offline, Outbox(OutboxConfig(path=outbox_path)), GW).start()
    alerts = [_alert(n) for n in range(5)]
    for alert in alerts:
        first.publish(alert)
    first.stop()
    collector = Collector(settings)
    client = MqttClient(settings)
    client.connect()
    second = AlertPublisher(client, Outbox(OutboxConfig(path=outbox_path)), GW).start()
    assert second.flush(10)
    assert [a.event_id for a in collector.wait_for(5)] == [a.event_id for a in alerts]
    second.stop()
    client.close()
    collector.client.close()


def test_offline_publisher_holds_everything_and_refuses_loudly_when_full(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    offline = MqttClient(MqttSettings(host="127.0.0.1", port=1))  # never connects: the drainer waits
    outbox = Outbox(OutboxConfig(path=tmp_path / "o.sqlite", max_items=2))
    publisher = AlertPublisher(offline, outbox, GW).start()
    try:
        assert publisher.publish(_alert(0)) and publisher.publish(_alert(1))
        start = _alert(2)
        update = AlertEvent.model_validate({**start.model_dump(by_alias=True), "event_id": new_event_id(),
                                            "phase": Phase.UPDATE})
        assert not publisher.publish(update), "an UPDATE is refused when full of alarms"
        with caplog.at_level(logging.WARNING, logger="edge.outbox"):
            assert not publisher.publish(start), "a critical alarm evicts no other critical alarm"
        assert "refused" in caplog.text
        assert not publisher.flush(0.3)
        counters = publisher.counters()
        assert (counters.sent, counters.pending, counters.refused) == (0, 2, 2)
        stats = publisher.stats()
        assert (stats.emitted, stats.stored, stats.pending) == (4, 2, 2)
        assert stats.dropped == {"outbox_full": 2, "evicted": 0, "outbox_error": 0}
    finally:
        publisher.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of its own: a disk that really fills up (needs root; skipped where mounting fails)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the full-disk test needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 4 MiB tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_counts_what_it_drops_and_resends_nothing_after_a_restart(
        small_disk: Path, mosquitto_broker: RunningBroker) -> None:
    settings = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    collector = Collector(settings)
    client = MqttClient(settings)
    client.connect()
    config = OutboxConfig(path=small_disk / "outbox.sqlite", fsync=False, reserve_bytes=256 * 1024)
    publisher = AlertPublisher(client, Outbox(config), GW).start()
    ballast = small_disk / "ballast"
    with open(ballast, "wb") as f:  # the rest of the disk, less 128 KiB
        os.posix_fallocate(f.fileno(), 0, shutil.disk_usage(small_disk).free - 128 * 1024)
    accepted: list[str] = []
    emitted = 0
    try:
        while publisher.stats().dropped["outbox_error"] < 5 and emitted < 5000:
            alert = _alert(emitted)
            emitted += 1
            if publisher.publish(alert):  # never raises: the caller's thread survives a full disk
                accepted.append(alert.event_id)
        stats = publisher.stats()
        assert stats.dropped["outbox_error"] == 5, "the disk never filled up"
        assert stats.outbox_errors["disk_full"] >= 5
        assert stats.emitted == emitted == stats.stored + stats.dropped["outbox_error"]
        assert stats.stored == len(accepted) > 0
        assert publisher.flush(20)
        assert wait_until(lambda: publisher.stats().unmarked == 0, 10), "acks recorded on the full disk"
        assert publisher.stats().sent == len(accepted)
    finally:
        publisher.stop()
    ballast.unlink()
    second = AlertPublisher(client, Outbox(config), GW).start()
    sentinel = _alert(9999)
    try:
        assert second.publish(sentinel)
        assert second.flush(10)
        got = [a.event_id for a in collector.wait_for(len(accepted) + 1)]
        assert got == [*accepted, sentinel.event_id], "in order, once each: nothing sent again after restart"
    finally:
        second.stop()
        client.close()
        collector.client.close()
