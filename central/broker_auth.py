"""Broker accounts: the Mosquitto password file and ACL the hub writes under data_dir (one account per
registered gateway and one per hub process), and the signal that makes the broker reload them.

A production broker sets ``use_username_as_clientid``, so an account's client id is its user name: a gateway
can no longer connect under the hub's client id and take over its persistent session. Each hub process that
holds a persistent session therefore needs an account of its own: the hub's is its MQTT user name, an ingest
worker's is ``<hub user>@<worker name>`` ('@' is not allowed in a gateway id, so no gateway can register one).
All hub accounts share the hub's password; every hub process adds its own account to the file and keeps the
others' (the file is rewritten under a lock, as hub processes may share a data folder)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import logging
import os
import secrets
import signal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from broker.acl import render_acl
from broker.passwords import password_hash
from central.errors import HubError
from central.keys import load_or_create, new_password
from kernel.settings import DEV_PASSWORD, DEV_USERNAME, MqttSettings

log = logging.getLogger(__name__)

WORKER_SEPARATOR = "@"  # not a gateway-id character: a worker account can never collide with a gateway
GENERATED_HUB_USER = "hub"


@dataclass(frozen=True, slots=True)
class HubBrokerAccount:
    """This hub process's broker account: its user name in the files, the hub's base user name and password,
    and whether the password was generated into data_dir (no GRIDWATCH_MQTT_* account configured)."""

    username: str
    base: str
    password: str
    generated: bool

    def owns(self, username: str) -> bool:
        """True for the hub's accounts (its base name and its workers'), whatever process wrote them."""
        return username == self.base or username.startswith(self.base + WORKER_SEPARATOR)


def is_dev_account(mqtt: MqttSettings) -> bool:
    """True without a usable account of its own: none, or the published development one."""
    password = mqtt.password.get_secret_value() if mqtt.password else None
    return not mqtt.username or not password or (mqtt.username, password) == (DEV_USERNAME, DEV_PASSWORD)


def hub_broker_account(mqtt: MqttSettings, data_dir: Path, worker_name: str | None) -> HubBrokerAccount:
    """The account the hub writes for this process. The development account (what a hub without
    GRIDWATCH_MQTT_USERNAME/_PASSWORD has) never goes into these files: it would give everyone who knows the
    published development password the hub's rights on a production broker. Instead the files carry the
    account 'hub' with a random password kept in <data_dir>/broker-hub-password."""
    generated = is_dev_account(mqtt)
    if generated:
        base = GENERATED_HUB_USER
        password = load_or_create(data_dir / "broker-hub-password", new_password)
    else:
        base, password = str(mqtt.username), mqtt.password.get_secret_value()  # type: ignore[union-attr]
    if WORKER_SEPARATOR in base:
        raise HubError(
            f"GRIDWATCH_MQTT_USERNAME {base!r} contains {WORKER_SEPARATOR!r}: give the hub's base user name; "
            f"ingest workers connect as <user>{WORKER_SEPARATOR}<worker name> on their own"
        )
    username = base if worker_name is None else f"{base}{WORKER_SEPARATOR}{worker_name}"
    return HubBrokerAccount(username, base, password, generated)


def secret_group(group: str, password: str) -> str:
    """A shared-subscription group name only holders of the hub's password can compute. Mosquitto 2.0's ACL
    does not check subscriptions, so a gateway could join a group it can name and take a share of every
    alert (which the ACL then drops on delivery); it cannot join one it cannot name."""
    digest = hmac.new(password.encode("utf-8"), f"gridwatch shared group {group}".encode(), hashlib.sha256)
    return f"{group}-{digest.hexdigest()[:24]}"


def write_broker_auth(folder: Path, gateways: Mapping[str, str], hub: HubBrokerAccount) -> tuple[Path, Path]:
    """Write ``passwd`` (hub accounts and each gateway id -> Mosquitto $7$ hash) and ``acl`` atomically;
    return their paths. The other hub processes' accounts already in the file are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    passwd = folder / "passwd"
    acl = folder / "acl"
    with _locked(folder / ".lock"):
        hubs = {user: hashed for user, hashed in _read_passwd(passwd).items() if hub.owns(user)}
        hubs[hub.username] = password_hash(hub.password)
        accounts = {**{gw: h for gw, h in gateways.items() if not hub.owns(gw)}, **hubs}
        _atomic(passwd, "".join(f"{user}:{hashed}\n" for user, hashed in sorted(accounts.items())), 0o600)
        _atomic(acl, render_acl(hubs), 0o644)
    return passwd, acl


def reload_broker(pid_file: Path | None) -> bool:
    """Make the Mosquitto whose pid is in ``pid_file`` reread its password file and ACL (SIGHUP); without a pid
    file the broker keeps the files it read last until it is reloaded by hand. False (logged) on failure."""
    if pid_file is None:
        return False
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        log.error("broker not reloaded: cannot signal the pid in %s (%s); new gateway accounts work only after "
                  "`kill -HUP $(cat %s)` on the broker host", pid_file, exc, pid_file)
        return False
    log.info("broker (pid %d from %s) told to reload its password file and ACL", pid, pid_file)
    return True


def _read_passwd(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    lines = (line.split(":", 1) for line in path.read_text(encoding="utf-8").splitlines() if ":" in line)
    return {user: hashed for user, hashed in lines}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _atomic(path: Path, text: str, mode: int) -> None:
    """Replace ``path`` in one step; the temporary name is this writer's own."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
