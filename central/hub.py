"""The hub assembled: database, secrets and services wired from settings, plus its background workers."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from central.auth import Passwords, TokenIssuer
from central.broker_auth import hub_broker_account, is_dev_account, secret_group
from central.cases import CaseService
from central.clock import Clock, SystemClock
from central.consumer import MqttIngest
from central.db.engine import Database
from central.dead_letters import DeadLetters
from central.dispatch import Dispatcher
from central.evidence import EvidenceStore
from central.feed import FeedBell
from central.ingest import Ingestor
from central.keys import Sealer, jwt_secret, new_password
from central.metrics import HubMetrics
from central.people import People
from central.registry import DeviceRegistry
from central.settings import HubSettings
from central.sign_in_throttle import SignInThrottle
from central.status import StatusTracker
from kernel.contracts import topics
from kernel.contracts.messages import GatewayConfig, encode

log = logging.getLogger(__name__)


class Hub:
    """Everything one hub process runs. Build it, ``start()`` the workers, ``stop()`` them."""

    def __init__(self, settings: HubSettings, clock: Clock | None = None) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        broker_account = hub_broker_account(settings.mqtt, settings.data_dir, settings.ingest.worker_name)
        if broker_account.generated:
            log.warning(
                "no MQTT account of its own (GRIDWATCH_MQTT_USERNAME/_PASSWORD unset or the development account): "
                "the broker files in %s admit the hub as %r with the password in %s, never the development "
                "account; give the hub that account (or your own) to run it against a production broker",
                settings.data_dir / "mosquitto", broker_account.username, settings.data_dir / "broker-hub-password",
            )
        settings = _with_broker_account(settings, broker_account.username)
        self.settings = settings
        self.clock = clock or SystemClock()
        _private_dir(settings.data_dir)
        self.db = Database(settings.db_url)
        self.db.upgrade()
        secret = (
            settings.jwt_secret.get_secret_value() if settings.jwt_secret else jwt_secret(settings.data_dir)
        )
        self.tokens = TokenIssuer(secret, settings.token_ttl_s)
        self.metrics = HubMetrics()
        self.evidence = EvidenceStore(settings.evidence_path, settings.ingest.max_snapshot_bytes)
        self.dispatcher = Dispatcher(settings.cases, self.clock)
        self.ingestor = Ingestor(
            self.db, settings.ingest, settings.cases, self.clock, self.evidence, self.dispatcher, self.metrics
        )
        self.feed_bell = FeedBell(self.db)
        self.cases = CaseService(self.db, self.dispatcher, self.clock, self.evidence)
        passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib,
                              settings.sign_in.max_concurrent_hashes, settings.sign_in.hash_wait_s)
        throttle = SignInThrottle(self.db, settings.sign_in, self.clock)
        self.people = People(self.db, self.tokens, passwords, self.clock, throttle)
        self.registry = DeviceRegistry(
            self.db,
            Sealer(settings.data_dir),
            passwords,
            self.clock,
            settings.data_dir / "mosquitto",
            broker_account,
            publish_config=self._publish_config,
            broker_pid_file=settings.broker_pid_file,
        )
        self.registry.write_broker_auth()
        self.status = StatusTracker(self.db, self.ingestor, self.clock)
        self.dead_letters = DeadLetters(
            self.db, self.metrics, settings.ingest.dead_letter_keep, settings.ingest.dead_letter_payload_bytes
        )
        self.mqtt = (
            MqttIngest(settings, self.ingestor, self.status, self.metrics, self.dead_letters)
            if settings.mqtt_enabled
            else None
        )
        admin_password = (
            settings.admin_password.get_secret_value() if settings.admin_password else new_password()
        )
        created = self.people.ensure_admin(admin_password)
        # Shown once by the CLI when the hub made the password up itself.
        self.generated_admin_password = (
            admin_password if created and settings.admin_password is None else None
        )
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="hub-sweep", daemon=True)

    def start(self) -> None:
        if self.mqtt is not None:
            # Retained configs may have changed while the broker was away: publish them again on each
            # (re)connect, off the network thread.
            self.mqtt.client.on_connect = lambda: threading.Thread(
                target=self._publish_all_configs, name="hub-config", daemon=True
            ).start()
            self.mqtt.start()
        self._sweeper.start()
        log.info(
            "hub started: database %s, MQTT %s",
            self.db.safe_url(),
            f"{self.settings.mqtt.host}:{self.settings.mqtt.port}" if self.mqtt else "off",
        )

    def stop(self) -> None:
        self._stop.set()
        if self.mqtt is not None:
            self.mqtt.stop()
        if self._sweeper.is_alive():
            self._sweeper.join(timeout=10)
        self.feed_bell.close()
        self.db.dispose()

    @property
    def mqtt_state(self) -> str:
        """disabled, connected, disconnected, or stalled (connected or not, the ingest cannot write)."""
        if self.mqtt is None:
            return "disabled"
        if self.mqtt.stalled:
            return "stalled"
        return "connected" if self.mqtt.connected else "disconnected"

    def sweep_once(self) -> int:
        escalated = self.dispatcher.sweep(self.db)
        self.metrics.escalations.inc(escalated)
        return escalated

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.settings.cases.sweep_interval_s):
            try:
                self.sweep_once()
            except Exception:  # noqa: BLE001 - a failed sweep is retried on the next tick
                log.exception("SLA sweep failed")

    def _publish_all_configs(self) -> None:
        for gateway in self.registry.list_gateways():
            if not gateway.retired:
                self._publish_config(self.registry.gateway_config(gateway.gateway_id))

    def _publish_config(self, config: GatewayConfig) -> None:
        if self.mqtt is None:
            return
        ok = self.mqtt.client.publish(topics.config(config.gateway_id), encode(config), qos=1, retain=True)
        if not ok:
            log.warning(
                "gateway %s config revision %s not published (broker unreachable); the gateway can "
                "fetch it over HTTP",
                config.gateway_id,
                config.revision,
            )


def _private_dir(path: Path) -> None:
    """The data folder holds the database, the token key and the sealing key: its owner's only (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        log.warning("data folder %s was open to others: made it 0700", path)
        path.chmod(0o700)


def _with_broker_account(settings: HubSettings, username: str) -> HubSettings:
    """The settings this process connects with: an ingest worker with a real account connects as its own
    worker account (a production broker makes the user name the client id), and its shared group is one that
    only holders of the hub's password can name (central/broker_auth.py)."""
    mqtt, ingest = settings.mqtt, settings.ingest
    if is_dev_account(mqtt):
        return settings  # the development broker: one shared account, client ids as given
    updates: dict[str, object] = {}
    if username != mqtt.username:
        updates["mqtt"] = mqtt.model_copy(update={"username": username})
    if ingest.shared_group is not None:
        password = mqtt.password.get_secret_value()  # type: ignore[union-attr]
        updates["ingest"] = ingest.model_copy(update={"shared_group": secret_group(ingest.shared_group, password)})
    return settings.model_copy(update=updates)
