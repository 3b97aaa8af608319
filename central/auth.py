"""Passwords (argon2 via pwdlib) and bearer tokens (HS256 JWT via pyjwt): issue and verify."""

from __future__ import annotations

import uuid
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


class Passwords:
    """argon2id hashing with a configurable cost (production keeps pwdlib's recommended parameters)."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
        self._dummy = self._hasher.hash("not-a-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        """Check a password; with no hash, still spend the time so user names cannot be probed by timing."""
        if password_hash is None:
            self._hasher.verify(password, self._dummy)
            return False
        return self._hasher.verify(password, password_hash)


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
