"""Kill the hub (SIGKILL) in the middle of an MQTT ingest, start it again: nothing lost, nothing duplicated.

Works because the hub holds a persistent MQTT session and acknowledges a message only after the
transaction holding it committed; what was in flight is redelivered and dropped by event id."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from kernel.contracts import topics
from kernel.contracts.messages import encode
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.central.hubkit import event
from tests.conftest import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

TOTAL = 600
SOURCES = 40


def _start_hub(data_dir: Path, broker, http_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GRIDWATCH_MQTT_HOST": broker.host,
        "GRIDWATCH_MQTT_PORT": str(broker.port),
        "GRIDWATCH_ADMIN_PASSWORD": "admin-password-1",
    }
    command = [
        sys.executable,
        "-c",
        "from gridwatch.cli.main import main; main()",
        "hub",
        "--port",
        str(http_port),
        "--data-dir",
        str(data_dir),
        "--auto-register",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def mqtt_state() -> str:
        if process.poll() is not None:
            raise AssertionError(f"hub exited: {process.stderr.read().decode()[-2000:]}")
        return httpx.get(f"http://127.0.0.1:{http_port}/health", timeout=1).json()["mqtt"]

    wait_until(mqtt_state, 60, until=lambda state: state == "connected", what="the hub's /health to say mqtt connected",
               ignoring=(httpx.HTTPError, ValueError), poll_s=0.2)
    return process


def _publishing(publisher: MqttClient, events: list, acked: list[bool]) -> threading.Thread:
    """Publish ``events`` at about 500/s from a background thread, noting each broker acknowledgement."""

    def publish_all() -> None:
        for ev in events:
            acked.append(publisher.publish(topics.events("gw-restart", "camera"), encode(ev), wait_s=10))
            time.sleep(0.002)  # paces the sender (about 500/s), so the kill lands mid-stream

    sender = threading.Thread(target=publish_all)
    sender.start()
    return sender


def _queued_meanwhile(acked: list[bool]) -> None:
    """Wait until the broker acknowledged more messages after a kill: they wait in the persistent session."""
    at_kill = len(acked)
    wait_until(lambda: len(acked), 30, until=lambda n: n >= min(at_kill + 100, TOTAL),
               what="the broker to take messages for the killed subscriber's session")


def _counts(db: Path) -> tuple[int, int, int, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        alerts, distinct = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM alerts").fetchone()
        cases, occurrences = conn.execute(
            "SELECT count(*), coalesce(sum(occurrences), 0) FROM cases"
        ).fetchone()
    return alerts, distinct, cases, occurrences


def test_kill_mid_ingest_then_restart_loses_and_duplicates_nothing(mosquitto_broker, tmp_path):
    data_dir = tmp_path / "var"
    db = data_dir / "hub" / "hub.db"
    http_port = free_port()
    hub = _start_hub(data_dir, mosquitto_broker, http_port)
    publisher = MqttClient(MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port))
    publisher.connect()
    events = [event(f"cam-{i % SOURCES}", gateway_id="gw-restart") for i in range(TOTAL)]
    acked: list[bool] = []
    sender = _publishing(publisher, events, acked)
    try:
        wait_until(lambda: _counts(db)[0], 60, until=lambda n: n >= TOTAL // 4)
        hub.send_signal(signal.SIGKILL)  # no shutdown hooks, no drain: the hard case
        hub.wait()
        killed_at = _counts(db)[0]
        assert 0 < killed_at < TOTAL, killed_at
        _queued_meanwhile(acked)  # the broker queues what arrives meanwhile for the hub's persistent session
        hub = _start_hub(data_dir, mosquitto_broker, http_port)
        sender.join(timeout=120)
        assert all(acked) and len(acked) == TOTAL
        wait_until(lambda: _counts(db)[0], 60, until=lambda n: n >= TOTAL)
        time.sleep(0.5)  # lets time pass on purpose: anything duplicated would land now
        assert _counts(db) == (TOTAL, TOTAL, SOURCES, TOTAL)
    finally:
        publisher.close()
        hub.terminate()
        hub.wait(timeout=30)


class _Worker:
    """`gridwatch hub --ingest-only --worker-name NAME` as a process, its log read in the background."""

    def __init__(self, name: str, data_dir: Path, broker, database_url: str) -> None:
        env = {
            **os.environ,
            "GRIDWATCH_MQTT_HOST": broker.host,
            "GRIDWATCH_MQTT_PORT": str(broker.port),
            "GRIDWATCH_ADMIN_PASSWORD": "admin-password-1",
        }
        command = [sys.executable, "-c", "from gridwatch.cli.main import main; main()", "hub", "--ingest-only"]
        command += ["--worker-name", name, "--data-dir", str(data_dir), "--database-url", database_url]
        command += ["--auto-register"]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log: list[str] = []
        self.connected = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.connected.wait(60):
            self.process.kill()
            raise AssertionError(f"ingest worker {name} did not connect: {''.join(self.log)[-2000:]}")

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode(errors="replace")
            self.log.append(line)
            if "MQTT connected" in line:
                self.connected.set()


def _pg_counts(url: str) -> tuple[int, int, int, int]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        alerts, distinct = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM alerts").fetchone()
        cases, occurrences = conn.execute("SELECT count(*), coalesce(sum(occurrences), 0) FROM cases").fetchone()
    return alerts, distinct, cases, occurrences


def test_a_killed_ingest_worker_restarted_under_its_name_loses_and_duplicates_nothing(mosquitto_broker, tmp_path):
    """PostgreSQL, two `--ingest-only` workers in the shared group: SIGKILL one mid-ingest, start it again
    under the same name; its unacknowledged share comes back from its persistent session, and repeats of one
    case written by both workers all count."""
    from tests.central.pg import postgres_url

    url = postgres_url()
    data_dir = tmp_path / "var"
    workers = [_Worker(f"ingest-{n}", data_dir, mosquitto_broker, url) for n in (1, 2)]
    # Both subscriptions in place before the first message. Lets time pass on purpose: a worker process
    # logs "MQTT connected" before its broker acknowledged the shared subscription, and says nothing after.
    time.sleep(0.5)
    publisher = MqttClient(MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port))
    publisher.connect()
    events = [event(f"cam-{i % SOURCES}", gateway_id="gw-restart") for i in range(TOTAL)]
    acked: list[bool] = []
    sender = _publishing(publisher, events, acked)
    try:
        wait_until(lambda: _pg_counts(url)[0], 60, until=lambda n: n >= TOTAL // 4)
        workers[0].process.send_signal(signal.SIGKILL)
        workers[0].process.wait()
        assert 0 < _pg_counts(url)[0] < TOTAL
        _queued_meanwhile(acked)  # the broker keeps queuing the killed worker's share for its session
        workers[0] = _Worker("ingest-1", data_dir, mosquitto_broker, url)
        sender.join(timeout=120)
        assert all(acked) and len(acked) == TOTAL
        wait_until(lambda: _pg_counts(url)[0], 60, until=lambda n: n >= TOTAL)
        time.sleep(0.5)  # lets time pass on purpose: anything duplicated would land now
        assert _pg_counts(url) == (TOTAL, TOTAL, SOURCES, TOTAL)
    finally:
        publisher.close()
        for worker in workers:
            worker.process.terminate()
            worker.process.wait(timeout=30)
