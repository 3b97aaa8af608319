"""The decision step: what a batch of alert events does to cases, given what the database held (pure: no I/O).

Events are taken in order against an in-memory view of the open cases, so a batch decides exactly what the
same events one at a time would: a START opens a case (or re-opens one closed within the re-open window), the
next ones repeat it, an END clears it, a camera or sensor going offline while its gateway's own offline case is
open folds into that case. The writer (``central.case_writer``) turns the changes into rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from central.errors import IngestRejected
from central.settings import CaseSettings
from central.sources import DeviceRow, GatewayRow, Placement, locate
from central.states import Priority
from kernel.contracts.messages import AlertEvent, AlertType, Phase, Severity, SourceKind

CHILD_OFFLINE = frozenset({AlertType.CAMERA_OFFLINE, AlertType.SENSOR_OFFLINE})

Outcome = Literal["created", "repeated", "updated", "cleared", "reopened", "folded", "duplicate"]


def open_key(source_kind: str, source_id: str, alert_type: str) -> str:
    """The key of a (source, alert type)'s open case: unique among open cases."""
    return f"{source_kind}:{source_id}:{alert_type}"


def key_of(event: AlertEvent) -> str:
    return open_key(event.source_kind.value, event.source_id, event.alert_type.value)


def parent_key(event: AlertEvent) -> str | None:
    """The open key a camera or sensor offline event folds into (its gateway's offline case), else None."""
    if event.alert_type not in CHILD_OFFLINE:
        return None
    return open_key(SourceKind.GATEWAY.value, event.gateway_id, AlertType.GATEWAY_OFFLINE.value)


@dataclass(frozen=True, slots=True)
class StoredAlert:
    alert_id: int
    case_id: int | None


@dataclass(frozen=True, slots=True)
class NewCaseRef:
    """A case this batch opens (it has no id until it is inserted); its open key names it within the batch."""

    key: str


CaseRef = int | NewCaseRef  # a stored case's id, or a case opened earlier in the same batch


@dataclass(frozen=True, slots=True)
class Known:
    """What the database held when the batch was read (and what was found wrong with snapshots)."""

    alerts: Mapping[str, StoredAlert]  # by event id
    gateways: Mapping[str, GatewayRow]
    devices: Mapping[tuple[SourceKind, str], DeviceRow]
    open_cases: Mapping[str, int]  # open key -> case id
    closed: Mapping[str, int]  # open key -> the case closed most recently within the re-open window
    bad_snapshots: Mapping[str, IngestRejected]  # by event id


@dataclass(frozen=True, slots=True)
class Rules:
    """The case settings the decision needs: priority per (alert type, severity), and which are dispatched."""

    priorities: Mapping[tuple[AlertType, str], Priority]
    auto_dispatch: frozenset[Priority]

    @classmethod
    def of(cls, settings: CaseSettings) -> Rules:
        priorities = {(t, s.value): settings.priority_for(t, s) for t in AlertType for s in Severity}
        return cls(priorities, frozenset(settings.auto_dispatch))


# -- changes: one per event, in input order -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rejected:
    event: AlertEvent
    error: IngestRejected


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Stored before (``stored``), or a copy of an event earlier in this batch (``first``: its index)."""

    event: AlertEvent
    stored: StoredAlert | None = None
    first: int | None = None


@dataclass(frozen=True, slots=True)
class NewCase:
    event: AlertEvent
    case: NewCaseRef
    where: Placement
    priority: Priority
    dispatch: bool  # registered and dispatched at once (an urgent priority)
    alert_cleared: bool = False

    outcome: Outcome = "created"


@dataclass(frozen=True, slots=True)
class Repeat:
    """Another START (``repeated``) or an UPDATE (``updated``) of an open case."""

    event: AlertEvent
    case: CaseRef
    outcome: Literal["repeated", "updated"]
    alert_cleared: bool = False


@dataclass(frozen=True, slots=True)
class Fold:
    """A camera or sensor offline while its gateway's offline case is open: counted on the gateway's case."""

    event: AlertEvent
    case: CaseRef
    alert_cleared: bool = False

    outcome: Outcome = "folded"


@dataclass(frozen=True, slots=True)
class Clear:
    """An END: the episode's alerts cleared, and its open case (if any) marked cleared for a person to close."""

    event: AlertEvent
    case: CaseRef | None
    alert_cleared: bool = True

    outcome: Outcome = "cleared"


