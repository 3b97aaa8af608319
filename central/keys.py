"""Hub secrets: the token signing key and the at-rest encryption key, generated once into data_dir."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from central.errors import HubError


def load_or_create(path: Path, make: callable) -> str:  # type: ignore[valid-type]
    """Read the secret in ``path``, or create it (mode 0600) on first start. Hub processes sharing a data
    folder may start together: the file appears whole (written aside, then hard-linked into place, which
    fails if another process got there first) and the loser reads the winner's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(make() + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it meanwhile: use theirs
        finally:
            tmp.unlink()
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise HubError(f"secret file {path} is empty: delete it to generate a new one")
    return value


def jwt_secret(data_dir: Path) -> str:
    return load_or_create(data_dir / "jwt-secret", lambda: secrets.token_urlsafe(48))


class Sealer:
    """Encrypts short secrets (camera stream URLs with passwords) for storage; Fernet = AES-CBC + HMAC."""

    def __init__(self, data_dir: Path) -> None:
        key = load_or_create(data_dir / "fernet.key", lambda: Fernet.generate_key().decode("ascii"))
        self._fernet = Fernet(key.encode("ascii"))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise HubError("stored secret cannot be decrypted with <data_dir>/fernet.key") from exc


def new_password() -> str:
    return secrets.token_urlsafe(18)
