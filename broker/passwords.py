"""Mosquitto password-file entries, written without the mosquitto_passwd binary (the hub may run elsewhere)."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from broker.errors import BrokerError

_ITERATIONS = 101  # Mosquitto 2's default for its $7$ (PBKDF2-SHA512) format


def password_hash(password: str, *, salt: bytes | None = None) -> str:
    """Mosquitto 2's ``$7$`` hash of ``password`` (PBKDF2-SHA512, 12-byte salt), as mosquitto_passwd writes."""
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ITERATIONS)
    return f"$7${_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_line(username: str, password: str, *, salt: bytes | None = None) -> str:
    """One ``user:$7$...`` line in Mosquitto 2's PBKDF2-SHA512 format."""
    if not username or ":" in username or "\n" in username:
        raise BrokerError(f"user name {username!r} cannot go in a password file: no ':' or newlines allowed")
    return f"{username}:{password_hash(password, salt=salt)}"


def write_password_file(path: Path, accounts: Mapping[str, str]) -> None:
    """Write ``accounts`` (user -> password) atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(password_line(u, p) + "\n" for u, p in sorted(accounts.items())))
    tmp.chmod(0o600)
    tmp.replace(path)
