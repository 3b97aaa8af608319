"""Per-gateway broker accounts: the Mosquitto password file and ACL the hub writes under data_dir."""

from __future__ import annotations

import os
from pathlib import Path

from gridwatch.contracts import topics

ACL_HEADER = """# Written by the gridwatch hub: one account per registered gateway. Do not edit by hand.
user hub
topic read gridwatch/#
topic write gridwatch/+/config
topic write gridwatch/+/cmd/#

# A gateway (user name = gateway id) reads and writes only its own subtree.
"""


def write_broker_auth(folder: Path, accounts: dict[str, str]) -> tuple[Path, Path]:
    """Write ``passwd`` (gateway id -> Mosquitto $7$ hash) and ``acl`` atomically; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    passwd = folder / "passwd"
    acl = folder / "acl"
    _atomic(passwd, "".join(f"{gw}:{hashed}\n" for gw, hashed in sorted(accounts.items())), 0o600)
    _atomic(acl, ACL_HEADER + f"pattern readwrite {topics.gateway_acl_pattern()}\n", 0o644)
    return passwd, acl


def _atomic(path: Path, text: str, mode: int) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
