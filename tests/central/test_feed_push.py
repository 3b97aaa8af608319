"""The live feed is pushed: a stream waiting for new items wakes when a transaction that wrote feed items
commits (in this process; on PostgreSQL also in any other process, by LISTEN/NOTIFY), not by its slow poll,
which these tests turn off (an hour) so that only the push can deliver."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from central import feed
from central.api import stream_api
from central.db.engine import Database
from kernel.contracts.messages import AlertType
from tests.central.hubkit import event
from tests.conftest import wait_until


@pytest.fixture(autouse=True)
def no_fallback_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_api, "FALLBACK_POLL_S", 3600.0)


def _latest(api) -> int:
    with api.hub.db.session() as session:
        return feed.latest_id(session)


class _Reader:
    """An SSE stream read to its ``count``-th item in a thread of its own (it blocks until then)."""

    def __init__(self, api, after_id: int, count: int) -> None:
        self.items: list[tuple[str, dict]] = []
        self.done = threading.Event()
        self._args = (api, after_id, count)
        threading.Thread(target=self._read, daemon=True).start()
        # Only once the stream has read everything and waits can an item reach it by the bell alone.
        assert wait_until(lambda: api.hub.feed_bell.sleeping == 1), "the stream never started waiting"

    def _read(self) -> None:
        api, after_id, count = self._args
        params = {"after_id": after_id, "max_events": count}
        with api.client.stream("GET", "/api/v1/stream", params=params, headers=api.as_("op")) as response:
            kind = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    kind = line.partition(":")[2].strip()
                elif line.startswith("data:"):
                    self.items.append((kind, json.loads(line.partition(":")[2])))
        self.done.set()


def test_a_waiting_stream_wakes_when_an_event_is_stored(api, world):
    """The stream reads nothing, waits; the POST's commit rings the bell and the created item arrives."""
    reader = _Reader(api, _latest(api), 1)
    api.post_event(event("cam-1", AlertType.INTRUSION))
    assert reader.done.wait(30), "the stream was not woken by the commit"
    assert reader.items[0][0] == "case.created"


def test_a_case_change_by_a_person_wakes_the_stream(api, world):
    case_id = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM)).json()["case_id"]  # dispatched to w1
    reader = _Reader(api, _latest(api), 1)
    api.client.post(f"/api/v1/cases/{case_id}/accept", headers=api.as_("w1")).raise_for_status()
    assert reader.done.wait(30), "the stream was not woken by the case change"
    assert reader.items[0][0] == "case.accepted"


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_another_process_commit_wakes_the_stream_by_notify(api, world):
    """Feed items written over a connection of another engine (as an ingest worker process would) reach the
    waiting stream through PostgreSQL's NOTIFY."""
    reader = _Reader(api, _latest(api), 1)
    other = Database(api.hub.db.url)
    try:
        now = datetime.now(UTC)
        with other.session() as session:
            item = {"at": now, "kind": "case.note", "case_id": None, "area_code": None, "alert_type": None}
            feed.insert_items(session, [{**item, "priority": None, "assignee_id": None, "data": {"n": 1}}])
        assert reader.done.wait(30), "the stream was not woken by the other engine's NOTIFY"
        assert reader.items == [("case.note", {"n": 1})]
    finally:
        other.dispose()
