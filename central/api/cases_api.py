"""Cases and the worker loop: list, read, act (register ... close), reassign, feedback, evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from central.api.deps import MAX_ID, CurrentUser, HubDep, IdPath, IdQuery
from central.nul_guard import NoNulText
from central.states import CaseAction, CaseState, Priority
from central.views import CaseEventPublic, CasePublic

router = APIRouter(prefix="/api/v1", tags=["cases"])

_ERRORS = {
    403: {"description": "role may not do this"},
    404: {"description": "no such case (for you)"},
    409: {"description": "not allowed from the current state"},
}


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000, description="reason (required to reject) or remark")
    score: int | None = Field(None, ge=1, le=5, description="evaluation score when closing")


class ReassignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    note: str | None = Field(None, max_length=2000)


class FeedbackAnswer(BaseModel):
    case_event_id: int
    evidence_id: int | None


@router.get("/cases", response_model=list[CasePublic])
def list_cases(
    hub: HubDep,
    who: CurrentUser,
    state: CaseState | None = None,
    priority: Priority | None = None,
    area_id: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[CasePublic]:
    return hub.cases.list(
        who,
        state=state.value if state else None,
        priority=priority.value if priority else None,
        area_id=area_id,
        limit=limit,
        offset=offset,
    )


@router.get("/tasks", response_model=list[CasePublic])
def my_tasks(hub: HubDep, who: CurrentUser) -> list[CasePublic]:
    """The signed-in worker's open tasks, most urgent first (priority, then accept deadline)."""
    tasks = [
        c
        for c in hub.cases.list(who, mine=True, limit=1000)
        if c.state in (CaseState.DISPATCHED, CaseState.ACCEPTED, CaseState.HANDLED)
    ]
    rank = {p: i for i, p in enumerate(Priority)}
    return sorted(tasks, key=lambda c: (rank[c.priority], c.accept_due_at or c.handle_due_at or c.created_at))


@router.get("/cases/{case_id}", response_model=CasePublic, responses=_ERRORS)
def get_case(hub: HubDep, who: CurrentUser, case_id: IdPath) -> CasePublic:
    return hub.cases.get(who, case_id)


@router.get("/cases/{case_id}/events", response_model=list[CaseEventPublic], responses=_ERRORS)
def case_history(hub: HubDep, who: CurrentUser, case_id: IdPath) -> list[CaseEventPublic]:
    return [CaseEventPublic.of(e) for e in hub.cases.history(who, case_id)]


@router.post("/cases/{case_id}/reassign", response_model=CasePublic, responses=_ERRORS)
def reassign(hub: HubDep, who: CurrentUser, case_id: IdPath, body: ReassignBody) -> CasePublic:
    return hub.cases.reassign(who, case_id, body.username, body.note)


@router.post(
    "/cases/{case_id}/feedback",
    response_model=FeedbackAnswer,
    status_code=201,
    responses={
        **_ERRORS,
        400: {"description": "unsafe file name"},
        413: {"description": "photo too large"},
        415: {"description": "not an image"},
    },
)
async def feedback(
    hub: HubDep,
    who: CurrentUser,
    case_id: IdPath,
    note: Annotated[NoNulText | None, Form(max_length=2000)] = None,
    photo: Annotated[UploadFile | None, File()] = None,
) -> FeedbackAnswer:
    data = None
    name = None
    # May this caller see the case at all? Asked before the upload is read or anything is written, so a
    # refused upload leaves no file behind.
    await run_in_threadpool(hub.cases.get, who, case_id)
    if photo is not None:
        data = await photo.read(hub.evidence.max_bytes + 1)
        name = photo.filename
    event_id, evidence_id = await run_in_threadpool(hub.cases.feedback, who, case_id, note, data, name)
    return FeedbackAnswer(case_event_id=event_id, evidence_id=evidence_id)


@router.get(
    "/evidence/{evidence_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "no such evidence"}},
)
def evidence(hub: HubDep, who: CurrentUser, evidence_id: IdPath) -> FileResponse:
    path, content_type = hub.cases.evidence_file(who, evidence_id)
    return FileResponse(path, media_type=content_type)


@router.post("/cases/{case_id}/{action}", response_model=CasePublic, responses=_ERRORS)
def act(
    hub: HubDep, who: CurrentUser, case_id: IdPath, action: CaseAction, body: ActionBody | None = None
) -> CasePublic:
    """register, reject (note required), dispatch, accept, handle, close (optional score), send_back."""
    body = body or ActionBody()
    return hub.cases.act(who, case_id, action, note=body.note, score=body.score)
