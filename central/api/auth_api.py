"""Signing in: POST /api/v1/auth/token (OAuth2 password form) and GET /api/v1/auth/me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from central.api.deps import CurrentUser, HubDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    user_id: int
    username: str
    role: str


@router.post("/token", response_model=Token, responses={401: {"description": "wrong username or password"}})
def token(hub: HubDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    return Token(access_token=hub.people.sign_in(form.username, form.password), expires_in=hub.tokens.ttl_s)


@router.get("/me", response_model=Me)
def me(principal: CurrentUser) -> Me:
    return Me(user_id=principal.user_id, username=principal.username, role=principal.role.value)
