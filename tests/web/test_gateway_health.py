"""Browser stories of device health: edge CameraStats published through the broker appear in the operator's
gateway-health panel (with units, in both languages); the installer registers a sensor with its vendor profile
and the gateway's published registration is what the edge's sensor registry reads."""

from __future__ import annotations

from typing import Any

import pytest

from edge.sensors.registry import registry_from_data
from kernel.contracts import topics
from kernel.contracts.messages import (
    Availability,
    CameraStats,
    CameraStatus,
    GatewayStatus,
    Percentiles,
    encode,
    utc_now,
)

from .conftest import screenshot
from .stack import CAMERA_ID, GATEWAY_ID, HubStack

expect = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra").expect
pytestmark = pytest.mark.integration


def _publish_stats(stack: HubStack) -> None:
    """What a gateway's worker sends every stats_interval_s: availability (retained) and the figures (QoS 0)."""
    gateway = GatewayStatus(gateway_id=GATEWAY_ID, state=Availability.ONLINE, ts=utc_now())
    status = CameraStatus(gateway_id=GATEWAY_ID, camera_id=CAMERA_ID, state=Availability.ONLINE, ts=utc_now())
    stats = CameraStats(
        gateway_id=GATEWAY_ID,
        camera_id=CAMERA_ID,
        ts=utc_now(),
        window_s=10.0,
        capture_fps=25.0,
        detect_fps=4.8,
        frames_captured=250,
        frames_skipped_motion=180,
        frames_skipped_budget=22,
        inference_ms=Percentiles(p50=31.5, p95=48.2),
        frame_age_ms=Percentiles(p50=60.0, p95=140.0),
    )
    publisher = stack.hub.mqtt.client  # any connected client will do; the hub's own is at hand
    assert publisher.publish(topics.gateway_status(GATEWAY_ID), encode(gateway), retain=True, wait_s=5)
    assert publisher.publish(topics.camera_status(GATEWAY_ID, CAMERA_ID), encode(status), retain=True, wait_s=5)
    assert publisher.publish(topics.stats(GATEWAY_ID, CAMERA_ID), encode(stats), qos=0, wait_s=5)


def test_operator_sees_camera_figures_in_gateway_health(console: Any, stack: HubStack) -> None:
    _publish_stats(stack)
    operator = console("olivia", expect_path="/ui/operator")
    row = operator.locator(f"#camera-health tr[data-camera={CAMERA_ID}]")
    # The panel polls every 5 s; the stats writer flushes every second.
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator("td").nth(3)).to_have_text("4.8", timeout=10_000)
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("online")
    expect(cells.nth(2)).to_have_text("25.0")
    expect(cells.nth(4)).to_have_text("180 / 22 of 250")
    expect(cells.nth(5)).to_have_text("31.5 / 48.2")
    expect(cells.nth(6)).to_have_text("140")
    health = operator.locator("#gateway-health")
    expect(health.locator("thead")).to_contain_text("Detect (fps)")
    expect(health.locator("thead")).to_contain_text("Inference p50 / p95 (ms)")
    expect(health.locator(f"tr[data-gateway={GATEWAY_ID}]")).to_contain_text(f"Gateway {GATEWAY_ID}: online")
    operator.locator("#gateway-health").scroll_into_view_if_needed()
    screenshot(operator, "operator-gateway-health")

    chinese = console("olivia", locale="zh-CN", expect_path="/ui/operator")
    expect(chinese.locator("#gateway-health thead")).to_contain_text("推理耗时 p50 / p95（毫秒）", timeout=10_000)
    expect(chinese.locator(f"#camera-health tr[data-camera={CAMERA_ID}] td").nth(5)).to_have_text("31.5 / 48.2")
    screenshot(chinese, "operator-gateway-health-zh")


def test_installer_registers_a_sensor_with_its_vendor_profile(console: Any, stack: HubStack) -> None:
    page = console("ivan", expect_path="/ui/installer")
    form = page.locator("#sensor-form")
    form.locator("input[name=device_id]").fill("cover-9")
    form.locator("select[name=gateway_id]").select_option(GATEWAY_ID)
    form.locator("select[name=kind]").select_option("manhole_cover")
    vendor = form.locator("select[name=vendor]")
    expect(vendor).to_have_value("gridwatch")  # the edge's own format is the default
    expect(vendor.locator("option")).to_have_text(["covertech", "gridwatch"])
    vendor.select_option("covertech")
    form.locator("button[type=submit]").click()
    expect(page.locator("#device-list tr[data-device=cover-9]")).to_contain_text("manhole_cover / covertech")

    # A kind without an edge profile takes no vendor.
    form.locator("select[name=kind]").select_option("water_level")
    expect(vendor).to_have_value("")
    expect(vendor.locator("option")).to_have_text(["- (no edge profile)"])

    config = stack.api("GET", f"gateways/{GATEWAY_ID}/config", "ivan")
    devices = registry_from_data(config["sensors"], source="hub config", gateway_id=GATEWAY_ID).devices()
    assert devices["cover-9"].profile.vendor == "covertech"
