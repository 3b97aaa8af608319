"""Outbox: durable, ordered, idempotent by event id, and a size policy that never drops alarms silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.outbox import Outbox, OutboxConfig, OutboxFullError, OutgoingMessage, PutOutcome


def _outbox(tmp_path: Path, max_items: int = 100) -> Outbox:
    return Outbox(OutboxConfig(path=tmp_path / "outbox.sqlite", max_items=max_items, fsync=False))


def test_drains_in_put_order_and_survives_reopen(tmp_path: Path) -> None:
    box = _outbox(tmp_path)
    for i in range(5):
        assert box.put(f"e{i}", "t/x", f"p{i}".encode()) is PutOutcome.ADDED
    box.close()
    box = _outbox(tmp_path)
    items = box.peek(10)
    assert [i.event_id for i in items] == ["e0", "e1", "e2", "e3", "e4"]
    assert items[0].payload == b"p0" and items[0].qos == 1 and items[0].retain is False
    box.delete(items[0].seq)
    assert [i.event_id for i in box.peek(2)] == ["e1", "e2"]
    assert [i.event_id for i in box.peek(10, after_seq=items[2].seq)] == ["e3", "e4"]
    assert len(box) == 4


def test_put_is_idempotent_by_event_id(tmp_path: Path) -> None:
    box = _outbox(tmp_path)
    assert box.put("e1", "t", b"a") is PutOutcome.ADDED
    assert box.put("e1", "t", b"b") is PutOutcome.DUPLICATE
    assert len(box) == 1 and box.peek(5)[0].payload == b"a"
    box.delete(box.peek(1)[0].seq)
    assert box.put("e1", "t", b"c") is PutOutcome.DUPLICATE, "delivered ids are remembered"
    assert len(box) == 0 and box.peek(5) == []
    assert box.counters().duplicates == 2


@pytest.mark.parametrize(
    ("queued", "new_droppable", "expected", "kept"),
    [
        # full of updates: a new update is refused, a new alarm evicts the oldest update
        ([True, True], True, PutOutcome.REFUSED, ["u0", "u1"]),
        ([True, True], False, PutOutcome.ADDED, ["u1", "new"]),
        # mixed: the alarm evicts the update, never the older alarm
        ([False, True], False, PutOutcome.ADDED, ["a0", "new"]),
    ],
)
def test_size_policy(tmp_path: Path, queued: list[bool], new_droppable: bool, expected: PutOutcome,
                     kept: list[str]) -> None:
    box = _outbox(tmp_path, max_items=2)
    for i, droppable in enumerate(queued):
        box.put(f"{'u' if droppable else 'a'}{i}", "t", b"x", droppable=droppable)
    assert box.put("new", "t", b"x", droppable=new_droppable) is expected
    assert [i.event_id for i in box.peek(10)] == kept
    counters = box.counters()
    assert counters.refused + counters.evicted == 1


def test_full_of_alarms_refuses_loudly(tmp_path: Path) -> None:
    box = _outbox(tmp_path, max_items=2)
    box.put("a0", "t", b"x")
    box.put("a1", "t", b"x")
    with pytest.raises(OutboxFullError, match="refused a2"):
        box.put("a2", "t", b"x")
    assert box.put("a1", "t", b"x") is PutOutcome.DUPLICATE
    assert box.counters().refused == 1


def test_put_many_is_one_batch_with_per_message_outcomes(tmp_path: Path) -> None:
    box = _outbox(tmp_path, max_items=3)
    box.put("a0", "t", b"x")
    batch = [OutgoingMessage("a1", "t", b"x"), OutgoingMessage("a0", "t", b"y"),
             OutgoingMessage("u2", "t", b"x", droppable=True),
             OutgoingMessage("u3", "t", b"x", droppable=True)]
    added, dup, refused = PutOutcome.ADDED, PutOutcome.DUPLICATE, PutOutcome.REFUSED
    assert box.put_many(batch) == [added, dup, added, refused]
    with pytest.raises(OutboxFullError) as caught:
        box.put_many([OutgoingMessage("a4", "t", b"x"), OutgoingMessage("a5", "t", b"x")])
    # a4 evicted the update u2; a5 found only vital messages left: refused loudly, a4 kept
    assert caught.value.outcomes == [PutOutcome.ADDED, PutOutcome.REFUSED]
    assert [i.event_id for i in box.peek(10)] == ["a0", "a1", "a4"]
