"""SensorReader through real brokers: alarm, clear, repeats folded, heartbeat expiry, last will, fuzz."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from broker.launcher import RunningBroker
from edge.outbox import Outbox, OutboxConfig
from edge.publisher import AlertPublisher
from edge.sensors.reader import ReaderConfig, SensorReader
from edge.sensors.registry import registry_from_data
from kernel.contracts import topics
from kernel.contracts.messages import AlertEvent, AlertType, GatewayStatus, Phase, decode
from kernel.mqtt import Message, MqttClient
from kernel.settings import MqttSettings
from tests.waiting import wait_until

GW = "gw-sensors"


class Events:
    """Every AlertEvent the gateway publishes, in arrival order."""

    def __init__(self, settings: MqttSettings) -> None:
        self.items: list[AlertEvent] = []
        self._cond = threading.Condition()
        self.client = MqttClient(settings)
        self.client.subscribe(topics.all_events(GW), self._on)
        self.client.connect()

    def _on(self, message: Message) -> None:
        with self._cond:
            self.items.append(decode(AlertEvent, message.payload, topic=message.topic))
            self._cond.notify_all()

    def wait(self, count: int, timeout_s: float = 15.0) -> list[AlertEvent]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.items) >= count, timeout_s)
            return list(self.items)


@dataclass
class Gateway:
    reader: SensorReader
    publisher: AlertPublisher
    events: Events
    device: MqttClient

    def send(self, device_id: str, payload: bytes | str, *, status: bool = False) -> None:
        topic = topics.sensor_status(GW, device_id) if status else topics.sensor_up(GW, device_id)
        self.device.publish(topic, payload.encode() if isinstance(payload, str) else payload, qos=1)


def _smoke(device_id: str, state: str) -> str:
    return json.dumps({"id": device_id, "st": state, "bat": 80, "tmp": 0, "err": 0, "t": 1_795_835_000})


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator:
    started: list[Gateway] = []

    def make(broker: RunningBroker, sensors: list[dict], **config: object) -> Gateway:
        settings = MqttSettings(host=broker.host, port=broker.port)
        events = Events(settings)
        client = MqttClient(settings)
        client.connect()
        outbox = Outbox(OutboxConfig(path=tmp_path / f"outbox-{len(started)}.sqlite", fsync=False))
        publisher = AlertPublisher(client, outbox, GW).start()
        registry = registry_from_data(sensors, source="test")
        reader = SensorReader(settings, GW, registry, publisher, ReaderConfig(**config)).start()
        device = MqttClient(settings)
        device.connect()
        gateway = Gateway(reader, publisher, events, device)
        started.append(gateway)
        return gateway

    yield make
    for g in started:
        g.device.close()
        g.reader.stop()
        g.publisher.stop()
        g.publisher._client.close()  # noqa: SLF001 - test teardown of the client it was given
        g.events.client.close()


def test_alarm_repeat_clear(broker: RunningBroker, gateway_factory) -> None:
    gw = gateway_factory(broker, [{"device_id": "sd-1", "kind": "smoke_detector", "vendor": "acme",
                                   "linked_camera_ids": ["cam-7"]}])
    for state in ["NORMAL", "TEST", "ALARM", "ALARM", "ALARM", "NORMAL"]:
        gw.send("sd-1", _smoke("sd-1", state))
    got = gw.events.wait(2)
    assert [(e.alert_type, e.phase, e.source_id) for e in got] == [
        (AlertType.SMOKE_ALARM, Phase.START, "sd-1"), (AlertType.SMOKE_ALARM, Phase.END, "sd-1")]
    assert got[1].episode_id == got[0].event_id
    assert got[0].detail.linked_camera_ids == ("cam-7",)  # type: ignore[union-attr]
    assert gw.publisher.flush(5) and gw.reader.stats().processor.accepted == 6


def test_heartbeat_expiry_and_return(mosquitto_broker: RunningBroker, gateway_factory) -> None:
    gw = gateway_factory(mosquitto_broker, [
        {"device_id": "mh-1", "kind": "manhole_cover", "vendor": "covertech", "heartbeat_expiry_s": 1.0}],
        tick_interval_s=0.1)
    (offline,) = gw.events.wait(1)
    assert (offline.alert_type, offline.phase) == (AlertType.SENSOR_OFFLINE, Phase.START)
    assert offline.source_id == "mh-1"
    assert offline.detail.parent_gateway_id == GW  # type: ignore[union-attr]
    # Stamped by the same wall clock the running reader uses: a fixed date here would make the test depend on
    # the day it runs (the reader rejects stamps more than a day ahead of its clock).
    gw.send("mh-1", f"id=mh-1;ang=1.0;open=0;lvl_mm=50;bat=90;tmp=0;t={time.time():.0f}")
    back = gw.events.wait(2)[1]
    assert (back.alert_type, back.phase) == (AlertType.SENSOR_OFFLINE, Phase.END)
    assert back.episode_id == offline.episode_id


def test_gateway_last_will(mosquitto_broker: RunningBroker, tmp_path: Path) -> None:
    """A standalone reader process killed hard: the broker publishes its retained OFFLINE status."""
    registry = tmp_path / "sensors.yaml"
    registry.write_text("sensors:\n  - {device_id: sd-1, kind: smoke_detector}\n")
    settings = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    statuses: list[GatewayStatus] = []
    seen = threading.Condition()

    def on_status(message: Message) -> None:
        with seen:
            statuses.append(decode(GatewayStatus, message.payload, topic=message.topic))
            seen.notify_all()

    watcher = MqttClient(settings)
    watcher.subscribe(topics.gateway_status(GW), on_status)
    watcher.connect()
    env = dict(os.environ, GRIDWATCH_MQTT_HOST=settings.host, GRIDWATCH_MQTT_PORT=str(settings.port))
    log_path = tmp_path / "reader.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gridwatch"), "sensors", "run", "--registry", str(registry),
             "--gateway-id", GW, "--outbox", str(tmp_path / "outbox.sqlite")],
            env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    try:
        with seen:
            assert seen.wait_for(lambda: any(s.state == "online" for s in statuses), 30), log_path.read_text()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        with seen:
            assert seen.wait_for(lambda: statuses[-1].state == "offline", 30)
        assert statuses[-1].reason == "last will" and statuses[-1].gateway_id == GW
    finally:
        process.kill()
        watcher.close()


def _bad_messages(rng: random.Random, count: int) -> Iterator[tuple[str, bytes, str]]:
    """(device_id or raw topic, payload, expected reject reason)."""
    kinds = [
        ("sd-{n}", b"{not json", "malformed"),
        ("sd-{n}", b'{"id":"sd-{n}","st":"ALARM","bat":"full","t":1}', "wrong_type"),
        ("sd-{n}", b'{"id":"sd-{n}","bat":50,"t":1}', "missing_field"),
        ("sd-{n}", b'{"id":"sd-{n}","st":"ALARM","bat":-5,"t":1}', "out_of_range"),
        ("mh-{n}", b"id=mh-{n};ang=720;open=1;t=1", "out_of_range"),
        ("sd-{n}", b"x" * 9000, "oversized"),
        ("ghost-{n}", b'{"id":"ghost","st":"ALARM","t":1}', "unknown_device"),
        ("bad id {n}", b"{}", "bad_topic"),
        ("sd-{n}", b'{"id":"sd-999999","st":"ALARM","t":1}', "device_mismatch"),
        ("sd-{n}", bytes(rng.randrange(256) for _ in range(40)), "malformed"),
    ]
    for _ in range(count):
        device, payload, reason = rng.choice(kinds)
        n = str(rng.randrange(20))
        yield device.replace("{n}", n), payload.replace(b"{n}", n.encode()), reason


def test_fuzz_every_good_alarm_arrives_exactly_once(broker: RunningBroker, gateway_factory) -> None:
    rng = random.Random(4)
    sensors = [{"device_id": f"sd-{n}", "kind": "smoke_detector", "vendor": "acme"} for n in range(20)]
    sensors += [{"device_id": f"mh-{n}", "kind": "manhole_cover", "vendor": "covertech"} for n in range(20)]
    gw = gateway_factory(broker, sensors)
    bad = list(_bad_messages(rng, 1500))
    good: list[tuple[str, str]] = []
    for n in range(20):  # each smoke detector: quiet, alarm twice, clear -> exactly one START and one END
        good += [(f"sd-{n}", _smoke(f"sd-{n}", s)) for s in ("NORMAL", "ALARM", "ALARM", "NORMAL")]
    # interleave, keeping each device's good messages in order
    stream: list[tuple[str, bytes | str, str | None]] = [(d, p, r) for d, p, r in bad]
    for device_id, payload in good:
        stream.insert(rng.randrange(len(stream) + 1), (device_id, payload, None))
    # random insertion scrambles one device's messages: put each device's good messages back in order
    in_order = {d: iter([(d, p, None) for dd, p in good if dd == d]) for d, _ in good}
    stream = [next(in_order[item[0]]) if item[2] is None else item for item in stream]
    for device_id, payload, _ in stream:
        gw.device.publish(f"gridwatch/{GW}/sensors/{device_id}/up",
                          payload.encode() if isinstance(payload, str) else payload, qos=1)
    got = gw.events.wait(40, timeout_s=30)
    assert gw.publisher.flush(10)
    starts = sorted(e.source_id for e in got if e.phase is Phase.START)
    ends = sorted(e.source_id for e in got if e.phase is Phase.END)
    assert starts == ends == sorted(f"sd-{n}" for n in range(20))
    assert len({e.event_id for e in got}) == len(got) == 40
    expected: dict[str, int] = {}
    for _, _, reason in bad:
        expected[reason] = expected.get(reason, 0) + 1
    # the tail of bad messages after the last alarm may still be queued
    stats = wait_until(lambda: gw.reader.stats().processor, 20,
                       until=lambda s: s.accepted + sum(s.rejected.values()) >= len(stream))
    assert stats.rejected == expected
    assert stats.accepted == len(good)



class SlowPublisher:
    """Stands in for AlertPublisher: blocks on the first alert until released, to fill the reader's queue."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.alerts: list[AlertEvent] = []

    def publish_many(self, alerts: list[AlertEvent]) -> int:
        self.release.wait(30)
        self.alerts.extend(alerts)
        return len(alerts)


