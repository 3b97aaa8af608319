"""The broker ACL, generated from the topic tree in one place: the hub's accounts read every gateway's
subtree and write configuration and commands; every other account is a gateway confined to its own subtree.

The hub writes it beside its password file (central/broker_auth.py) and ``acl_template()`` serves it for a
broker whose files are kept by hand, so the two can no longer drift apart.

Mosquitto 2.0's ``acl_file`` checks what a client may publish and which messages it receives, not what it
subscribes to: a gateway may subscribe to ``$share/<group>/...`` and so join a shared group. The hub's ingest
workers therefore use a group name no gateway can know (central/broker_auth.py, ``secret_group``)."""

from __future__ import annotations

from collections.abc import Iterable

from broker.errors import BrokerError
from kernel.contracts import topics

_HEADER = """\
# gridwatch broker ACL (Mosquitto acl_file), generated from the topic tree (broker/acl.py). Do not edit by hand:
# the hub rewrites it with its password file.
"""


def hub_rules() -> tuple[str, ...]:
    """What a hub account may do: read everything, write gateways' configuration and commands."""
    return (
        f"topic read {topics.everything()}",
        f"topic write {topics.any_config()}",
        f"topic write {topics.any_command()}",
    )


def gateway_rules() -> tuple[str, ...]:
    """What every other account (a gateway: user name = gateway id) may do: its own subtree only."""
    return (f"pattern readwrite {topics.gateway_acl_pattern()}",)


def render_acl(hub_accounts: Iterable[str]) -> str:
    """The whole ACL for ``hub_accounts`` (each gets the hub's rules); every other account is a gateway."""
    lines = [_HEADER]
    for user in sorted(set(hub_accounts)):
        if not user or any(c.isspace() for c in user) or ":" in user:
            raise BrokerError(f"hub account {user!r} cannot go in an ACL: expected a user name without spaces")
        lines += [f"user {user}", *hub_rules(), ""]
    lines += ["# Every other account is a gateway whose user name is its gateway id.", *gateway_rules()]
    return "\n".join(lines) + "\n"
