"""`gridwatch broker` as a user runs it: says which broker it started, one-line reason when it cannot."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from broker.launcher import RunningBroker
from kernel.errors import TransportError
from kernel.mqtt import MqttClient
from kernel.settings import MqttSettings
from tests.conftest import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def _gridwatch(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "gridwatch", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
def test_broker_command_starts_says_which_and_stops_on_sigint(kind: str, tmp_path: Path) -> None:
    from broker.launcher import mosquitto_binary

    if kind == "mosquitto" and mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    port = free_port()
    process = _gridwatch("broker", "--port", str(port), "--kind", kind, "--data-dir", str(tmp_path), cwd=tmp_path)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        client = MqttClient(MqttSettings(port=port))

        def connects() -> bool:
            assert process.poll() is None, "the broker command exited"
            client.connect(timeout_s=2)
            return True

        wait_until(connects, 20, what=f"the broker to accept a client on port {port}", ignoring=(TransportError,),
                   poll_s=0.2)
        assert client.publish("gridwatch/gw-1/status", b"x", wait_s=5)
        client.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    out = first_line + out
    expected = "Mosquitto" if kind == "mosquitto" else "embedded amqtt broker"
    assert f"started {expected} on mqtt://127.0.0.1:{port}" in out
    assert process.returncode == 0, err


def test_port_in_use_is_one_line_and_no_traceback(broker: RunningBroker, tmp_path: Path) -> None:
    process = _gridwatch("broker", "--port", str(broker.port), "--data-dir", str(tmp_path), cwd=tmp_path)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines == [lines[0]] and f"{broker.port} is already in use" in lines[0]


def test_help_teaches_by_example(tmp_path: Path) -> None:
    process = _gridwatch("broker", "--help", cwd=tmp_path)
    out, _ = process.communicate(timeout=30)
    assert "Examples" in out and "gridwatch broker --port" in out
