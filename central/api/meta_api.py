"""GET /api/v1/meta: the closed lists the consoles show (alert types, states, roles, rule kinds ...), from their
Python sources, so the browser code never keeps a copy of its own."""

from __future__ import annotations

from typing import Literal, get_args

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from central.cases import ACTION_ROLES, FIELD
from central.feed import FeedKind
from central.states import TERMINAL, TRANSITIONS, CaseAction, CaseState, Priority, Role
from kernel.camera_config.rules import RuleConfig
from kernel.contracts.messages import AlertType, Availability, Severity, SourceKind
from kernel.sensors.readings import DeviceKind

router = APIRouter(prefix="/api/v1", tags=["meta"])

Shape = Literal["zone", "line"]

# The consoles each role opens, its home first (central/web/routes.py serves these pages). An admin runs the
# operator console and may also register devices; a gateway signs in to the hub's API only, never a console.
CONSOLES: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ("operator", "installer"),
    Role.OPERATOR: ("operator",),
    Role.INSTALLER: ("installer",),
    Role.GRID_WORKER: ("worker",),
    Role.GRID_LEADER: ("worker",),
}

# The classes the installer's rule builder offers as check boxes: the COCO classes a community camera rule
# watches (people, vehicles, dogs, left luggage); a camera file may name any class its model knows.
RULE_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "bus", "truck", "dog", "backpack", "handbag", "suitcase",
)

# Sensor kinds the hub registers without an edge profile (devices read by other systems): the hub's kind is
# free text, these are the ones the installer console offers next to the edge's own kinds.
HUB_ONLY_SENSOR_KINDS: tuple[str, ...] = ("water_level", "gas")


class RuleKind(BaseModel):
    """One camera rule kind as the rule builder needs it (kernel/camera_config/rules.py is the source)."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="the rule's ``kind`` in a camera config")
    shape: Shape | None = Field(description="what the rule is drawn on: a zone, a line, or nothing (motion)")
    param: str | None = Field(description="the one numeric setting the rule requires, e.g. dwell_s; None if none")


class Meta(BaseModel):
    """Every closed list the consoles show or branch on, each in its source's order."""

    model_config = ConfigDict(frozen=True)

    alert_types: list[AlertType]
    severities: list[Severity]
    source_kinds: list[SourceKind]
    availabilities: list[Availability]
    priorities: list[Priority] = Field(description="most urgent first")
    case_states: list[CaseState]
    open_states: list[CaseState] = Field(description="states of a case that is not finished")
    task_states: list[CaseState] = Field(description="states in which a case is a grid worker's task")
    reassign_states: list[CaseState] = Field(description="states in which a case may go to another worker")
    case_actions: list[CaseAction]
    field_actions: list[CaseAction] = Field(description="actions grid workers and leaders take on their tasks")
    roles: list[Role]
    field_roles: list[Role] = Field(description="roles that work cases in the field (assignable)")
    consoles: dict[Role, list[str]] = Field(description="the console pages each role opens, its home first")
    rule_kinds: list[RuleKind]
    rule_classes: list[str] = Field(description="class names the rule builder offers")
    sensor_kinds: list[str] = Field(description="sensor kinds the installer registers, edge-read kinds first")
    feed_kinds: list[FeedKind] = Field(description="the live feed's named events")


def _reachable_from(start: CaseState) -> list[CaseState]:
    """``start`` and every state the transitions table leads to from it, in CaseState order."""
    seen, todo = {start}, [start]
    while todo:
        state = todo.pop()
        for sources, target in TRANSITIONS.values():
            if state in sources and target not in seen:
                seen.add(target)
                todo.append(target)
    return [s for s in CaseState if s in seen]


def _rule_kind(model: type[BaseModel]) -> RuleKind:
    fields = model.model_fields
    (kind,) = get_args(fields["kind"].annotation)
    shape: Shape | None = "zone" if "zone" in fields else "line" if "line" in fields else None
    numbers = [name for name, f in fields.items() if f.is_required() and f.annotation in (int, float)]
    if len(numbers) > 1:
        raise ValueError(f"rule kind {kind!r} requires {numbers}: the rule builder asks for one number at most")
    return RuleKind(kind=kind, shape=shape, param=numbers[0] if numbers else None)


def build_meta() -> Meta:
    """The lists, read from the enums and tables that the hub and the edge run on."""
    field_actions = [a for a in CaseAction if ACTION_ROLES[a] & FIELD]
    # A case is a worker's task from dispatch until it is finished; it can go to someone else while it
    # still waits for field work (accepting or handling), which is exactly what the case service allows.
    tasks = [s for s in _reachable_from(CaseState.DISPATCHED) if s not in TERMINAL]
    waiting = {s for s in CaseState for a in field_actions if s in TRANSITIONS[a][0]}
    rule_union = get_args(RuleConfig)[0]  # Annotated[A | B | ..., Field(discriminator="kind")]
    return Meta(
        alert_types=list(AlertType),
        severities=list(Severity),
        source_kinds=list(SourceKind),
        availabilities=list(Availability),
        priorities=list(Priority),
        case_states=list(CaseState),
        open_states=[s for s in CaseState if s not in TERMINAL],
        task_states=tasks,
        reassign_states=[s for s in tasks if s in waiting],
        case_actions=list(CaseAction),
        field_actions=field_actions,
        roles=list(Role),
        field_roles=[r for r in Role if r in FIELD],
        consoles={role: list(pages) for role, pages in CONSOLES.items()},
        rule_kinds=[_rule_kind(model) for model in get_args(rule_union)],
        rule_classes=list(RULE_CLASSES),
        sensor_kinds=[k.value for k in DeviceKind] + list(HUB_ONLY_SENSOR_KINDS),
        feed_kinds=list(FeedKind),
    )


@router.get("/meta", response_model=Meta)
def meta() -> Meta:
    """The closed lists the consoles show, from the hub's own enums and tables (no sign-in: the same lists
    are in this API's schema, and the sign-in page needs the consoles of each role)."""
    return build_meta()
