"""The case life cycle as data: states, the allowed transitions table, priorities and roles."""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    REPORTED = "reported"
    REGISTERED = "registered"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    HANDLED = "handled"
    CLOSED = "closed"


class CaseAction(StrEnum):
    """What a person (or the hub) does to a case; each action is one allowed transition."""

    REGISTER = "register"
    REJECT = "reject"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    HANDLE = "handle"
    CLOSE = "close"
    SEND_BACK = "send_back"


TRANSITIONS: dict[CaseAction, tuple[frozenset[CaseState], CaseState]] = {
    CaseAction.REGISTER: (frozenset({CaseState.REPORTED}), CaseState.REGISTERED),
    CaseAction.REJECT: (frozenset({CaseState.REPORTED}), CaseState.REJECTED),
    CaseAction.DISPATCH: (frozenset({CaseState.REGISTERED}), CaseState.DISPATCHED),
    CaseAction.ACCEPT: (frozenset({CaseState.DISPATCHED}), CaseState.ACCEPTED),
    CaseAction.HANDLE: (frozenset({CaseState.ACCEPTED}), CaseState.HANDLED),
    CaseAction.CLOSE: (frozenset({CaseState.HANDLED}), CaseState.CLOSED),
    CaseAction.SEND_BACK: (frozenset({CaseState.HANDLED}), CaseState.DISPATCHED),
}
"""action -> (states it may start from, state it leads to)."""

TERMINAL: frozenset[CaseState] = frozenset({CaseState.CLOSED, CaseState.REJECTED})


def allowed_actions(state: CaseState) -> list[CaseAction]:
    """The actions allowed from ``state``, in table order."""
    return list(_ALLOWED[state])


_ALLOWED: dict[CaseState, tuple[CaseAction, ...]] = {
    state: tuple(action for action, (sources, _) in TRANSITIONS.items() if state in sources) for state in CaseState
}


class Priority(StrEnum):
    """The five-colour grid management scale, most urgent first."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"
    GREEN = "green"


PRIORITY_RANK: dict[Priority, int] = {p: i for i, p in enumerate(Priority)}


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    INSTALLER = "installer"
    GRID_WORKER = "grid_worker"
    GRID_LEADER = "grid_leader"
    GATEWAY = "gateway"


class AreaLevel(StrEnum):
    """The grid hierarchy, top down: a district holds streets, a street communities, a community grids."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


AREA_PARENT: dict[AreaLevel, AreaLevel | None] = {
    AreaLevel.DISTRICT: None,
    AreaLevel.STREET: AreaLevel.DISTRICT,
    AreaLevel.COMMUNITY: AreaLevel.STREET,
    AreaLevel.GRID: AreaLevel.COMMUNITY,
}
