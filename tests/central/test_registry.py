"""Installer registry: gateways with one-time credentials and broker auth files, cameras validated by the
edge's own config model with the stream URL sealed, sensors, and the gateway configuration it runs."""

from __future__ import annotations

import queue
import signal
import sqlite3
import subprocess
import time

import pytest
from pydantic import SecretStr

from broker.launcher import mosquitto_binary
from edge.hub_config import read_hub_config
from kernel.contracts import topics
from kernel.contracts.messages import GatewayConfig
from kernel.errors import TransportError
from kernel.mqtt import Handler, MqttClient
from kernel.settings import DEV_PASSWORD, MqttSettings
from tests.central.hubkit import populate
from tests.conftest import free_port
from tests.waiting import wait_until


@pytest.fixture
def database() -> str:
    return "sqlite"


ZONES = {
    "zones": [{"id": "gate", "polygon": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]}],
    "rules": [
        {"rule_id": "r1", "kind": "intrusion", "zone": "gate", "classes": ["person"], "severity": "high"}
    ],
}


def test_gateway_credentials_are_shown_once(api, world):
    inst = api.as_("inst")
    created = api.client.post("/api/v1/gateways", json={"gateway_id": "gw-9", "name": "North"}, headers=inst)
    assert created.status_code == 201
    body = created.json()
    assert body["mqtt_username"] == "gw-9" and len(body["mqtt_password"]) >= 20
    listed = api.client.get("/api/v1/gateways/gw-9", headers=inst).json()
    assert "password" not in str(listed)
    again = api.client.post("/api/v1/gateways", json={"gateway_id": "gw-9"}, headers=inst)
    assert again.status_code == 409
    assert again.json()["detail"] == "gateway 'gw-9' is already registered"


def test_broker_auth_files_list_the_hub_and_live_gateways(api, world):
    """Without an MQTT account of its own the hub runs on the development account, but the files it writes
    for a production broker never carry that account: they carry 'hub' with a password generated into
    data_dir (0600)."""
    folder = api.hub.settings.data_dir / "mosquitto"
    users = [line.split(":")[0] for line in (folder / "passwd").read_text().splitlines()]
    assert users == ["gw-1", "hub"]  # the hub's own account and the gateway's; no 'gridwatch' dev account
    generated = api.hub.settings.data_dir / "broker-hub-password"
    assert generated.stat().st_mode & 0o777 == 0o600 and generated.read_text().strip() != "gridwatch-dev"
    acl = (folder / "acl").read_text()
    assert "user hub\ntopic read gridwatch/#" in acl and "pattern readwrite gridwatch/%u/#" in acl
    assert "gridwatch-dev" not in (folder / "passwd").read_text() and "user gridwatch\n" not in acl
    api.client.delete("/api/v1/gateways/gw-1", headers=api.as_("inst"))
    assert [line.split(":")[0] for line in (folder / "passwd").read_text().splitlines()] == ["hub"]
    taken = api.client.post("/api/v1/gateways", json={"gateway_id": "hub"}, headers=api.as_("inst"))
    assert taken.status_code == 409 and "hub's own broker account" in taken.json()["detail"]


def _connected(settings: MqttSettings, subscriptions: dict[str, Handler] | None = None) -> MqttClient:
    """A client connected once Mosquitto listens; its subscriptions are acknowledged when this returns."""
    client = MqttClient(settings)
    for topic_filter, handler in (subscriptions or {}).items():
        client.subscribe(topic_filter, handler)
    return wait_until(lambda: client.connect(timeout_s=5) or client, 10,
                      what=f"Mosquitto to listen on port {settings.port}", ignoring=(TransportError,))


def _refused(settings: MqttSettings) -> bool:
    client = MqttClient(settings)
    try:
        client.connect(timeout_s=5)
    except TransportError as exc:
        return "refused" in str(exc)
    client.close()
    return False


@pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")
def test_generated_broker_files_run_a_real_mosquitto(api, world, tmp_path):
    """The hub's passwd and acl as a broker's only auth: the hub reads every gateway, a gateway writes only its
    own subtree, wrong passwords and retired gateways are refused (after the broker reloads the files)."""
    passwd = api.hub.settings.data_dir / "mosquitto" / "passwd"
    inst = api.as_("inst")
    other = api.client.post("/api/v1/gateways", json={"gateway_id": "gw-2", "area_code": "g1"}, headers=inst)
    assert other.status_code == 201, other.text
    port = free_port()
    conf = tmp_path / "gw.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
        f"acl_file {passwd.parent / 'acl'}\nuser root\n"
    )
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)], stderr=subprocess.DEVNULL)
    clients: list[MqttClient] = []
    try:
        inbox: queue.Queue[str] = queue.Queue()
        hub_password = (api.hub.settings.data_dir / "broker-hub-password").read_text().strip()
        hub = _connected(MqttSettings(port=port, username="hub", password=hub_password),  # generated account
                         {topics.all_events(): lambda m: inbox.put(m.topic)})
        clients.append(hub)
        with pytest.raises(TransportError, match="refused"):  # the development account is not in the file
            MqttClient(MqttSettings(port=port)).connect(timeout_s=5)
        gw1 = _connected(MqttSettings(port=port, username="gw-1", password=world["gateway_password"]))
        clients.append(gw1)
        assert gw1.publish(topics.events("gw-2", "camera"), b"forged", wait_s=5)  # acked, but dropped by the ACL
        assert gw1.publish(topics.events("gw-1", "camera"), b"own", wait_s=5)
        assert inbox.get(timeout=5) == "gridwatch/gw-1/events/camera"
        time.sleep(0.3)  # lets time pass on purpose: a forged message delivered late would show now
        assert inbox.empty(), "a gateway's message on another gateway's prefix reached the hub"
        with pytest.raises(TransportError, match="refused"):
            MqttClient(MqttSettings(port=port, username="gw-1", password="wrong-password")).connect(timeout_s=5)
        gw2 = other.json()
        assert api.client.delete("/api/v1/gateways/gw-2", headers=inst).status_code == 200
        proc.send_signal(signal.SIGHUP)  # Mosquitto rereads its password file and ACL
        gw2_settings = MqttSettings(port=port, username="gw-2", password=gw2["mqtt_password"])
        wait_until(lambda: _refused(gw2_settings), 10, what="Mosquitto to reload its password file")
        with pytest.raises(TransportError, match="refused"):
            MqttClient(MqttSettings(port=port, username="gw-2", password=gw2["mqtt_password"])).connect(timeout_s=5)
    finally:
        for client in clients:
            client.close()
        proc.terminate()
        proc.wait()


def test_camera_stream_url_is_sealed_and_never_returned(api, world):
    inst = api.as_("inst")
    cameras = api.client.get("/api/v1/cameras", headers=inst).json()
    assert cameras[0]["stream_url_set"] is True
    assert "secret" not in str(cameras)
    raw = (
        sqlite3.connect(api.hub.settings.data_dir / "hub.db")
        .execute("SELECT stream_url_encrypted FROM cameras")
        .fetchone()[0]
    )
    assert "secret" not in raw and raw.startswith("gAAAA")  # a Fernet token
    config = api.client.get(
        "/api/v1/gateways/gw-1/config", headers=api.as_("gw-1", world["gateway_password"])
    ).json()
    assert "secret" not in str(config)  # the gateway gets its stream credentials sealed, as on MQTT
    # A hub on the development account seals for the development password its gateways share.
    opened = read_hub_config(GatewayConfig.model_validate(config), "gw-1", DEV_PASSWORD)
    assert opened.cameras[0].source.url == "rtsp://u:secret@10.0.0.5/s" and not opened.errors


@pytest.mark.parametrize("person", ["admin", "op", "inst"])
def test_people_see_a_gateways_config_with_credentials_redacted(api, world, person):
    config = api.client.get("/api/v1/gateways/gw-1/config", headers=api.as_(person))
    assert config.status_code == 200, config.text
    assert config.json()["cameras"][0]["source"]["url"] == "rtsp://***:***@10.0.0.5/s"
    assert "secret" not in config.text and "gridwatch-sealed" not in config.text


def test_with_its_own_account_the_hub_seals_for_each_gateways_registered_password(make_api, clock):
    api = make_api(mqtt=MqttSettings(username="hub", password=SecretStr("hub-password")))
    world = populate(api, clock)
    config = api.hub.registry.gateway_config("gw-1")  # what the broker retains
    assert "secret" not in config.model_dump_json()
    opened = read_hub_config(config, "gw-1", world["gateway_password"])
    assert opened.cameras[0].source.url == "rtsp://u:secret@10.0.0.5/s" and not opened.errors
    for password in (DEV_PASSWORD, None):  # another gateway's or the shared account's password opens nothing
        refused = read_hub_config(config, "gw-1", password)
        assert refused.cameras == () and "cam-1" in refused.errors[0] and "source.url" in refused.errors[0]


