"""Fixtures shared by the whole suite: the ../shared reference files, free ports, and real brokers."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.launcher import BrokerKind, BrokerSettings, RunningBroker, mosquitto_binary, start_broker
from kernel.settings import MqttSettings
from tests.waiting import wait_until  # noqa: F401 - tests/waiting.py is the one helper; this path still works

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``../shared`` beside the checkout, or the folder named by GRIDWATCH_SHARED_DIR."""
    return Path(os.environ.get("GRIDWATCH_SHARED_DIR", PROJECT_ROOT.parent / "shared"))


def _shared_file(kind: str, name: str) -> Path:
    path = shared_dir() / kind / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: reference {kind} live in ../shared (or set GRIDWATCH_SHARED_DIR)")
    return path


@pytest.fixture
def shared_model():
    """Return a function: model file name -> path under ../shared/models, skipping the test if absent."""
    return lambda name: _shared_file("models", name)


@pytest.fixture
def shared_media():
    """Return a function: media file name -> path under ../shared/media, skipping the test if absent."""
    return lambda name: _shared_file("media", name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


def _broker_kinds() -> list[object]:
    mosquitto = pytest.param(
        BrokerKind.MOSQUITTO, id="mosquitto",
        marks=pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed"),
    )
    return [mosquitto, pytest.param(BrokerKind.EMBEDDED, id="embedded")]


@pytest.fixture(params=_broker_kinds())
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningBroker]:
    """A real broker on a free loopback port, once as Mosquitto and once as the embedded broker."""
    running = start_broker(BrokerSettings(port=free_port(), data_dir=tmp_path / "broker", kind=request.param))
    yield running
    running.stop()


@pytest.fixture
def mosquitto_broker(tmp_path: Path) -> Iterator[RunningBroker]:
    """A real Mosquitto on a free loopback port (for tests that need only one broker kind)."""
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    running = start_broker(BrokerSettings(port=free_port(), data_dir=tmp_path / "broker",
                                          kind=BrokerKind.MOSQUITTO))
    yield running
    running.stop()


@pytest.fixture
def mqtt_settings(broker: RunningBroker) -> MqttSettings:
    """Client settings for the ``broker`` fixture (development credentials)."""
    return MqttSettings(host=broker.host, port=broker.port)
