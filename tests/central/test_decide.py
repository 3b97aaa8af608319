"""The decision step as tables: events in order against what the database held -> one change per event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from central.decide import (
    Change,
    Duplicate,
    Known,
    NewCase,
    NewCaseRef,
    Rejected,
    Rules,
    StoredAlert,
    decide,
)
from central.errors import IngestRejected
from central.settings import CaseSettings
from kernel.contracts.messages import AlertEvent, AlertType, Phase, SourceKind
from tests.central.hubkit import event

CAM = "camera:cam-1:intrusion"
CAM2 = "camera:cam-2:intrusion"
GW_OFF = "gateway:gw-1:gateway_offline"
CAM_OFF = "camera:cam-1:camera_offline"
RULES = Rules.of(CaseSettings())


@dataclass(frozen=True)
class _Gateway:
    gateway_id: str
    area_id: int | None = 1
    retired: bool = False
    last_seen_at: None = None


@dataclass(frozen=True)
class _Device:
    gateway_id: str = "gw-1"
    area_id: int | None = 2
    retired: bool = False
    latitude: float | None = None
    longitude: float | None = None
    last_seen_at: None = None


def _known(
    *,
    open_cases: dict[str, int] | None = None,
    closed: dict[str, int] | None = None,
    stored: dict[str, StoredAlert] | None = None,
    gateways: dict[str, _Gateway] | None = None,
    devices: dict[tuple[SourceKind, str], _Device] | None = None,
    bad: dict[str, IngestRejected] | None = None,
) -> Known:
    return Known(
        alerts=stored or {},
        gateways={"gw-1": _Gateway("gw-1"), "gw-2": _Gateway("gw-2"), **(gateways or {})},
        devices={
            (SourceKind.CAMERA, "cam-1"): _Device(),
            (SourceKind.CAMERA, "cam-2"): _Device(),
            (SourceKind.CAMERA, "cam-9"): _Device(gateway_id="gw-2"),
            **(devices or {}),
        },
        open_cases=open_cases or {},
        closed=closed or {},
        bad_snapshots=bad or {},
    )


def _start(source: str = "cam-1") -> AlertEvent:
    return event(source)


def _end(of: AlertEvent) -> AlertEvent:
    return event(of.source_id, of.alert_type, phase=Phase.END, episode_id=of.episode_id, kind=of.source_kind)


def _update(of: AlertEvent) -> AlertEvent:
    return event(of.source_id, of.alert_type, phase=Phase.UPDATE, episode_id=of.episode_id, kind=of.source_kind)


def _gateway_offline() -> AlertEvent:
    return event("gw-1", AlertType.GATEWAY_OFFLINE, kind=SourceKind.GATEWAY)


def _camera_offline() -> AlertEvent:
    return event("cam-1", AlertType.CAMERA_OFFLINE)


def _shape(change: Change) -> tuple[Any, ...]:
    """A change without its event: kind, case, outcome, whether its alert is stored cleared."""
    if isinstance(change, Rejected):
        return ("rejected", change.error.reason)
    if isinstance(change, Duplicate):
        return ("duplicate", change.stored, change.first)
    return (type(change).__name__, change.case, change.outcome, change.alert_cleared)


def test_no_events_no_changes() -> None:
    assert decide([], _known(), RULES) == []


def _story_new_case() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    return [_start()], _known(), [("NewCase", NewCaseRef(CAM), "created", False)]


def _story_repeat_open() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    first = _start()
    return (
        [first, _update(first)],
        _known(open_cases={CAM: 7}),
        [("Repeat", 7, "repeated", False), ("Repeat", 7, "updated", False)],
    )


def _story_repeats_of_new_case() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    return (
        [_start(), _start(), _start("cam-2")],
        _known(),
        [
            ("NewCase", NewCaseRef(CAM), "created", False),
            ("Repeat", NewCaseRef(CAM), "repeated", False),
            ("NewCase", NewCaseRef(CAM2), "created", False),
        ],
    )


def _story_end_clears_open_case() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    first = _start()
    return [_end(first)], _known(open_cases={CAM: 7}), [("Clear", 7, "cleared", True)]


def _story_end_without_case() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    return [_end(_start())], _known(), [("Clear", None, "cleared", True)]


def _story_start_then_end_in_one_batch() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    """The episode's START is stored cleared too, as one at a time would have marked it."""
    first = _start()
    other = _start("cam-2")
    return (
        [first, other, _end(first)],
        _known(),
        [
            ("NewCase", NewCaseRef(CAM), "created", True),
            ("NewCase", NewCaseRef(CAM2), "created", False),
            ("Clear", NewCaseRef(CAM), "cleared", True),
        ],
    )


def _story_end_then_start_again() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    first = _start()
    return (
        [_end(first), _start()],
        _known(open_cases={CAM: 7}),
        [("Clear", 7, "cleared", True), ("Repeat", 7, "repeated", False)],
    )


def _story_reopen_then_repeat() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    return (
        [_start(), _start()],
        _known(closed={CAM: 9}),
        [("Reopen", 9, "reopened", False), ("Repeat", 9, "repeated", False)],
    )


def _story_end_does_not_reopen() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    return [_end(_start())], _known(closed={CAM: 9}), [("Clear", None, "cleared", True)]