def test_camera_zones_and_rules_validated_by_edge_model(api, world):
    inst = api.as_("inst")
    good = api.client.post(
        "/api/v1/cameras",
        headers=inst,
        json={"camera_id": "cam-5", "gateway_id": "gw-1", "stream_url": "rtsp://h/s", "config": ZONES},
    )
    assert good.status_code == 201, good.text
    assert good.json()["config"]["zones"][0]["id"] == "gate"
    bad_rules = {**ZONES, "rules": [{**ZONES["rules"][0], "zone": "nowhere"}]}
    bad = api.client.post(
        "/api/v1/cameras",
        headers=inst,
        json={"camera_id": "cam-6", "gateway_id": "gw-1", "stream_url": "rtsp://h/s", "config": bad_rules},
    )
    assert bad.status_code == 422
    assert "camera cam-6" in bad.json()["detail"] and "nowhere" in bad.json()["detail"]
    unknown_key = api.client.patch("/api/v1/cameras/cam-5", headers=inst, json={"config": {"colour": "red"}})
    assert unknown_key.status_code == 422
    assert "colour" in unknown_key.json()["detail"]


def test_config_revision_bumps_and_is_fetchable(api, world):
    gw = api.as_("gw-1", world["gateway_password"])
    before = api.client.get("/api/v1/gateways/gw-1/config", headers=gw).json()
    api.client.patch("/api/v1/cameras/cam-1", headers=api.as_("inst"), json={"config": ZONES})
    after = api.client.get("/api/v1/gateways/gw-1/config", headers=gw).json()
    assert after["revision"] == before["revision"] + 1
    assert after["schema"] == "gateway-config/1"
    assert [s["device_id"] for s in after["sensors"]] == ["smoke-1"]
    inst = api.as_("inst")
    api.client.post("/api/v1/gateways", json={"gateway_id": "gw-2"}, headers=inst)
    other = api.client.get("/api/v1/gateways/gw-2/config", headers=gw)
    assert other.status_code == 403


@pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")
def test_config_change_is_published_retained(make_api, clock, mosquitto_broker):
    mqtt = MqttSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    api = make_api(mqtt=mqtt, mqtt_enabled=True)
    api.hub.start()
    try:
        assert api.hub.mqtt.client.wait_connected(10)
        populate(api, clock)
        received = []
        watcher = MqttClient(mqtt)
        watcher.subscribe(topics.config("gw-1"), received.append)
        watcher.connect()
        wait_until(lambda: received, 10)
        watcher.close()
        assert received and received[-1].retain
        assert b'"gateway_id":"gw-1"' in received[-1].payload
    finally:
        api.hub.stop()


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (
            {"device_id": "s-2", "gateway_id": "gw-1", "kind": "smoke", "linked_camera_ids": ["cam-x"]},
            422,
            "linked_camera_ids: cameras ['cam-x'] are not registered",
        ),
        (
            {"device_id": "s-2", "gateway_id": "gw-404", "kind": "smoke"},
            404,
            "gateway 'gw-404' is not registered",
        ),
        (
            {"device_id": "smoke-1", "gateway_id": "gw-1", "kind": "smoke"},
            409,
            "sensor 'smoke-1' is already registered",
        ),
        (
            {"device_id": "s-2", "gateway_id": "gw-1", "kind": "smoke", "area_code": "zz"},
            422,
            "area_code: no area with code 'zz'",
        ),
    ],
)
def test_sensor_registration_errors(api, world, body, status, detail):
    answer = api.client.post("/api/v1/sensors", json=body, headers=api.as_("inst"))
    assert answer.status_code == status
    assert answer.json()["detail"].startswith(detail)


def test_area_hierarchy_is_checked(api, world):
    admin = api.as_("admin")
    orphan = api.client.post(
        "/api/v1/areas", headers=admin, json={"level": "grid", "code": "gx", "name": "X"}
    )
    assert orphan.status_code == 422
    assert orphan.json()["detail"] == "parent_code: a grid needs a community as parent"
    wrong = api.client.post(
        "/api/v1/areas", headers=admin, json={"level": "grid", "code": "gx", "name": "X", "parent_code": "d1"}
    )
    assert wrong.json()["detail"] == "parent_code: 'd1' is not a community"
    poly = {"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.1, 31.0], [121.1, 31.1], [121.0, 31.0]]]}
    api.client.post(
        "/api/v1/areas",
        headers=admin,
        json={"level": "grid", "code": "g3", "name": "G3", "parent_code": "c1", "geojson": poly},
    )
    collection = api.client.get("/api/v1/areas.geojson", headers=api.as_("op")).json()
    assert [f["properties"]["code"] for f in collection["features"]] == ["g3"]
