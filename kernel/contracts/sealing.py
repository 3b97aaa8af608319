"""Secrets in a hub-to-gateway configuration, sealed for that one gateway: a camera stream URL that carries
credentials travels (and stays retained on the broker) encrypted under a key derived from the gateway's own
registered password, which only the hub (at registration) and the gateway know; and the same URL shown to a
person is redacted.

A sealed value is a string ``gridwatch-sealed:v1:<Fernet token>`` in place of the clear one; Fernet is
AES-128-CBC with HMAC-SHA256, the key HKDF-SHA256 over the password, bound to the gateway id."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kernel.errors import ContractError

SEALED_PREFIX = "gridwatch-sealed:v1:"
REDACTED = "***"
# Query parameters that carry credentials in camera URLs (e.g. http://cam/video.cgi?user=admin&pwd=...).
_SECRET_PARAM = re.compile(r"pass|pwd|token|secret|key|auth|sig|user", re.IGNORECASE)


def gateway_key(gateway_id: str, password: str) -> bytes:
    """The Fernet key for ``gateway_id``'s configuration secrets, from its registered (MQTT) password."""
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"gridwatch gateway config seal v1",
        info=gateway_id.encode("utf-8"),
    ).derive(password.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


def has_secret(url: str) -> bool:
    """True when ``url`` carries credentials: a user/password part, or a credential-like query parameter."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return True
    return any(_SECRET_PARAM.search(name) for name, _ in parse_qsl(parts.query, keep_blank_values=True))


def redact(url: str) -> str:
    """``url`` with its credentials replaced by ``***`` (for people: the API, consoles, logs)."""
    if is_sealed(url):
        return REDACTED
    parts = urlsplit(url)
    if not parts.scheme or not has_secret(url):
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}:{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = urlencode(
        [(k, REDACTED if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def seal(value: str, key: bytes) -> str:
    return SEALED_PREFIX + Fernet(key).encrypt(value.encode("utf-8")).decode("ascii")


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def unseal(value: str, key: bytes) -> str:
    """The clear value; ContractError when ``key`` is not the one it was sealed with."""
    try:
        return Fernet(key).decrypt(value[len(SEALED_PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise ContractError(
            "sealed value cannot be opened: it was sealed for this gateway's registered password, and the "
            "password this gateway has is a different one"
        ) from exc