def test_full_queue_applies_backpressure_and_loses_nothing(mosquitto_broker: RunningBroker) -> None:
    from prometheus_client import CollectorRegistry

    from edge.sensors.reader import SensorMetrics

    prometheus = CollectorRegistry()  # the edge worker hands in its own registry the same way
    settings = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    sensors = [{"device_id": f"sd-{n}", "kind": "smoke_detector", "vendor": "acme"} for n in range(50)]
    slow = SlowPublisher()
    reader = SensorReader(settings, GW, registry_from_data(sensors, source="test"), slow,  # type: ignore[arg-type]
                          ReaderConfig(queue_size=10), metrics=SensorMetrics(prometheus)).start()
    device = MqttClient(settings)
    device.connect()
    try:
        device.publish(topics.sensor_up(GW, "sd-0"), _smoke("sd-0", "ALARM").encode())  # worker blocks on it
        for n in range(50):
            for state in ("NORMAL", "ALARM", "ALARM"):
                device.publish(topics.sensor_up(GW, f"sd-{n}"), _smoke(f"sd-{n}", state).encode())
        wait_until(reader.stats, 20, until=lambda s: s.backpressure_waits > 0, what="the full queue to hold back")
        slow.release.set()
        wait_until(reader.stats, 20, until=lambda s: s.processor.accepted >= 151, what="151 messages accepted")
        starts = [a.source_id for a in slow.alerts if a.phase is Phase.START]
        # sd-0: ALARM (start), NORMAL (end), ALARM (start again); every other detector starts once
        assert sorted(starts) == sorted(["sd-0"] + [f"sd-{n}" for n in range(50)])
    finally:
        slow.release.set()
        device.close()
        reader.stop()
    accepted = prometheus.get_sample_value("gridwatch_sensor_messages_total",
                                           {"gateway_id": GW, "outcome": "accepted"})
    assert accepted == 151
    assert (prometheus.get_sample_value("gridwatch_sensor_backpressure_total", {"gateway_id": GW}) or 0) >= 1
