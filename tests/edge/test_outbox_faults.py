"""Outbox faults: a full disk (a real SQLITE_FULL through the connect seam, and a small tmpfs), the byte cap,
drop logging, and space given back once the queue drains."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from edge.outbox import (
    Outbox,
    OutboxConfig,
    OutboxFullError,
    OutboxStorageError,
    OutgoingMessage,
    PutOutcome,
)
from edge.publisher import AlertPublisher
from kernel.contracts.messages import (
    AlertEvent,
    AlertType,
    Phase,
    SensorEventDetail,
    Severity,
    SourceKind,
    new_event_id,
    utc_now,
)
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings


class CappedConnect:
    """Connects like the outbox does and can cap the file's size (PRAGMA max_page_count): SQLite then fails
    with its own SQLITE_FULL, "database or disk is full", exactly as on a full disk."""

    def __init__(self) -> None:
        self.db: sqlite3.Connection | None = None

    def __call__(self, path: str) -> sqlite3.Connection:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        return self.db

    def cap(self) -> None:
        assert self.db is not None
        (pages,) = self.db.execute("PRAGMA page_count").fetchone()
        self.db.execute(f"PRAGMA max_page_count = {pages}")

    def uncap(self) -> None:
        assert self.db is not None
        self.db.execute("PRAGMA max_page_count = 1073741823")


def _db_pending(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox WHERE delivered = 0").fetchone()[0])


def test_a_publisher_on_a_full_outbox_counts_the_loss_and_does_not_raise(tmp_path: Path) -> None:
    seam = CappedConnect()
    outbox = Outbox(OutboxConfig(path=tmp_path / "o.sqlite", fsync=False, reserve_bytes=0), connect=seam)
    offline = MqttClient(MqttSettings(host="127.0.0.1", port=1))  # never connects
    publisher = AlertPublisher(offline, outbox, "gw-full")
    seam.cap()
    event_id = new_event_id()
    alert = AlertEvent(
        event_id=event_id, episode_id=event_id, phase=Phase.START, gateway_id="gw-full",
        source_kind=SourceKind.SENSOR, source_id="smoke-1", alert_type=AlertType.SMOKE_ALARM,
        severity=Severity.CRITICAL, observed_ts=utc_now(), emitted_ts=utc_now(), title="smoke " + "x" * 150,
        detail=SensorEventDetail(device_kind="smoke", alarm_id="smoke", readings={"blob": "y" * 8000}),
    )
    assert publisher.publish(alert) is False  # the caller (housekeeping, a pipeline) carries on
    stats = publisher.stats()
    assert (stats.emitted, stats.stored, stats.dropped["outbox_error"]) == (1, 0, 1)
    assert stats.outbox_errors == {"disk_full": 1, "io_error": 0, "corrupt": 0, "busy": 0, "database_error": 0}
    seam.uncap()
    assert publisher.publish(alert) is True


def test_sqlite_full_is_translated_counted_logged_once_and_survived(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seam = CappedConnect()
    path = tmp_path / "outbox.sqlite"
    box = Outbox(OutboxConfig(path=path, fsync=False, reserve_bytes=0), connect=seam)
    for i in range(3):
        box.put(f"a{i}", "t", b"x" * 100)
    seam.cap()
    with caplog.at_level(logging.DEBUG, logger="edge.outbox"):
        for i in range(5):
            with pytest.raises(OutboxStorageError, match="disk is full") as caught:
                box.put_many([OutgoingMessage(f"big{i}", "t", b"y" * 200_000),
                              OutgoingMessage(f"small{i}", "t", b"z")])
            assert caught.value.kind == "disk_full"
    assert "cannot rollback" not in caplog.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, "logged once per interval, not once per failure"
    assert not any(r.exc_info for r in caplog.records), "no traceback per event"
    assert len(box) == _db_pending(path) == 3, "the pending count follows the database"
    counters = box.counters()
    assert counters.storage_errors["disk_full"] == 5 == sum(counters.storage_errors.values())
    assert counters.added == 3
    assert [i.event_id for i in box.peek(10)] == ["a0", "a1", "a2"]
    box.delete(box.peek(1)[0].seq)  # a mark needs no new page: it still works while full
    seam.uncap()
    assert box.put("after", "t", b"ok") is PutOutcome.ADDED
    assert len(box) == _db_pending(path) == 3
    box.close()


@pytest.mark.parametrize(
    ("queued", "new", "expected", "kept"),
    [
        # (event id, payload bytes, tier) queued; the byte cap is 1000 bytes
        ([("u0", 400, "droppable"), ("a1", 400, "vital")], ("u2", 400, "droppable"), PutOutcome.REFUSED,
         ["u0", "a1"]),
        ([("u0", 400, "droppable"), ("a1", 400, "vital")], ("c2", 400, "critical"), PutOutcome.ADDED,
         ["a1", "c2"]),
        # no droppable left: the oldest non-critical goes, never a critical one
        ([("c0", 300, "critical"), ("a1", 300, "vital"), ("a2", 300, "vital")], ("a3", 300, "vital"),
         PutOutcome.ADDED, ["c0", "a2", "a3"]),
        # a big one evicts as many as it needs
        ([("u0", 300, "droppable"), ("a1", 300, "vital"), ("c2", 300, "critical")], ("c3", 700, "critical"),
         PutOutcome.ADDED, ["c2", "c3"]),
    ],
)
def test_byte_cap_drops_droppable_first_then_oldest_non_critical(
        tmp_path: Path, queued: list[tuple[str, int, str]], new: tuple[str, int, str], expected: PutOutcome,
        kept: list[str]) -> None:
    box = Outbox(OutboxConfig(path=tmp_path / "o.sqlite", max_bytes=1024, fsync=False, reserve_bytes=0))

    def message(event_id: str, size: int, tier: str) -> OutgoingMessage:
        return OutgoingMessage(event_id, "t", b"x" * size, droppable=tier == "droppable",
                               critical=tier == "critical")

    for spec in queued:
        assert box.put_many([message(*spec)]) == [PutOutcome.ADDED]
    assert box.put_many([message(*new)]) == [expected]
    assert [i.event_id for i in box.peek(10)] == kept
    assert box.pending_bytes == sum(len(i.payload) for i in box.peek(10)) <= 1024
    counters = box.counters()
    assert counters.evicted == len(queued) + (expected is PutOutcome.ADDED) - len(kept)
    assert counters.refused == (expected is PutOutcome.REFUSED)


def test_full_of_critical_refuses_a_vital_message_loudly(tmp_path: Path) -> None:
    box = Outbox(OutboxConfig(path=tmp_path / "o.sqlite", max_bytes=1024, fsync=False, reserve_bytes=0))
    box.put("c0", "t", b"x" * 900)
    with pytest.raises(OutboxFullError, match="refused a1"):
        box.put("a1", "t", b"x" * 200, critical=False)
    with pytest.raises(OutboxFullError, match="refused big"):
        box.put("big", "t", b"x" * 2000)  # larger than the whole cap: refused, nothing evicted for it
    assert [i.event_id for i in box.peek(10)] == ["c0"]


def test_drops_are_counted_and_logged_once_per_interval(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    box = Outbox(OutboxConfig(path=tmp_path / "o.sqlite", max_items=2, fsync=False, reserve_bytes=0))
    box.put("a0", "t", b"x")
    box.put("a1", "t", b"x")
    with caplog.at_level(logging.WARNING, logger="edge.outbox"):
        outcomes = [box.put(f"u{i}", "t", b"x", droppable=True) for i in range(50)]
    assert outcomes == [PutOutcome.REFUSED] * 50
    assert box.counters().refused == 50
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 1


def _disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if not p.name.endswith("-reserve"))


def test_space_is_given_back_when_the_queue_drains(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    box = Outbox(OutboxConfig(path=path, fsync=False, reserve_bytes=0))
    box.put_many([OutgoingMessage(f"e{i}", "t", b"x" * 50_000) for i in range(200)])  # 10 MB
    full = _disk_bytes(path)
    assert full > 10_000_000
    seqs = [item.seq for item in box.peek(1000)]
    for start in range(0, len(seqs), 50):
        box.mark_delivered(seqs[start:start + 50])
    assert len(box) == 0
    assert _disk_bytes(path) < 1_000_000, f"still {_disk_bytes(path)} bytes on disk after draining"
    assert box.put("e3", "t", b"again") is PutOutcome.DUPLICATE, "tombstones survive the vacuum"
    box.close()


def test_an_outbox_from_before_tiers_opens_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,"
            " topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,"
            " droppable INTEGER NOT NULL, enqueued_ts REAL NOT NULL, delivered INTEGER NOT NULL DEFAULT 0);"
            "INSERT INTO outbox (event_id, topic, payload, qos, retain, droppable, enqueued_ts)"
            " VALUES ('u0', 't', x'00', 1, 0, 1, 0), ('a1', 't', x'00', 1, 0, 0, 0);")
    box = Outbox(OutboxConfig(path=path, max_items=2, fsync=False, reserve_bytes=0))
    assert box.put("a2", "t", b"x") is PutOutcome.ADDED  # evicts the old droppable u0, keeps a1
    assert [i.event_id for i in box.peek(10)] == ["a1", "a2"]
