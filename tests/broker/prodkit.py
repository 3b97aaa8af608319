"""A production Mosquitto for tests: the project's template with a throwaway TLS certificate, on loopback."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from broker.launcher import mosquitto_binary
from broker.production import ProductionBrokerSettings, current_user, render_production_config
from tests.conftest import free_port, wait_until


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A CA-capable certificate for localhost/127.0.0.1 and its key, valid from five minutes ago for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "server.crt", tmp / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class ProductionBroker:
    """A running production-template Mosquitto: its port, CA file, pid file and log."""

    process: subprocess.Popen[bytes]
    port: int
    cafile: Path
    pid_file: Path
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def tls_material(folder: Path) -> tuple[int, Path, Path]:
    """A free port and a certificate/key pair, chosen before the broker starts (clients need both)."""
    cert, key = self_signed(folder)
    return free_port(), cert, key


def start_production_broker(folder: Path, password_file: Path, acl_file: Path, *,
                            port: int | None = None, cert_key: tuple[Path, Path] | None = None) -> ProductionBroker:
    """Mosquitto from broker/conf/mosquitto-prod.conf.tmpl on 127.0.0.1 over TLS, logging to a file."""
    binary = mosquitto_binary()
    assert binary is not None
    cert, key = cert_key or self_signed(folder)
    port = port or free_port()
    settings = ProductionBrokerSettings(
        bind_address="127.0.0.1", data_dir=folder, password_file=password_file, acl_file=acl_file,
        pid_file=folder / "mosquitto.pid", certfile=cert, keyfile=key, cafile=cert,
    )
    conf = folder / "mosquitto.conf"
    conf.write_text(render_production_config(settings, port=port, run_user=current_user())
                    .replace("log_dest syslog", "log_dest stderr"))
    log = folder / "mosquitto.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([binary, "-c", str(conf)], stderr=sink)

    def listening() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    assert wait_until(listening, 10), "the production broker did not open its port"
    return ProductionBroker(process, port, cert, settings.pid_file, log)
