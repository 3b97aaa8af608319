"""Passwords (argon2 via pwdlib) and bearer tokens (HS256 JWT via pyjwt): issue and verify."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from central.errors import HubError
from central.states import Role


class AuthError(HubError):
    """A missing, stale or forged token, or wrong credentials (HTTP 401)."""

    status_code = 401


class TooManyAttempts(HubError):
    """Sign-in throttled, or every password-hashing slot busy (HTTP 429 with Retry-After)."""

    status_code = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class Passwords:
    """argon2id hashing with a configurable cost (production keeps pwdlib's recommended parameters). At most
    ``max_concurrent`` hashes run at once: each allocates ``memory_kib``, so unbounded sign-ins would be a
    lever on the hub's memory; a caller that finds no slot within ``wait_s`` gets TooManyAttempts."""

    def __init__(self, time_cost: int, memory_kib: int, max_concurrent: int = 2, wait_s: float = 5.0) -> None:
        self._hasher = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._wait_s = wait_s
        self._dummy = self._hasher.hash("not-a-password")

    def hash(self, password: str) -> str:
        with self._slot():
            return self._hasher.hash(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        """Check a password; with no hash, still spend the time so user names cannot be probed by timing."""
        with self._slot():
            if password_hash is None:
                self._hasher.verify(password, self._dummy)
                return False
            return self._hasher.verify(password, password_hash)

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait_s):
            raise TooManyAttempts("the hub is busy checking passwords: try again in a moment", 1)
        try:
            yield
        finally:
            self._slots.release()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: from a verified token (with that token's id and times, for revocation)."""

    user_id: int
    username: str
    role: Role
    token_id: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None


class TokenIssuer:
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(self, principal: Principal, now: datetime) -> str:
        claims = {
            "sub": str(principal.user_id),
            "name": principal.username,
            "role": principal.role.value,
            "jti": uuid.uuid4().hex,
            "iat": round(now.timestamp(), 3),  # milliseconds: "signed out everywhere" at t spares later tokens
            "exp": int((now + timedelta(seconds=self.ttl_s)).timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired: sign in again at POST /api/v1/auth/token") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError("token signature is invalid: it was not issued by this hub") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"token is not a valid hub token: {exc}") from exc
        try:
            return Principal(
                user_id=int(claims["sub"]),
                username=str(claims["name"]),
                role=Role(claims["role"]),
                token_id=str(claims["jti"]) if "jti" in claims else None,
                issued_at=datetime.fromtimestamp(float(claims["iat"]), UTC) if "iat" in claims else None,
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (KeyError, ValueError, TypeError, OverflowError, OSError) as exc:
            raise AuthError("token claims are incomplete: expected sub, name and a known role") from exc
