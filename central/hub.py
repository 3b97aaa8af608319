"""The hub assembled: database, secrets and services wired from settings, plus its background workers."""

from __future__ import annotations

import logging
import threading

from central.auth import Passwords, TokenIssuer
from central.cases import CaseService
from central.clock import Clock, SystemClock
from central.consumer import MqttIngest
from central.db.engine import Database
from central.dispatch import Dispatcher
from central.evidence import EvidenceStore
from central.feed import FeedBell
from central.ingest import Ingestor
from central.keys import Sealer, jwt_secret, mosquitto_hash, new_password
from central.metrics import HubMetrics
from central.people import People
from central.registry import Registry
from central.settings import HubSettings
from central.status import StatusTracker
from gridwatch.contracts import topics
from gridwatch.contracts.messages import GatewayConfig, encode

log = logging.getLogger(__name__)


class Hub:
    """Everything one hub process runs. Build it, ``start()`` the workers, ``stop()`` them."""

    def __init__(self, settings: HubSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
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
        passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
        self.people = People(self.db, self.tokens, passwords, self.clock)
        self.registry = Registry(
            self.db,
            Sealer(settings.data_dir),
            passwords,
            self.clock,
            settings.data_dir / "mosquitto",
            _hub_account(settings),
            publish_config=self._publish_config,
        )
        self.registry.write_broker_auth()
        self.status = StatusTracker(self.db, self.ingestor, self.clock)
        self.mqtt = (
            MqttIngest(settings, self.ingestor, self.status, self.metrics) if settings.mqtt_enabled else None
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
        if self.mqtt is None:
            return "disabled"
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


def _hub_account(settings: HubSettings) -> tuple[str, str]:
    """The hub's own broker account for the password file it writes (its MQTT user name and password; a
    made-up password when it has none, since a production broker admits no anonymous clients anyway)."""
    mqtt = settings.mqtt
    password = mqtt.password.get_secret_value() if mqtt.password else new_password()
    return mqtt.username or "hub", mosquitto_hash(password)
