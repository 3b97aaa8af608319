"""The MQTT seam: the only module that imports paho-mqtt. A small publish/subscribe client for edge and hub."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from kernel.errors import TransportError
from kernel.settings import MqttSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """A received message: topic, raw payload, and how it was sent."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int = 0


@dataclass(frozen=True, slots=True)
class Will:
    """The last will the broker publishes if this client vanishes without a clean disconnect."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


Handler = Callable[[Message], None]


class Delivery:
    """One QoS 1 message handed to the client: wait for the broker's ack without ever publishing it twice.

    paho keeps an unacknowledged message and re-sends it by itself after a reconnect (even one handed over
    while disconnected), so a caller that wants "none duplicated" waits on this handle again instead of
    publishing the same payload a second time.
    """

    __slots__ = ("_info",)

    def __init__(self, info: paho.MQTTMessageInfo) -> None:
        self._info = info

    @property
    def queued(self) -> bool:
        """False when the client refused the message outright (its queue was full); publish it again later."""
        return self._info.rc != paho.MQTT_ERR_QUEUE_SIZE

    def wait(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` for the broker's ack; True once acknowledged."""
        if not self.queued:
            return False
        # wait_for_publish() raises when rc is NO_CONN although paho still holds the message and will send it
        # on reconnect, so wait on its condition directly.
        info = self._info
        with info._condition:  # noqa: SLF001 - paho's own wait primitive; this module owns the paho boundary
            return bool(info._condition.wait_for(lambda: info._published, timeout_s))  # noqa: SLF001


