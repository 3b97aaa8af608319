"""The one broker ACL: generated from the topic tree, the same for the hub's files and a hand-kept broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from broker.acl import render_acl
from broker.errors import BrokerError
from broker.production import acl_template
from central.broker_auth import hub_broker_account, write_broker_auth
from kernel.settings import MqttSettings

PINNED = """\
# gridwatch broker ACL (Mosquitto acl_file), generated from the topic tree (broker/acl.py). Do not edit by hand:
# the hub rewrites it with its password file.

user hub
topic read gridwatch/#
topic write gridwatch/+/config
topic write gridwatch/+/cmd/+

# Every other account is a gateway whose user name is its gateway id.
pattern readwrite gridwatch/%u/#
"""


def test_the_acl_is_pinned() -> None:
    assert render_acl(["hub"]) == PINNED


def test_the_hub_writes_the_same_acl_a_hand_kept_broker_gets(tmp_path: Path) -> None:
    account = hub_broker_account(MqttSettings(username="hub", password=SecretStr("pw")), tmp_path, None)
    _, acl = write_broker_auth(tmp_path / "mosquitto", {"gw-1": "$7$hash"}, account)
    assert acl.read_text() == acl_template() == PINNED


def test_hub_processes_sharing_a_data_folder_keep_each_others_accounts(tmp_path: Path) -> None:
    mqtt = MqttSettings(username="hub", password=SecretStr("pw"))
    folder = tmp_path / "mosquitto"
    for worker in (None, "w1", "w2"):
        write_broker_auth(folder, {"gw-1": "$7$hash"}, hub_broker_account(mqtt, tmp_path, worker))
    users = [line.split(":")[0] for line in (folder / "passwd").read_text().splitlines()]
    assert users == ["gw-1", "hub", "hub@w1", "hub@w2"]
    assert (folder / "acl").read_text() == render_acl(["hub", "hub@w1", "hub@w2"])


def test_an_account_name_that_cannot_go_in_an_acl_is_refused() -> None:
    with pytest.raises(BrokerError, match="without spaces"):
        render_acl(["hub w1"])
