"""A batch's case changes applied in memory, in event order: new case rows (dispatched when urgent), re-opened
and repeated ones, what each stored case gets in SQL, and the audit entries and feed items to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from central.decide import CaseRef, Clear, NewCase, NewCaseRef, Placed, Reopen
from central.dispatch import RosterPlan
from central.known import CaseRow
from central.states import CaseState
from kernel.contracts.messages import AlertEvent, Phase, Severity

RANK = {severity.value: rank for rank, severity in enumerate(Severity)}


@dataclass(slots=True)
class Tally:
    """What the batch does to one stored case, applied with SQL arithmetic against the row as stored."""

    row: CaseRow
    added: int = 0  # START repeats
    cleared_to: int = -1  # -1 unchanged, 0 repeated after an END, 1 cleared
    evidence_id: int | None = None


@dataclass(slots=True)
class Item:
    """A feed item to build once the batch's case ids are known (repeats of a case merged into one)."""

    kind: str
    row: CaseRow
    as_reported: bool = False
    event_ids: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AuditNote:
    """An audit entry the hub makes, waiting for its case's id (a new case gets it at insert)."""

    row: CaseRow
    action: str
    from_state: CaseState | str | None
    to_state: CaseState | str
    note: str


class BatchEffects:
    """The batch's effect on cases, worked out in memory in event order."""

    def __init__(self, stored: dict[int, CaseRow], plan: RosterPlan, reopen_window_s: float, now: datetime) -> None:
        self.stored = stored
        self.plan = plan
        self.reopen_window_s = reopen_window_s
        self.now = now
        self.new: dict[str, CaseRow] = {}  # by open key
        self.reopened: list[CaseRow] = []
        self.tallies: dict[int, Tally] = {}
        self.audit: list[AuditNote] = []
        self.items: list[Item] = []
        self._repeat_items: dict[tuple[int, str], Item] = {}

    def row(self, ref: CaseRef) -> CaseRow:
        return self.new[ref.key] if isinstance(ref, NewCaseRef) else self.stored[ref]

    def apply(self, change: Placed, evidence_id: int | None) -> None:
        event, now = change.event, self.now
        if isinstance(change, NewCase):
            row = self.new[change.case.key] = _new_case(change, evidence_id, now)
            self._hub(row, "report", None, CaseState.REPORTED, f"alert {event.event_id} from {event.source_id}")
            self.items.append(Item("case.created", row, as_reported=True, extra={"event_id": event.event_id}))
            if change.dispatch:
                row.state = CaseState.REGISTERED.value
                note = f"registered automatically: priority {row.priority}"
                self._hub(row, "register", CaseState.REPORTED, CaseState.REGISTERED, note)
                self._dispatch(row)
        elif isinstance(change, Reopen):
            row = self.stored[change.case]
            from_state = row.state
            _reopen(row, change.key, evidence_id, now)
            self.reopened.append(row)
            note = f"recurred within {self.reopen_window_s:.0f} s of closing (alert {event.event_id})"
            self._hub(row, "reopen", from_state, row.state, note)
            self._dispatch(row)
        elif isinstance(change, Clear):
            if change.case is None:
                return
            row = self.row(change.case)
            row.cleared, row.updated_at = True, now
            self._tally(change.case, row).cleared_to = 1
            self._hub(row, "clear", row.state, row.state, f"{event.source_id} reported the condition over")
            self.items.append(Item("case.cleared", row, extra={"event_id": event.event_id}))
        else:  # Repeat | Fold
            row = self.row(change.case)
            _repeat(row, event, evidence_id, now)
            if isinstance(change.case, int):
                tally = self._tally(change.case, row)
                if event.phase is Phase.START:
                    tally.added += 1
                    tally.cleared_to = 0
                if evidence_id is not None:
                    tally.evidence_id = evidence_id
                self._repeat_item(change.case, row, f"case.{change.outcome}").event_ids.append(event.event_id)

    def _tally(self, ref: CaseRef, row: CaseRow) -> Tally:
        if isinstance(ref, NewCaseRef):
            return Tally(row)  # a new case is inserted as it ends up in memory: nothing to add in SQL
        tally = self.tallies.get(ref)
        if tally is None:
            tally = self.tallies[ref] = Tally(row)
        return tally

    def _repeat_item(self, case_id: int, row: CaseRow, kind: str) -> Item:
        item = self._repeat_items.get((case_id, kind))
        if item is None:
            item = self._repeat_items[(case_id, kind)] = Item(kind, row)
            self.items.append(item)
        return item

    def _hub(
        self, row: CaseRow, action: str, from_state: CaseState | str | None, to_state: CaseState | str, note: str
    ) -> None:
        self.audit.append(AuditNote(row, action, from_state, to_state, note))

    def _dispatch(self, row: CaseRow) -> None:
        from_state, note = self.plan.assign(row)
        self._hub(row, "dispatch", from_state, row.state, note)
        self.items.append(Item("case.dispatched", row))


def _new_case(change: NewCase, evidence_id: int | None, now: datetime) -> CaseRow:
    event, where = change.event, change.where
    return CaseRow(
        id=None,
        open_key=change.case.key,
        source_kind=event.source_kind.value,
        source_id=event.source_id,
        alert_type=event.alert_type.value,
        gateway_id=event.gateway_id,
        area_id=where.area_id,
        title=event.title,
        state=CaseState.REPORTED.value,
        priority=change.priority.value,
        severity=event.severity.value,
        occurrences=1,
        reopen_count=0,
        cleared=False,
        latest_evidence_id=evidence_id,
        latitude=where.latitude,
        longitude=where.longitude,
        assignee_id=None,
        escalation_level=0,
        accept_due_at=None,
        handle_due_at=None,
        created_at=now,
        updated_at=now,
        dispatched_at=None,
        accepted_at=None,
        handled_at=None,
        closed_at=None,
        on_time=None,
        score=None,
    )


def _repeat(row: CaseRow, event: AlertEvent, evidence_id: int | None, now: datetime) -> None:
    """A repeat (or fold) applied to a case row in memory."""
    if event.phase is Phase.START:
        row.occurrences += 1
        row.cleared = False
    if evidence_id is not None:
        row.latest_evidence_id = evidence_id
    if RANK[event.severity.value] > RANK[row.severity]:
        row.severity = event.severity.value
    row.updated_at = now


def _reopen(row: CaseRow, key: str, evidence_id: int | None, now: datetime) -> None:
    row.open_key = key
    row.reopen_count += 1
    row.occurrences += 1
    row.cleared = False
    row.closed_at = row.on_time = None
    row.accepted_at = row.handled_at = row.handle_due_at = None
    row.state = CaseState.REGISTERED.value
    row.updated_at = now
    if evidence_id is not None:
        row.latest_evidence_id = evidence_id