def _story_fold_into_open_gateway_case() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    return [_camera_offline()], _known(open_cases={GW_OFF: 3}), [("Fold", 3, "folded", False)]


def _story_child_offline_without_gateway_case() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    return [_camera_offline()], _known(), [("NewCase", NewCaseRef(CAM_OFF), "created", False)]


def _story_fold_into_gateway_case_of_same_batch() -> tuple[list[AlertEvent], Known, list[tuple[Any, ...]]]:
    return (
        [_gateway_offline(), _camera_offline()],
        _known(),
        [("NewCase", NewCaseRef(GW_OFF), "created", False), ("Fold", NewCaseRef(GW_OFF), "folded", False)],
    )


STORIES = {
    "one START opens a case": _story_new_case,
    "START and UPDATE repeat the open case": _story_repeat_open,
    "repeats of a case opened in the batch": _story_repeats_of_new_case,
    "END clears the open case": _story_end_clears_open_case,
    "END without a case": _story_end_without_case,
    "START then END in one batch": _story_start_then_end_in_one_batch,
    "END then START again": _story_end_then_start_again,
    "START within the window re-opens, then repeats": _story_reopen_then_repeat,
    "END does not re-open": _story_end_does_not_reopen,
    "camera offline folds into its gateway's open offline case": _story_fold_into_open_gateway_case,
    "camera offline alone opens its own case": _story_child_offline_without_gateway_case,
    "gateway offline then camera offline in one batch": _story_fold_into_gateway_case_of_same_batch,
}


@pytest.mark.parametrize("story", STORIES.values(), ids=STORIES.keys())
def test_changes(story: Any) -> None:
    events, known, expected = story()
    changes = decide(events, known, RULES)
    assert [_shape(c) for c in changes] == expected
    assert [c.event for c in changes] == events


def test_new_case_priority_and_dispatch_follow_the_settings() -> None:
    settings = CaseSettings()
    [change] = decide([_start()], _known(), Rules.of(settings))
    assert isinstance(change, NewCase)
    expected = settings.priority_for(AlertType.INTRUSION, change.event.severity)
    assert (change.priority, change.dispatch) == (expected, expected in settings.auto_dispatch)
    assert (change.where.area_id, change.where.latitude) == (2, None)  # the device's grid, not the gateway's


def test_duplicates_stored_before_and_within_the_batch() -> None:
    stored, fresh = _start(), _start("cam-2")
    known = _known(stored={stored.event_id: StoredAlert(41, 7)})
    changes = decide([stored, fresh, fresh], known, RULES)
    assert [_shape(c) for c in changes] == [
        ("duplicate", StoredAlert(41, 7), None),
        ("NewCase", NewCaseRef(CAM2), "created", False),
        ("duplicate", None, 1),
    ]


REJECTIONS = {
    "unknown gateway": (event("cam-1", gateway_id="gw-9"), {}, "unknown_gateway"),
    "unknown device": (event("cam-3"), {}, "unknown_device"),
    "retired gateway": (_start(), {"gateways": {"gw-1": _Gateway("gw-1", retired=True)}}, "retired_gateway"),
    "device of another gateway": (
        _start(),
        {"devices": {(SourceKind.CAMERA, "cam-1"): _Device(gateway_id="gw-2")}},
        "foreign_device",
    ),
    "retired device": (_start(), {"devices": {(SourceKind.CAMERA, "cam-1"): _Device(retired=True)}}, "retired_device"),
    "gateway alert about another gateway": (
        event("gw-2", AlertType.GATEWAY_OFFLINE, kind=SourceKind.GATEWAY),
        {},
        "foreign_device",
    ),
}


@pytest.mark.parametrize(("bad", "known", "reason"), REJECTIONS.values(), ids=REJECTIONS.keys())
def test_rejections_spoil_only_their_event(bad: AlertEvent, known: dict[str, Any], reason: str) -> None:
    """A refused event changes nothing; a copy of it is judged again (not a duplicate of something stored)."""
    good = event("cam-9", gateway_id="gw-2")
    changes = decide([bad, good, bad], _known(**known), RULES)
    assert [_shape(c) for c in changes] == [
        ("rejected", reason),
        ("NewCase", NewCaseRef("camera:cam-9:intrusion"), "created", False),
        ("rejected", reason),
    ]


def test_bad_snapshot_is_judged_after_duplicates_and_source() -> None:
    snap = _start()
    refused = IngestRejected("bad_snapshot", "unreadable")
    changes = decide([snap, event("cam-3")], _known(bad={snap.event_id: refused}), RULES)
    assert [_shape(c) for c in changes] == [("rejected", "bad_snapshot"), ("rejected", "unknown_device")]
    changes = decide([snap], _known(bad={snap.event_id: refused}, stored={snap.event_id: StoredAlert(1, 2)}), RULES)
    assert [_shape(c) for c in changes] == [("duplicate", StoredAlert(1, 2), None)]


def test_a_refused_event_opens_nothing_for_the_next() -> None:
    """The second START still opens the case the refused first one would have opened."""
    snap = _start()
    changes = decide([snap, _start()], _known(bad={snap.event_id: IngestRejected("bad_snapshot", "x")}), RULES)
    expected = [("rejected", "bad_snapshot"), ("NewCase", NewCaseRef(CAM), "created", False)]
    assert [_shape(c) for c in changes] == expected

