"""Topic builders and the parser agree, and anything outside the tree is refused by name."""

from __future__ import annotations

import pytest

from kernel.contracts import topics
from kernel.contracts.topics import Channel
from kernel.errors import ContractError


@pytest.mark.parametrize(
    ("topic", "channel", "subject"),
    [
        (topics.gateway_status("gw-1"), Channel.GATEWAY_STATUS, None),
        (topics.camera_status("gw-1", "cam.2"), Channel.CAMERA_STATUS, "cam.2"),
        (topics.events("gw-1", "sensor"), Channel.EVENTS, "sensor"),
        (topics.stats("gw-1", "cam_3"), Channel.STATS, "cam_3"),
        (topics.sensor_up("gw-1", "smk-001"), Channel.SENSOR_UP, "smk-001"),
        (topics.sensor_status("gw-1", "smk-001"), Channel.SENSOR_STATUS, "smk-001"),
        (topics.config("gw-1"), Channel.CONFIG, None),
        (topics.command("gw-1", "snapshot"), Channel.COMMAND, "snapshot"),
        (topics.command_reply("gw-1", "c0ffee"), Channel.COMMAND_REPLY, "c0ffee"),
    ],
)
def test_every_builder_round_trips_through_parse(topic: str, channel: Channel, subject: str | None) -> None:
    parsed = topics.parse(topic)
    assert parsed.gateway_id == "gw-1"
    assert parsed.channel is channel
    assert parsed.subject == subject


def test_all_topics_live_under_the_gateway_prefix_the_acl_grants() -> None:
    assert topics.gateway_acl_pattern() == "gridwatch/%u/#"
    assert topics.events("gw-9", "camera").startswith("gridwatch/gw-9/")


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "x" * 65, "-leading", "sp ace"])
def test_invalid_ids_are_refused_with_the_value_named(bad: str) -> None:
    with pytest.raises(ContractError, match="gateway_id"):
        topics.gateway_status(bad)


@pytest.mark.parametrize(
    "topic",
    ["gridwatch/gw-1", "other/gw-1/status", "gridwatch/gw-1/events", "gridwatch/gw-1/sensors/d1/down",
     "gridwatch/gw 1/status", "gridwatch/gw-1/events/camera/extra"],
)
def test_topics_outside_the_tree_are_refused(topic: str) -> None:
    with pytest.raises(ContractError, match="not in the gridwatch topic tree|not a valid id"):
        topics.parse(topic)


def test_filters_and_shared_subscriptions() -> None:
    assert topics.all_events() == "gridwatch/+/events/#"
    assert topics.all_sensor_up("gw-1") == "gridwatch/gw-1/sensors/+/up"
    assert topics.shared("hub", topics.all_events()) == "$share/hub/gridwatch/+/events/#"
