"""`gridwatch demo` end to end: the whole stack starts, a simulated smoke alarm reaches the hub, Ctrl-C is clean."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import PROJECT_ROOT, free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def test_demo_runs_the_stack_and_a_smoke_alarm_reaches_the_hub(tmp_path: Path) -> None:
    broker_port, hub_port, metrics_port = free_port(), free_port(), free_port()
    hub = f"http://127.0.0.1:{hub_port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "gridwatch", "demo", "--data-dir", str(tmp_path / "var"),
         "--broker-port", str(broker_port), "--hub-port", str(hub_port), "--edge-metrics-port", str(metrics_port),
         "--cameras", str(PROJECT_ROOT / "configs" / "cameras"), "--sensor-devices", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        health = wait_until(lambda: httpx.get(f"{hub}/health", timeout=2).json(), 90, what="the hub to answer /health",
                            ignoring=(httpx.HTTPError,), poll_s=0.5)
        assert health is not None and health["status"] == "ok", "the hub never answered /health"
        token = httpx.post(f"{hub}/api/v1/auth/token",
                           data={"username": "admin", "password": "gridwatch-admin"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def smoke_alert() -> list[dict]:
            alerts = httpx.get(f"{hub}/api/v1/alerts", params={"limit": 200}, headers=headers, timeout=5).json()
            return [a for a in alerts if a["alert_type"] == "smoke_alarm" and a["source_kind"] == "sensor"]

        found = wait_until(smoke_alert, 60, what="a simulated smoke alarm at the hub", ignoring=(httpx.HTTPError,),
                           poll_s=0.5)
        assert found, "no simulated smoke alarm reached the hub within 60 s"
        assert found[0]["gateway_id"] == "gw-demo"
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert "gridwatch" in metrics
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err[-2000:]
    assert "gridwatch demo is running" in out
    assert f"hub (consoles)           {hub}/" in out
    # The edge flushes its outbox and exits 0; uvicorn re-raises SIGTERM after its graceful shutdown.
    assert "edge: stopped (exit status 0)" in out, out[-2000:]
    assert "hub: stopped (exit status 0)" in out or "hub: stopped (after SIGTERM)" in out, out[-2000:]
    assert "broker: stopped" in out
    assert (tmp_path / "var" / "demo" / "sample.mp4").is_file(), "the demo clip was not generated"
