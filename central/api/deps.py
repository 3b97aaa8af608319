"""Dependencies every router shares: the hub, the signed-in principal, and role gates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer

from central.auth import AuthError, Principal
from central.errors import Forbidden
from central.hub import Hub
from central.states import Role

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


HubDep = Annotated[Hub, Depends(get_hub)]


def current_principal(hub: HubDep, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    if not token:
        raise AuthError("not signed in: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token")
    principal = hub.tokens.verify(token)
    hub.people.check_active(principal)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (admin always), with a 403 naming who may."""
    allowed = frozenset(roles) | {Role.ADMIN}

    def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"role '{principal.role.value}' may not do this: allowed for "
                f"{', '.join(sorted(r.value for r in allowed))}"
            )
        return principal

    return check


Staff = Annotated[Principal, Depends(require(Role.OPERATOR))]
Installer = Annotated[Principal, Depends(require(Role.INSTALLER, Role.OPERATOR))]
InstallerOnly = Annotated[Principal, Depends(require(Role.INSTALLER))]
Admin = Annotated[Principal, Depends(require())]


MAX_ID = 2**63 - 1  # the largest id a BIGINT (and SQLite INTEGER) column holds
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
