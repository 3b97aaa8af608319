"""The same pub/sub cases against real Mosquitto and the embedded broker (the `broker` fixture runs both)."""

from __future__ import annotations

import queue
import socket

import pytest
from pydantic import SecretStr

from broker.errors import BrokerError
from broker.launcher import BrokerKind, BrokerSettings, RunningBroker, start_broker
from kernel.contracts import messages as m
from kernel.contracts import topics
from kernel.errors import TransportError
from kernel.mqtt import Message, MqttClient, Will
from kernel.settings import MqttSettings

pytestmark = pytest.mark.integration


def _collector(client: MqttClient, topic_filter: str, qos: int = 1) -> queue.Queue[Message]:
    inbox: queue.Queue[Message] = queue.Queue()
    client.subscribe(topic_filter, inbox.put, qos=qos)
    return inbox


@pytest.fixture
def clients(mqtt_settings: MqttSettings):
    made: list[MqttClient] = []

    def make(**kwargs: object) -> MqttClient:
        client = MqttClient(mqtt_settings, **kwargs)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.mark.parametrize("qos", [0, 1])
def test_publish_reaches_subscriber(clients, qos: int) -> None:
    sub = clients()
    inbox = _collector(sub, topics.all_events(), qos=qos)
    sub.connect()
    pub = clients()
    pub.connect()
    assert pub.publish(topics.events("gw-1", "sensor"), b"hello", qos=qos, wait_s=5)
    message = inbox.get(timeout=5)
    assert (message.topic, message.payload) == ("gridwatch/gw-1/events/sensor", b"hello")


def test_qos1_messages_arrive_in_order(clients) -> None:
    sub = clients()
    inbox = _collector(sub, topics.all_events())
    sub.connect()
    pub = clients()
    pub.connect()
    for i in range(50):
        pub.publish(topics.events("gw-1", "camera"), str(i).encode(), qos=1)
    assert pub.publish(topics.events("gw-1", "camera"), b"end", qos=1, wait_s=5)
    got = [inbox.get(timeout=5).payload for _ in range(51)]
    assert got == [str(i).encode() for i in range(50)] + [b"end"]


def test_a_later_subscription_also_gets_topics_already_routed(clients) -> None:
    """Handlers are remembered per topic; a new subscription must still see messages on a known topic."""
    sub = clients()
    events = _collector(sub, topics.all_events())
    sub.connect()
    pub = clients()
    pub.connect()
    topic = topics.events("gw-1", "camera")
    assert pub.publish(topic, b"first", qos=1, wait_s=5)
    assert events.get(timeout=5).payload == b"first"
    cameras = _collector(sub, "gridwatch/+/events/camera")
    sensors = _collector(sub, "gridwatch/+/events/sensor")
    assert pub.publish(topic, b"second", qos=1, wait_s=5)
    assert events.get(timeout=5).payload == b"second"
    assert cameras.get(timeout=5).payload == b"second"
    assert sensors.empty()


def test_retained_status_is_delivered_to_late_subscribers(clients) -> None:
    pub = clients()
    pub.connect()
    status = m.GatewayStatus(gateway_id="gw-1", state=m.Availability.ONLINE, ts=m.utc_now())
    assert pub.publish(topics.gateway_status("gw-1"), m.encode(status), retain=True, wait_s=5)
    late = clients()
    inbox = _collector(late, topics.all_gateway_status())
    late.connect()
    message = inbox.get(timeout=5)
    assert message.retain
    assert m.decode(m.GatewayStatus, message.payload).state is m.Availability.ONLINE


def test_last_will_announces_a_vanished_gateway(clients, mqtt_settings: MqttSettings) -> None:
    watcher = clients()
    inbox = _collector(watcher, topics.all_gateway_status())
    watcher.connect()
    offline = m.GatewayStatus(gateway_id="gw-lw", state=m.Availability.OFFLINE, ts=m.utc_now(), reason="last will")
    gateway = MqttClient(mqtt_settings, "gw-lw", will=Will(topics.gateway_status("gw-lw"), m.encode(offline)))
    gateway.connect()
    # Kill the socket without a DISCONNECT packet, as a power cut would.
    sock = gateway._client.socket()  # noqa: SLF001 - simulating an abrupt network loss
    assert sock is not None
    gateway._client.loop_stop()  # noqa: SLF001
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    message = inbox.get(timeout=10)
    assert message.topic == "gridwatch/gw-lw/status"
    assert m.decode(m.GatewayStatus, message.payload).reason == "last will"


def test_wrong_password_and_anonymous_are_refused(broker: RunningBroker) -> None:
    for settings in (
        MqttSettings(host=broker.host, port=broker.port, password=SecretStr("wrong")),
        MqttSettings(host=broker.host, port=broker.port, username=None, password=None),
    ):
        with pytest.raises(TransportError, match="refused"):
            MqttClient(settings).connect(timeout_s=5)


def test_port_in_use_gives_one_line_reason(broker: RunningBroker, tmp_path) -> None:
    with pytest.raises(BrokerError, match=rf"{broker.port} is already in use.*--port"):
        start_broker(BrokerSettings(port=broker.port, data_dir=tmp_path / "again", kind=BrokerKind.EMBEDDED))


def test_unreachable_broker_is_a_transport_error(port: int) -> None:
    with pytest.raises(TransportError, match=f"127.0.0.1:{port}"):
        MqttClient(MqttSettings(port=port)).connect(timeout_s=3)


def test_subscriptions_are_active_when_connect_returns(clients) -> None:
    """connect() returns once the broker has acknowledged every subscription made before it.

    Before, connect() returned on CONNACK, before the SUBSCRIBE packets had even been sent: a message published
    right after could reach the broker first and be lost (seen as a flaky ordering test under load)."""
    sub = clients()
    inboxes = [_collector(sub, topics.events(f"gw-{n}", "camera")) for n in range(300)]
    sub.connect()
    pub = clients()
    pub.connect()
    assert pub.publish(topics.events("gw-299", "camera"), b"first", qos=1, wait_s=5)
    assert inboxes[-1].get(timeout=5).payload == b"first"
