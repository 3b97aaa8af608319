"""The MQTT topic tree: every topic string in gridwatch is built or parsed here, nowhere else.

Tree (all under ``gridwatch/<gateway_id>/`` so a per-gateway ACL can be one pattern, ``gridwatch/%u/#``):

    status                              gateway online/offline, retained, also the last will
    cameras/<camera_id>/status          camera online/offline, retained
    events/<source_kind>                alerts (camera, sensor, gateway), QoS 1
    stats/<camera_id>                   periodic per-camera pipeline statistics
    sensors/<device_id>/up              raw sensor telemetry from devices (any vendor payload)
    sensors/<device_id>/status          device availability announced by the device or its bridge
    config                              hub -> gateway configuration, retained
    cmd/<command>                       hub -> gateway request (correlation id in payload)
    cmd-reply/<correlation_id>          gateway -> hub reply
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from kernel.errors import ContractError

ROOT = "gridwatch"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Channel(StrEnum):
    """What a topic carries; the parsed form of its path after the gateway id."""

    GATEWAY_STATUS = "status"
    CAMERA_STATUS = "camera_status"
    EVENTS = "events"
    STATS = "stats"
    SENSOR_UP = "sensor_up"
    SENSOR_STATUS = "sensor_status"
    CONFIG = "config"
    COMMAND = "cmd"
    COMMAND_REPLY = "cmd_reply"


def check_id(kind: str, value: str) -> str:
    """Return ``value`` if it is a valid id segment (letters, digits, ``_.-``, at most 64), else raise."""
    if not _ID.match(value):
        raise ContractError(
            f"{kind} {value!r} is not a valid id: expected 1-64 characters of letters, digits, '_', '.', '-'"
            " starting with a letter or digit"
        )
    return value


def _base(gateway_id: str) -> str:
    return f"{ROOT}/{check_id('gateway_id', gateway_id)}"


def gateway_status(gateway_id: str) -> str:
    return f"{_base(gateway_id)}/status"


def camera_status(gateway_id: str, camera_id: str) -> str:
    return f"{_base(gateway_id)}/cameras/{check_id('camera_id', camera_id)}/status"


def events(gateway_id: str, source_kind: str) -> str:
    return f"{_base(gateway_id)}/events/{check_id('source_kind', source_kind)}"


def stats(gateway_id: str, camera_id: str) -> str:
    return f"{_base(gateway_id)}/stats/{check_id('camera_id', camera_id)}"


def sensor_up(gateway_id: str, device_id: str) -> str:
    return f"{_base(gateway_id)}/sensors/{check_id('device_id', device_id)}/up"


def sensor_status(gateway_id: str, device_id: str) -> str:
    return f"{_base(gateway_id)}/sensors/{check_id('device_id', device_id)}/status"


def config(gateway_id: str) -> str:
    return f"{_base(gateway_id)}/config"


def command(gateway_id: str, name: str) -> str:
    return f"{_base(gateway_id)}/cmd/{check_id('command', name)}"


def command_reply(gateway_id: str, correlation_id: str) -> str:
    return f"{_base(gateway_id)}/cmd-reply/{check_id('correlation_id', correlation_id)}"


def gateway_acl_pattern() -> str:
    """Mosquitto ACL pattern: a gateway (username = gateway id) may write only under its own prefix."""
    return f"{ROOT}/%u/#"


# -- subscription filters ------------------------------------------------------------------------------

def all_events(gateway_id: str = "+") -> str:
    return f"{ROOT}/{gateway_id}/events/#"


def all_gateway_status() -> str:
    return f"{ROOT}/+/status"


def all_camera_status(gateway_id: str = "+") -> str:
    return f"{ROOT}/{gateway_id}/cameras/+/status"


def all_stats(gateway_id: str = "+") -> str:
    return f"{ROOT}/{gateway_id}/stats/+"


def all_sensor_up(gateway_id: str = "+") -> str:
    return f"{ROOT}/{gateway_id}/sensors/+/up"


def all_sensor_status(gateway_id: str = "+") -> str:
    return f"{ROOT}/{gateway_id}/sensors/+/status"


def all_commands(gateway_id: str) -> str:
    return f"{_base(gateway_id)}/cmd/+"


def everything() -> str:
    """Every topic of the tree (the hub's read access)."""
    return f"{ROOT}/#"


def any_config() -> str:
    """Every gateway's configuration topic (the hub writes them)."""
    return f"{ROOT}/+/config"


def any_command() -> str:
    """Every gateway's command topics (the hub writes them)."""
    return f"{ROOT}/+/cmd/+"


def shared(group: str, topic_filter: str) -> str:
    """A shared subscription: workers of one ``group`` split the messages of ``topic_filter``.

    Mosquitto honours ``$share`` for MQTT 3.1.1 clients too.
    """
    return f"$share/{check_id('group', group)}/{topic_filter}"


# -- parsing ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """A topic taken apart: which gateway, which channel, and the id that follows it (if any)."""

    gateway_id: str
    channel: Channel
    subject: str | None = None


_PATTERNS: tuple[tuple[re.Pattern[str], Channel], ...] = tuple(
    (re.compile(rf"^{ROOT}/(?P<gw>[^/]+)/{path}$"), channel)
    for path, channel in (
        ("status", Channel.GATEWAY_STATUS),
        ("cameras/(?P<subject>[^/]+)/status", Channel.CAMERA_STATUS),
        ("events/(?P<subject>[^/]+)", Channel.EVENTS),
        ("stats/(?P<subject>[^/]+)", Channel.STATS),
        ("sensors/(?P<subject>[^/]+)/up", Channel.SENSOR_UP),
        ("sensors/(?P<subject>[^/]+)/status", Channel.SENSOR_STATUS),
        ("config", Channel.CONFIG),
        ("cmd/(?P<subject>[^/]+)", Channel.COMMAND),
        ("cmd-reply/(?P<subject>[^/]+)", Channel.COMMAND_REPLY),
    )
)


def parse(topic: str) -> ParsedTopic:
    """Take a concrete topic apart; raise ContractError naming the topic when it is not in the tree."""
    for pattern, channel in _PATTERNS:
        match = pattern.match(topic)
        if match:
            gateway_id = check_id("gateway_id", match["gw"])
            subject = match.groupdict().get("subject")
            if subject is not None:
                check_id("topic id", subject)
            return ParsedTopic(gateway_id=gateway_id, channel=channel, subject=subject)
    raise ContractError(
        f"topic {topic!r} is not in the gridwatch topic tree: expected {ROOT}/<gateway_id>/"
        "(status|cameras/<id>/status|events/<kind>|stats/<id>|sensors/<id>/up|sensors/<id>/status|config|"
        "cmd/<name>|cmd-reply/<id>)"
    )