@dataclass(frozen=True, slots=True)
class Reopen:
    """A START within the re-open window after its case was closed: the case opens again and is dispatched."""

    event: AlertEvent
    case: int
    key: str
    alert_cleared: bool = False

    outcome: Outcome = "reopened"


Placed = NewCase | Repeat | Fold | Clear | Reopen  # the changes that store an alert
Change = Placed | Duplicate | Rejected


def decide(events: Sequence[AlertEvent], known: Known, rules: Rules) -> list[Change]:
    """One change per event, in order: what storing ``events`` one after another does to cases."""
    open_cases: dict[str, CaseRef] = dict(known.open_cases)
    closed = dict(known.closed)
    first: dict[str, int] = {}
    changes: list[Change] = []
    for index, event in enumerate(events):
        stored = known.alerts.get(event.event_id)
        if stored is not None:
            changes.append(Duplicate(event, stored=stored))
            continue
        if event.event_id in first:
            changes.append(Duplicate(event, first=first[event.event_id]))
            continue
        try:
            where = _check_source(event, known)
        except IngestRejected as exc:
            changes.append(Rejected(event, exc))
            continue
        bad = known.bad_snapshots.get(event.event_id)
        if bad is not None:
            changes.append(Rejected(event, bad))
            continue
        first[event.event_id] = index
        changes.append(_place(event, where, open_cases, closed, rules))
    return _clear_episodes(changes)


def _check_source(event: AlertEvent, known: Known) -> Placement:
    gateway = known.gateways.get(event.gateway_id)
    if gateway is None:
        raise IngestRejected(
            "unknown_gateway",
            f"gateway {event.gateway_id!r} is not registered: register it at POST /api/v1/gateways first",
        )
    device = None
    if event.source_kind is not SourceKind.GATEWAY and not gateway.retired:
        device = known.devices.get((event.source_kind, event.source_id))
    return locate(gateway, device, event)


def _place(
    event: AlertEvent,
    where: Placement,
    open_cases: dict[str, CaseRef],
    closed: dict[str, int],
    rules: Rules,
) -> Placed:
    parent = parent_key(event)
    if parent is not None and parent in open_cases:
        return Fold(event, open_cases[parent])
    key = key_of(event)
    case = open_cases.get(key)
    if event.phase is Phase.END:
        return Clear(event, case)
    if case is not None:
        return Repeat(event, case, "repeated" if event.phase is Phase.START else "updated")
    recent = closed.pop(key, None)
    if recent is not None:
        open_cases[key] = recent
        return Reopen(event, recent, key)
    ref = open_cases[key] = NewCaseRef(key)
    priority = rules.priorities[(event.alert_type, event.severity.value)]
    return NewCase(event, ref, where, priority, priority in rules.auto_dispatch)


def ended_episodes(changes: Sequence[Change]) -> set[str]:
    """Episodes an END in this batch cleared (their stored alerts are marked cleared too)."""
    return {c.event.episode_id for c in changes if isinstance(c, Clear)}


def _clear_episodes(changes: list[Change]) -> list[Change]:
    """Mark cleared the alerts of an episode that an END later in the batch clears (as one at a time would)."""
    ended: set[str] = set()
    for index in range(len(changes) - 1, -1, -1):
        change = changes[index]
        if isinstance(change, Clear):
            ended.add(change.event.episode_id)
        elif isinstance(change, NewCase | Repeat | Fold | Reopen) and change.event.episode_id in ended:
            changes[index] = dataclasses.replace(change, alert_cleared=True)
    return changes
