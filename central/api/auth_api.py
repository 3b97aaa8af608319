"""Signing in and out: POST /api/v1/auth/token (OAuth2 password form), GET /api/v1/auth/me, POST
/api/v1/auth/logout (this token, or every token of the account), POST /api/v1/auth/password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from central.api.deps import CurrentUser, HubDep
from central.schemas import PasswordChange

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    user_id: int
    username: str
    role: str


@router.post(
    "/token",
    response_model=Token,
    responses={
        401: {"description": "wrong username or password"},
        429: {"description": "too many failed sign-ins for the account or from the address: see Retry-After"},
    },
)
def token(hub: HubDep, request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    address = request.client.host if request.client else "unknown"
    return Token(access_token=hub.people.sign_in(form.username, form.password, address), expires_in=hub.tokens.ttl_s)


@router.get("/me", response_model=Me)
def me(principal: CurrentUser) -> Me:
    return Me(user_id=principal.user_id, username=principal.username, role=principal.role.value)


@router.post("/logout", status_code=204, response_class=Response, responses={401: {"description": "not signed in"}})
def logout(hub: HubDep, principal: CurrentUser, everywhere: bool = False) -> Response:
    """Revoke this token at once (it would otherwise live until it expires); ``everywhere=true`` revokes every
    token of the account issued until now, on every device."""
    hub.people.sign_out(principal, everywhere)
    return Response(status_code=204)


@router.post(
    "/password",
    status_code=204,
    response_class=Response,
    responses={403: {"description": "current password wrong, or a gateway account"}},
)
def change_password(hub: HubDep, principal: CurrentUser, body: PasswordChange) -> Response:
    """Change your own password; every token of the account, this one included, stops working: sign in again."""
    hub.people.change_password(principal, body)
    return Response(status_code=204)