class MqttClient:
    """One broker connection with automatic reconnect and a background network thread.

    MQTT 3.1.1, which Mosquitto and the embedded broker both speak.

    Subscriptions are remembered and renewed on every (re)connect, so a broker restart is invisible to
    callers apart from the gap. Handlers run on the network thread: they must be quick and must not raise
    (exceptions are logged and swallowed so one bad message never kills the connection).
    """

    def __init__(self, settings: MqttSettings, client_id: str | None = None, *, will: Will | None = None,
                 clean_session: bool = True, manual_ack: bool = False) -> None:
        self._settings = settings
        self.client_id = client_id or f"gridwatch-{uuid.uuid4().hex[:12]}"
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                   protocol=paho.MQTTv311, clean_session=clean_session,
                                   reconnect_on_failure=True, manual_ack=manual_ack)
        if settings.username is not None:
            password = settings.password.get_secret_value() if settings.password else None
            self._client.username_pw_set(settings.username, password)
        if settings.tls_ca_file is not None:
            self._client.tls_set(ca_certs=str(settings.tls_ca_file))
        if will is not None:
            self._client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.max_inflight_messages_set(100)
        self._client.max_queued_messages_set(0)
        self._subscriptions: dict[str, tuple[int, Handler]] = {}
        # topic -> its handlers, so a stream of messages on a few topics skips the filter matching (paho's
        # topic_matches_sub builds a matcher tree per call: a third of the network thread at hub ingest rates).
        self._routes: dict[str, tuple[Handler, ...]] = {}
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._refusal: str | None = None
        self._first_connect = threading.Event()
        self.on_connect: Callable[[], None] | None = None
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._client.on_subscribe = self._handle_subscribe
        self._client.on_connect_fail = self._handle_connect_fail
        self._connect_failures = 0  # attempts that failed (no TCP connection, or the broker refused us)
        # SUBACKs still owed for the subscriptions renewed at the last connect: connect() returns only when
        # they have come (or its timeout ran out), so a message published right after is not missed.
        self._suback = threading.Condition()
        self._pending_subacks: set[int] = set()

    # -- lifecycle -------------------------------------------------------------------------------

    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect and start the network thread; raise TransportError if the broker says no or is absent."""
        s = self._settings
        try:
            self._client.connect(s.host, s.port, keepalive=s.keepalive_s)
        except OSError as exc:
            raise TransportError(f"cannot reach MQTT broker at {s.host}:{s.port}: {exc}") from exc
        self._client.loop_start()
        if not self._first_connect.wait(timeout_s):
            self._client.loop_stop()
            raise TransportError(f"MQTT broker at {s.host}:{s.port} did not answer within {timeout_s:.0f} s")
        if self._refusal is not None:
            self._client.loop_stop()
            reason = self._refusal
            raise TransportError(f"MQTT broker at {s.host}:{s.port} refused the connection: {reason}")
        with self._suback:
            if not self._suback.wait_for(lambda: not self._pending_subacks, timeout_s):
                log.warning("MQTT broker at %s:%s did not acknowledge %d subscription(s) within %.0f s",
                            s.host, s.port, len(self._pending_subacks), timeout_s)

    def connect_async(self) -> None:
        """Start connecting in the background; publish() fails (and callers spool) until connected."""
        s = self._settings
        self._client.connect_async(s.host, s.port, keepalive=s.keepalive_s)
        self._client.loop_start()

    def close(self) -> None:
        """Disconnect cleanly (no last will) and stop the network thread."""
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
            self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def connect_failures(self) -> int:
        """Connection attempts (the first and every reconnect) that failed: unreachable, or refused."""
        return self._connect_failures

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until connected with every subscription acknowledged by the broker (or ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        if not self._connected.wait(timeout_s):
            return False
        with self._suback:
            return self._suback.wait_for(lambda: not self._pending_subacks, max(0.0, deadline - time.monotonic()))

    # -- publish / subscribe -----------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False,
                wait_s: float | None = None) -> bool:
        """Publish; with ``wait_s`` block until the broker acknowledged (QoS 1) and return whether it did."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            return False
        if wait_s is None:
            return True
        try:
            info.wait_for_publish(wait_s)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def publish_tracked(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> Delivery:
        """Hand a message to the client (sent now or after the next reconnect) and return its Delivery."""
        return Delivery(self._client.publish(topic, payload, qos=qos, retain=retain))

    def ack(self, message: Message) -> None:
        """With ``manual_ack``: acknowledge a QoS 1 message once it is safely stored (at-least-once)."""
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1) -> None:
        """Call ``handler`` for each message matching ``topic_filter``, now and after every reconnect."""
        with self._lock:
            self._subscriptions[topic_filter] = (qos, handler)
            self._routes = {}
        if self.connected:
            self._client.subscribe(topic_filter, qos=qos)

    # -- paho callbacks (network thread) ------------------------------------------------------------

    def _handle_connect(self, client: paho.Client, userdata: object, flags: object, reason: object,
                        properties: object) -> None:
        failed = bool(getattr(reason, "is_failure", False))
        if failed:
            self._connect_failures += 1
            if not self._first_connect.is_set():
                self._refusal = str(reason)
                self._first_connect.set()
            log.warning("MQTT connect to %s:%s refused: %s", self._settings.host, self._settings.port, reason)
            return
        with self._lock:
            subs = list(self._subscriptions.items())
        pending = set()
        for topic_filter, (qos, _) in subs:
            rc, mid = client.subscribe(topic_filter, qos=qos)
            if rc == paho.MQTT_ERR_SUCCESS:
                pending.add(mid)
        with self._suback:
            self._pending_subacks = pending
            self._suback.notify_all()
        self._connected.set()
        self._first_connect.set()
        log.info("MQTT connected to %s:%s as %s", self._settings.host, self._settings.port, self.client_id)
        if self.on_connect is not None:
            try:
                self.on_connect()
            except Exception:  # noqa: BLE001 - a callback must not kill the network thread
                log.exception("on_connect callback failed")

    def _handle_subscribe(self, client: paho.Client, userdata: object, mid: int, reason_codes: object,
                          properties: object) -> None:
        with self._suback:
            self._pending_subacks.discard(mid)
            self._suback.notify_all()

    def _handle_connect_fail(self, client: paho.Client, userdata: object) -> None:
        self._connect_failures += 1  # network thread only: a plain int is enough
        log.debug("MQTT connect to %s:%s failed (attempt %d)", self._settings.host, self._settings.port,
                  self._connect_failures)

    def _handle_disconnect(self, client: paho.Client, userdata: object, flags: object, reason: object,
                           properties: object) -> None:
        self._connected.clear()
        log.info("MQTT disconnected from %s:%s: %s", self._settings.host, self._settings.port, reason)

    def _handle_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        message = Message(topic=msg.topic, payload=msg.payload, qos=msg.qos, retain=bool(msg.retain),
                          mid=msg.mid)
        handlers = self._routes.get(msg.topic)
        if handlers is None:
            with self._lock:
                handlers = tuple(h for f, (_, h) in self._subscriptions.items() if _matches(f, msg.topic))
                if len(self._routes) >= _MAX_ROUTES:
                    self._routes = {}  # topics are per gateway and device kind; bound it all the same
                self._routes[msg.topic] = handlers
        for handler in handlers:
            try:
                handler(message)
            except Exception:  # noqa: BLE001 - one bad message must not kill the connection
                log.exception("handler for %s failed", msg.topic)


_MAX_ROUTES = 10_000


def _matches(topic_filter: str, topic: str) -> bool:
    if topic_filter.startswith("$share/"):
        topic_filter = topic_filter.split("/", 2)[2]
    return paho.topic_matches_sub(topic_filter, topic)
