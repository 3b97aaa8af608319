"""Browser stories of the closed loop: a smoke alarm appears live, the grid worker handles it, the operator
closes it; a camera case shows its snapshot with the box drawn."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kernel.contracts.messages import AlertType, Severity

from .conftest import PHONE, screenshot
from .stack import HubStack, camera_alert, png_bytes, publish, smoke_alarm

expect = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra").expect
pytestmark = pytest.mark.integration

RED = "rgb(198, 40, 40)"
# The page's own Notification calls, recorded (headless Chromium shows no system notifications to look at).
RECORD_NOTIFICATIONS = """
window.shownNotifications = [];
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) { super(title, options); window.shownNotifications.push(options.body); }
};
"""


def _case_item(page: Any, source_id: str) -> Any:
    return page.locator("#feed .feed-item", has_text=source_id)


def test_smoke_alarm_to_closed_case(console: Any, stack: HubStack, tmp_path: Path) -> None:
    operator = console("olivia", expect_path="/ui/operator")
    worker = console(
        "wang",
        viewport=PHONE,
        expect_path="/ui/worker",
        permissions=["notifications"],
        init_script=RECORD_NOTIFICATIONS,
    )
    expect(operator.locator("body")).to_have_attribute("data-live", "open")
    expect(worker.locator("body")).to_have_attribute("data-live", "open")

    # The alarm goes through the broker like a gateway's; the operator sees it without reloading.
    publish(stack.mqtt, smoke_alarm())
    item = _case_item(operator, "smoke-7")
    expect(item).to_be_visible()  # pushed live: no reload (timing belongs in benchmarks/bench_ingest.py)
    expect(item).to_have_attribute("data-priority", "red")
    expect(item).to_have_css("border-left-color", RED)

    # The worker on shift got the task (dispatched by the hub) and a notification toast.
    expect(worker.locator(".toast", has_text="New task")).to_be_visible()
    assert worker.evaluate("() => window.shownNotifications") == ["New task #1: smoke alarm at smoke-7"]
    task = worker.locator("#tasks .task").first
    expect(task).to_have_attribute("data-state", "dispatched")
    expect(task).to_have_css("border-left-color", RED)
    expect(task.locator(".countdown")).to_have_text(re.compile(r"\d+:\d\d left"))
    expect(task.locator("a.navigate")).to_have_attribute("href", "geo:31.2321,121.4721")
    task.locator("button[data-action=accept]").click()
    task = worker.locator("#tasks .task[data-state=accepted]")
    expect(task).to_be_visible()

    # A file that is not an image is refused by the hub; the message sits next to the photo field and
    # the note typed so far is still there.
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("this is not a JPEG", encoding="utf-8")
    task.locator("textarea[name=note]").fill("Smoke from a kitchen, extinguished")
    task.locator("input[name=photo]").set_input_files(str(not_image))
    task.locator("form.feedback button[type=submit]").click()
    expect(task.locator(".field-error[data-for=photo]")).to_contain_text("not an image")
    expect(task.locator("textarea[name=note]")).to_have_value("Smoke from a kitchen, extinguished")

    photo = tmp_path / "scene.png"
    photo.write_bytes(png_bytes())
    task.locator("input[name=photo]").set_input_files(str(photo))
    task.locator("form.feedback button[type=submit]").click()
    expect(worker.locator(".toast", has_text="Feedback sent")).to_be_visible()
    screenshot(worker, "worker-task-accepted")
    task.locator("button[data-action=handle]").click()
    expect(worker.locator("#tasks .task[data-state=handled]")).to_be_visible()

    # The operator verifies and closes it; the audit trail shows every step.
    item.click()
    view = operator.locator("#case-view")
    expect(view.locator(".badge.state").first).to_have_text("Handled")
    expect(view.locator(".readings")).to_contain_text("smoke_obscuration_pct")
    view.locator(".actions button[data-action=close]").click()
    view.locator("form[data-action=close] input[name=score]").fill("5")
    view.locator("form[data-action=close] button[type=submit]").click()
    expect(view.locator(".badge.state").first).to_have_text("Closed")
    audit = view.locator("#audit")
    for step in ("Accept", "Add note", "Mark handled", "Verify and close"):
        expect(audit).to_contain_text(step)
    photo_in_trail = audit.locator("img.evidence-photo")
    expect(photo_in_trail).to_have_count(1)
    expect(photo_in_trail).to_have_js_property("naturalWidth", 64)
    expect(item).to_contain_text("Closed")
    screenshot(operator, "operator-case-closed")


def test_reject_needs_a_reason_and_keeps_what_was_typed(console: Any, stack: HubStack) -> None:
    # A low-severity alert is not dispatched automatically: it waits in 'reported' for the operator.
    low = smoke_alarm().model_copy(
        update={"alert_type": AlertType.BATTERY_LOW, "severity": Severity.LOW, "title": "battery low smoke-7"}
    )
    operator = console("olivia", expect_path="/ui/operator")
    publish(stack.mqtt, low)
    item = _case_item(operator, "battery low")
    expect(item).to_be_visible()  # pushed live: no reload (timing belongs in benchmarks/bench_ingest.py)
    expect(item).to_have_attribute("data-priority", "blue")
    item.click()
    view = operator.locator("#case-view")
    view.locator(".actions button[data-action=reject]").click()
    form = view.locator("form[data-action=reject]")
    form.locator("button[type=submit]").click()
    expect(form.locator(".field-error[data-for=note]")).to_have_text("Give a reason to reject the case.")
    form.locator("textarea[name=note]").fill("Battery swap already planned")

    # Someone else registers it meanwhile: the hub answers 409 and the reason typed stays in the form.
    case_id = int(item.get_attribute("data-case"))
    stack.api("POST", f"cases/{case_id}/register", json={})
    form.locator("button[type=submit]").click()
    expect(form.locator(".field-error[data-for=note]")).to_contain_text("allowed now")
    expect(form.locator("textarea[name=note]")).to_have_value("Battery swap already planned")


def test_camera_case_shows_snapshot_with_box(console: Any, stack: HubStack) -> None:
    operator = console("olivia", expect_path="/ui/operator")
    publish(stack.mqtt, camera_alert())
    item = _case_item(operator, "cam-gate")
    expect(item).to_be_visible()  # pushed live: no reload (timing belongs in benchmarks/bench_ingest.py)
    item.click()
    canvas = operator.locator("#case-view .snapshot canvas")
    expect(canvas).to_have_attribute("data-boxes", "1")
    # The box is drawn in the snapshot's pixels: a yellow edge at x=250 on the 640x360 snapshot.
    pixel = canvas.evaluate("c => Array.from(c.getContext('2d').getImageData(250, 200, 1, 1).data)")
    assert pixel[:3] == [255, 234, 0]
    # Filters narrow the feed: by type, then by priority.
    operator.locator("#f-type").select_option("intrusion")
    expect(operator.locator("#feed .feed-item")).to_have_count(1)
    operator.locator("#f-type").select_option("")
    operator.locator("#f-priority").select_option("blue")
    expect(operator.locator("#feed .feed-item[data-priority=blue]")).to_have_count(1)
    expect(operator.locator("#feed .feed-item[data-priority=orange]")).to_have_count(0)
    operator.locator("#f-priority").select_option("")
    # Reassign it to the grid leader; the audit trail records who did it.
    operator.locator("#reassign-form input[name=username]").fill("lee")
    operator.locator("#reassign-form button[type=submit]").click()
    expect(operator.locator("#audit")).to_contain_text("reassigned to lee")
    map_marker = operator.locator("#map circle.marker")
    expect(map_marker.first).to_be_visible()
    screenshot(operator, "operator-camera-case")


def test_worker_tasks_are_sorted_by_urgency(console: Any, stack: HubStack) -> None:
    for device_id, kind in (("water-1", "water_level"), ("smoke-8", "smoke")):
        stack.api(
            "POST",
            "sensors",
            json={"device_id": device_id, "gateway_id": "gw-east-1", "kind": kind, "area_code": "g-0101"},
        )
    worker = console("wang", viewport=PHONE, expect_path="/ui/worker")
    water = smoke_alarm("water-1").model_copy(
        update={
            "alert_type": AlertType.WATER_LEVEL_HIGH,
            "severity": Severity.MEDIUM,
            "title": "water rising at water-1",
        }
    )
    publish(stack.mqtt, water)
    expect(worker.locator("#tasks .task", has_text="water rising")).to_be_visible()
    publish(stack.mqtt, smoke_alarm("smoke-8"))
    expect(worker.locator("#tasks .task", has_text="smoke-8")).to_be_visible()
    priorities = worker.locator("#tasks .task").evaluate_all("cards => cards.map(c => c.dataset.priority)")
    ranks = ["red", "orange", "yellow", "blue", "green"]
    assert priorities[:2] == ["red", "yellow"]
    assert priorities == sorted(priorities, key=ranks.index)
    screenshot(worker, "worker-tasks-by-urgency")
