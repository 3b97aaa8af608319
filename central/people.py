"""People and places: the grid hierarchy, user accounts with roles, shifts, and signing in."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.area_geometry import check_area_geometry
from central.auth import AuthError, Passwords, Principal, TokenIssuer
from central.clock import Clock
from central.db.engine import Database
from central.db.models import Area, RevokedToken, Shift, User
from central.errors import Conflict, Forbidden, Invalid, NotFound
from central.schemas import (
    AreaCreate,
    AreaPublic,
    PasswordChange,
    ShiftCreate,
    ShiftPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from central.sign_in_throttle import SignInThrottle
from central.states import AREA_PARENT, AreaLevel, Role

log = logging.getLogger(__name__)


def area_id_of(session: Session, code: str | None, field: str = "area_code") -> int | None:
    """The id of the area with ``code``; Invalid naming the field when there is none."""
    if code is None:
        return None
    area_id = session.scalars(select(Area.id).where(Area.code == code)).first()
    if area_id is None:
        raise Invalid(f"{field}: no area with code {code!r}; create it at POST /api/v1/areas")
    return area_id


def _area_public(area: Area) -> AreaPublic:
    return AreaPublic(
        id=area.id,
        level=AreaLevel(area.level),
        code=area.code,
        name=area.name,
        parent_id=area.parent_id,
        geojson=_stored_geometry(area),
    )


def _stored_geometry(area: Area) -> dict[str, Any] | None:
    """The area's outline; None (logged) for one stored before outlines were checked that fails the check,
    so that one bad row cannot break every read of the area list."""
    if area.geojson is None:
        return None
    try:
        return check_area_geometry(area.geojson) if isinstance(area.geojson, dict) else _bad_geometry(area)
    except (ValueError, RecursionError):
        return _bad_geometry(area)


def _bad_geometry(area: Area) -> None:
    log.warning("area %s: stored outline is not a valid Polygon/MultiPolygon; left out (set it again)", area.code)
    return None


def _user_public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        role=Role(user.role),
        display_name=user.display_name,
        area_id=user.area_id,
        active=user.active,
    )


class People:
    def __init__(self, db: Database, tokens: TokenIssuer, passwords: Passwords, clock: Clock,
                 throttle: SignInThrottle | None = None) -> None:
        self.db = db
        self.passwords = passwords
        self.tokens = tokens
        self.clock = clock
        self.throttle = throttle

    # -- areas -------------------------------------------------------------------------------------------

    def create_area(self, body: AreaCreate) -> AreaPublic:
        with self.db.session() as session:
            parent_level = AREA_PARENT[body.level]
            parent_id = area_id_of(session, body.parent_code, "parent_code")
            if (parent_level is None) != (parent_id is None):
                expected = f"a {parent_level.value}" if parent_level else "none"
                raise Invalid(f"parent_code: a {body.level.value} needs {expected} as parent")
            if parent_id is not None and session.get(Area, parent_id).level != parent_level.value:
                raise Invalid(f"parent_code: {body.parent_code!r} is not a {parent_level.value}")
            if session.scalars(select(Area.id).where(Area.code == body.code)).first() is not None:
                raise Conflict(f"area code {body.code!r} already exists")
            area = Area(
                level=body.level.value,
                code=body.code,
                name=body.name,
                parent_id=parent_id,
                geojson=body.geojson,
            )
            session.add(area)
            session.flush()
            return _area_public(area)

    def list_areas(self) -> list[AreaPublic]:
        with self.db.session() as session:
            return [_area_public(a) for a in session.scalars(select(Area).order_by(Area.id))]

    def led_area_ids(self, user_id: int) -> frozenset[int]:
        """The area of a grid leader and every area beneath it (what a leader may see); empty without one."""
        with self.db.session() as session:
            own = session.scalar(select(User.area_id).where(User.id == user_id))
            if own is None:
                return frozenset()
            children: dict[int | None, list[int]] = {}
            for area_id, parent_id in session.execute(select(Area.id, Area.parent_id)):
                children.setdefault(parent_id, []).append(area_id)
        found, todo = {own}, [own]
        while todo:  # the hierarchy has four levels; a visited set guards against a cycle all the same
            for child in children.get(todo.pop(), ()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return frozenset(found)

    def area_codes(self, area_ids: frozenset[int]) -> frozenset[str]:
        if not area_ids:
            return frozenset()
        with self.db.session() as session:
            return frozenset(session.scalars(select(Area.code).where(Area.id.in_(area_ids))))

    # -- users and shifts ------------------------------------------------------------------------------

    def create_user(self, body: UserCreate) -> UserPublic:
        with self.db.session() as session:
            area_id = area_id_of(session, body.area_code)
            if body.role in (Role.GRID_WORKER, Role.GRID_LEADER) and area_id is None:
                raise Invalid(f"area_code: a {body.role.value} needs the area they work in")
            user = User(
                username=body.username,
                password_hash=self.passwords.hash(body.password.get_secret_value()),
                role=body.role.value,
                display_name=body.display_name,
                area_id=area_id,
                active=True,
            )
            session.add(user)
            try:
                session.flush()
            except IntegrityError as exc:
                raise Conflict(f"username {body.username!r} is taken") from exc
            return _user_public(user)

    def list_users(self, role: Role | None = None) -> list[UserPublic]:
        query = select(User).order_by(User.id)
        if role is not None:
            query = query.where(User.role == role.value)
        with self.db.session() as session:
            return [_user_public(u) for u in session.scalars(query)]

    def add_shift(self, user_id: int, body: ShiftCreate) -> ShiftPublic:
        if body.ends_at <= body.starts_at:
            raise Invalid("ends_at must be after starts_at")
        if body.starts_at.tzinfo is None or body.ends_at.tzinfo is None:
            raise Invalid("shift times need a UTC offset, e.g. 2026-11-28T08:00:00Z")
        with self.db.session() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            if user.role != Role.GRID_WORKER.value:
                raise Invalid(f"user {user.username!r} is a {user.role}: shifts are for grid workers")
            shift = Shift(user_id=user_id, starts_at=body.starts_at, ends_at=body.ends_at)
            session.add(shift)
            session.flush()
            return ShiftPublic(id=shift.id, user_id=user_id, starts_at=shift.starts_at, ends_at=shift.ends_at)

    def ensure_admin(self, password: str) -> bool:
        """Create the first admin when there are no users; True if it was created now."""
        with self.db.session() as session:
            if session.scalar(select(func.count(User.id))) > 0:
                return False
            session.add(
                User(
                    username="admin",
                    display_name="Administrator",
                    password_hash=self.passwords.hash(password),
                    role=Role.ADMIN.value,
                    active=True,
                )
            )
            return True

    # -- signing in ------------------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, address: str = "unknown") -> str:
        """A token for ``username``; a throttled account or client ``address`` is refused before any hashing."""
        if self.throttle is not None:
            self.throttle.check(username, address)
        with self.db.session() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            ok = self.passwords.verify(password, user.password_hash if user else None)
            active = user is not None and ok and user.active
            principal = Principal(user_id=user.id, username=user.username, role=Role(user.role)) if active else None
        if principal is None:
            log.warning("failed sign-in for %r from %s", username, address)
            if self.throttle is not None:
                self.throttle.failed(username, address)
            raise AuthError("wrong username or password")
        if self.throttle is not None:
            self.throttle.succeeded(username)
        # Tokens live in real time (their expiry is checked against the wall clock by pyjwt).
        return self.tokens.issue(principal, datetime.now(UTC))

    def check_active(self, principal: Principal) -> None:
        """A token of a deleted or deactivated account, a signed-out token, or one issued before the account's
        password changed (or it signed out everywhere) is refused even before it expires."""
        with self.db.session() as session:
            user = session.get(User, principal.user_id)
            if user is None or not user.active or user.username != principal.username:
                raise AuthError("token belongs to an account that no longer exists or is disabled")
            cutoff = user.tokens_not_before
            if cutoff is not None and (principal.issued_at is None or principal.issued_at < cutoff):
                raise AuthError("token was revoked (password changed or signed out everywhere): sign in again")
            if principal.token_id is not None and session.get(RevokedToken, principal.token_id) is not None:
                raise AuthError("token was revoked (signed out): sign in again")

    def sign_out(self, principal: Principal, everywhere: bool) -> None:
        """Revoke the caller's token, or every token of the account issued until now."""
        now = datetime.now(UTC)  # token times are wall-clock times (see sign_in)
        with self.db.session() as session:
            session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))  # expired anyway
            if everywhere or principal.token_id is None:  # a token without an id can only go with all of them
                self._end_sessions(session, principal.user_id, now)
                return
            session.add(
                RevokedToken(
                    token_id=principal.token_id,
                    user_id=principal.user_id,
                    expires_at=principal.expires_at or now,
                    revoked_at=now,
                )
            )

    def change_password(self, principal: Principal, body: PasswordChange) -> None:
        """The caller's own password; every token of the account issued so far stops working."""
        if principal.role is Role.GATEWAY:
            raise Forbidden("a gateway's password is also its MQTT password: an installer re-registers the gateway")
        with self.db.session() as session:
            user = session.get(User, principal.user_id)
            if user is None or not self.passwords.verify(body.current_password.get_secret_value(), user.password_hash):
                raise Forbidden("current_password is wrong")
            user.password_hash = self.passwords.hash(body.new_password.get_secret_value())
            self._end_sessions(session, user.id, datetime.now(UTC))

    def update_user(self, user_id: int, body: UserUpdate) -> UserPublic:
        """Admin: enable or disable an account, rename it, or set its password (the last two end its sessions)."""
        with self.db.session() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound(f"no user with id {user_id}")
            if user.role == Role.GATEWAY.value:
                raise Conflict(f"user {user.username!r} is a gateway account: manage it at /api/v1/gateways")
            if body.display_name is not None:
                user.display_name = body.display_name
            if body.password is not None:
                user.password_hash = self.passwords.hash(body.password.get_secret_value())
            if body.active is not None:
                user.active = body.active
            if body.password is not None or body.active is False:
                self._end_sessions(session, user.id, datetime.now(UTC))
            return _user_public(user)

    @staticmethod
    def _end_sessions(session: Session, user_id: int, now: datetime) -> None:
        user = session.get(User, user_id)
        if user is not None:
            user.tokens_not_before = now
