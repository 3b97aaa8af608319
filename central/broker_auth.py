"""Broker accounts: the Mosquitto password file and ACL the hub writes under data_dir, with one account per
registered gateway and the hub's own account (so a broker pointed at these files still lets the hub in)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gridwatch.contracts import topics

ACL_HEADER = """# Written by the gridwatch hub: the hub's account and one per registered gateway. Do not edit by hand.
user {hub}
topic read gridwatch/#
topic write gridwatch/+/config
topic write gridwatch/+/cmd/#

# A gateway (user name = gateway id) reads and writes only its own subtree.
"""


def write_broker_auth(folder: Path, gateways: dict[str, str], hub: tuple[str, str]) -> tuple[Path, Path]:
    """Write ``passwd`` (the hub's user and each gateway id -> Mosquitto $7$ hash) and ``acl`` atomically;
    return their paths. ``hub`` is the hub's (user name, hash); a gateway cannot take its name."""
    hub_user, hub_hash = hub
    gateways = {gw: hashed for gw, hashed in gateways.items() if gw != hub_user}
    folder.mkdir(parents=True, exist_ok=True)
    passwd = folder / "passwd"
    acl = folder / "acl"
    accounts = {**gateways, hub_user: hub_hash}
    _atomic(passwd, "".join(f"{user}:{hashed}\n" for user, hashed in sorted(accounts.items())), 0o600)
    header = ACL_HEADER.format(hub=hub_user)
    _atomic(acl, header + f"pattern readwrite {topics.gateway_acl_pattern()}\n", 0o644)
    return passwd, acl


def _atomic(path: Path, text: str, mode: int) -> None:
    """Replace ``path`` in one step; the temporary name is this writer's own (hub processes may share a data
    folder and write at the same moment)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
