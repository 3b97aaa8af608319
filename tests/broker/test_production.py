"""The production template really runs: TLS only, no anonymous access, each gateway confined to its prefix."""

from __future__ import annotations

import datetime as dt
import queue
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from broker.errors import BrokerError
from broker.launcher import mosquitto_binary
from broker.passwords import password_line, write_password_file
from broker.production import ProductionBrokerSettings, acl_template, current_user, render_production_config
from gridwatch.contracts import topics
from gridwatch.errors import TransportError
from gridwatch.mqtt import MqttClient
from gridwatch.settings import MqttSettings
from tests.conftest import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "server.crt", tmp / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def production_broker(tmp_path: Path):
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    cert, key = _self_signed(tmp_path)
    settings = ProductionBrokerSettings(
        bind_address="127.0.0.1", data_dir=tmp_path, password_file=tmp_path / "passwords",
        acl_file=tmp_path / "acl", certfile=cert, keyfile=key, cafile=cert,
    )
    write_password_file(settings.password_file, {"gw-1": "pw-1", "gw-2": "pw-2", "hub": "pw-hub"})
    settings.acl_file.write_text(acl_template())
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(render_production_config(settings, port=port, run_user=current_user())
                    .replace("log_dest syslog", "log_dest stderr"))
    process = subprocess.Popen([mosquitto_binary(), "-c", str(conf)], stderr=subprocess.PIPE)
    wait_until(lambda: process.poll() is not None or _listening(port), 10, what=f"mosquitto to listen on {port}")
    assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
    yield port, cert
    process.terminate()
    process.wait(10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _client(port: int, ca: Path, user: str | None, password: str | None) -> MqttClient:
    settings = MqttSettings(host="localhost", port=port, username=user,
                            password=SecretStr(password) if password else None, tls_ca_file=ca)
    return MqttClient(settings)


def test_gateway_can_publish_only_under_its_own_prefix(production_broker) -> None:
    port, ca = production_broker
    hub = _client(port, ca, "hub", "pw-hub")
    inbox: queue.Queue = queue.Queue()
    hub.subscribe(topics.all_events(), inbox.put)
    hub.connect()
    gw1 = _client(port, ca, "gw-1", "pw-1")
    gw1.connect()
    try:
        gw1.publish(topics.events("gw-2", "sensor"), b"forged", wait_s=5)
        assert gw1.publish(topics.events("gw-1", "sensor"), b"own", wait_s=5)
        message = inbox.get(timeout=5)
        assert (message.topic, message.payload) == ("gridwatch/gw-1/events/sensor", b"own")
        time.sleep(0.3)  # lets time pass on purpose: a forged message delivered late would show now
        assert inbox.empty(), "a gateway's message under another gateway's prefix was delivered"
    finally:
        gw1.close()
        hub.close()


@pytest.mark.parametrize(("user", "password"), [(None, None), ("gw-1", "wrong")])
def test_anonymous_and_bad_passwords_are_refused(production_broker, user, password) -> None:
    port, ca = production_broker
    with pytest.raises(TransportError, match="refused"):
        _client(port, ca, user, password).connect(timeout_s=5)


def test_plain_tcp_is_not_accepted(production_broker) -> None:
    port, _ = production_broker
    with pytest.raises(TransportError):
        MqttClient(MqttSettings(host="127.0.0.1", port=port, username="gw-1",
                                password=SecretStr("pw-1"))).connect(timeout_s=3)


def test_password_lines_use_mosquitto_pbkdf2_format() -> None:
    line = password_line("gw-1", "secret", salt=b"0123456789ab")
    user, hashed = line.split(":", 1)
    assert user == "gw-1"
    assert hashed.startswith("$7$101$")
    with pytest.raises(BrokerError, match="no ':'"):
        password_line("a:b", "x")
