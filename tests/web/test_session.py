"""Sign-in, roles, expiry and sign-out; language and keyboard use; the lost-connection banner and resume."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import DESKTOP, screenshot
from .netcut import CuttableRelay
from .stack import ADMIN_PASSWORD, PASSWORD, HubStack, publish, smoke_alarm

expect = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra").expect
pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "username, home, hidden",
    [
        ("olivia", "/ui/operator", None),
        ("ivan", "/ui/installer", "#feed"),
        ("wang", "/ui/worker", "#filters"),
    ],
)
def test_each_role_lands_on_its_own_console(
    console: Any, username: str, home: str, hidden: str | None
) -> None:
    page = console(username, expect_path=home)
    # A console of another role sends the user back to their own.
    other = "/ui/installer" if home != "/ui/installer" else "/ui/operator"
    page.goto(page.url.replace(home, other))
    page.wait_for_url(f"**{home}")
    if hidden:
        expect(page.locator(hidden)).to_have_count(0)


def test_signing_in_before_the_page_finished_loading_opens_the_console(browser: Any, stack: HubStack) -> None:
    """A quick user (or a slow hub) submits before the page has its lists and catalogue: the sign-in still
    goes through the page's own handler (never the browser's default GET with the password in the URL)."""
    context = browser.new_context()
    page = context.new_page()
    held: list[Any] = []
    # The hub's lists and the catalogue answer only once the form was sent.
    for pattern in ("**/api/v1/meta", "**/i18n/*.json"):
        page.route(pattern, lambda route: held.append(route))
    page.goto(f"{stack.url}/ui/login")
    page.fill("#username", "olivia")
    page.fill("#password", PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    assert "password" not in page.url
    for route in held:
        route.continue_()
    page.unroute_all()
    page.wait_for_url("**/ui/operator")
    page.wait_for_selector("body[data-ready=true]")
    context.close()


def test_wrong_password_is_refused_next_to_the_form(browser: Any, stack: HubStack) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{stack.url}/ui/login")
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator(".field-error[data-for=username]")).to_have_text("Required.")
    page.fill("#username", "olivia")
    page.fill("#password", "not-the-password")
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("#login-form .form-error")).to_have_text("Wrong user name or password.")
    expect(page.locator("#username")).to_have_value("olivia")
    context.close()


def test_expired_session_and_sign_out_go_back_to_login(console: Any) -> None:
    page = console("olivia", expect_path="/ui/operator")
    bearer = page.evaluate("() => JSON.parse(sessionStorage.getItem('gw.session')).token")
    me = page.request.get(f"{page.url.split('/ui/')[0]}/api/v1/auth/me", headers={"Authorization": f"Bearer {bearer}"})
    assert me.status == 200
    page.locator("#logout").click()
    page.wait_for_url("**/ui/login?reason=signed_out")
    # Signing out revoked the token on the hub: a copy of it no longer works either.
    me = page.request.get(f"{page.url.split('/ui/')[0]}/api/v1/auth/me", headers={"Authorization": f"Bearer {bearer}"})
    assert me.status == 401
    expect(page.locator("#login-notice")).to_have_text("You are signed out.")
    page.goto(page.url.replace("/ui/login?reason=signed_out", "/ui/operator"))
    page.wait_for_url("**/ui/login**")

    page = console("olivia", expect_path="/ui/operator")
    # The token's own expiry is what the page watches; make it lapse now.
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('gw.session'));
        s.expiresAt = Date.now() - 1000; sessionStorage.setItem('gw.session', JSON.stringify(s)); }""")
    page.reload()
    page.wait_for_url("**/ui/login?reason=expired")
    expect(page.locator("#login-notice")).to_contain_text("session expired")


def test_a_token_the_hub_refuses_ends_the_session(console: Any) -> None:
    page = console("olivia", expect_path="/ui/operator")
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('gw.session'));
        s.token = s.token.slice(0, -4) + 'AAAA';
        sessionStorage.setItem('gw.session', JSON.stringify(s)); }""")
    page.reload()
    page.wait_for_url("**/ui/login?reason=expired")


def test_chinese_labels_from_the_browser_language_and_switching(console: Any) -> None:
    page = console("olivia", locale="zh-CN", expect_path="/ui/operator")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#feed-heading")).to_have_text("实时案件")
    expect(page.locator("label[for=f-priority]")).to_have_text("优先级")
    screenshot(page, "operator-zh")
    page.locator("#lang").select_option("en")
    expect(page.locator("#feed-heading")).to_have_text("Live cases")


def test_keyboard_order_and_visible_focus_on_sign_in(browser: Any, stack: HubStack) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{stack.url}/ui/login")
    page.locator("body").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Tab")
    submit = page.locator("#login-form button[type=submit]")
    expect(submit).to_be_focused()
    assert submit.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/operator")
    context.close()


def test_lost_connection_shows_a_banner_and_resumes(console: Any, stack: HubStack) -> None:
    relay = CuttableRelay(stack.port)
    try:
        page = console("olivia", expect_path="/ui/operator", base_url=f"http://127.0.0.1:{relay.port}")
        expect(page.locator("body")).to_have_attribute("data-live", "open")
        banner = page.locator("#connection-banner")
        expect(banner).to_be_hidden()
        relay.cut()
        expect(banner).to_be_visible()
        screenshot(page, "operator-connection-lost")
        # An alarm while the operator is cut off is not missed: the feed resumes after its last event id.
        publish(stack.mqtt, smoke_alarm().model_copy(update={"title": "smoke while offline"}))
        relay.restore()
        expect(banner).to_be_hidden(timeout=15_000)
        expect(page.locator("#feed .feed-item", has_text="smoke while offline")).to_be_visible()
    finally:
        relay.close()
