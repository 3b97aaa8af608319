"""Console test fixtures: one real broker + hub per module, Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from broker.launcher import BrokerKind, BrokerSettings, mosquitto_binary, start_broker
from kernel.settings import MqttSettings

from .stack import ADMIN_PASSWORD, PASSWORD, HubStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 960}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    """Mosquitto and a seeded hub on loopback, shared by one test module (a hub start + seed takes ~3 s).

    Module-scoped, so it starts its broker the way the suite's ``mosquitto_broker`` fixture does (that one
    is per test).
    """
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    base = tmp_path_factory.mktemp("web")
    broker = start_broker(
        BrokerSettings(port=_free_port(), data_dir=base / "broker", kind=BrokerKind.MOSQUITTO)
    )
    hub = HubStack(base_dir=base, mqtt=MqttSettings(host=broker.host, port=broker.port), port=_free_port())
    try:
        hub.start()
        hub.seed()
        yield hub
    finally:
        hub.stop()
        broker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium package (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console(browser: Any, stack: HubStack) -> Iterator[Callable[..., Any]]:
    """Return ``open(username, viewport=...)`` -> a signed-in page on that user's console.

    Every page records its JavaScript errors and CSP violations in ``page.js_errors``; the test fails if any
    occurred.
    """
    contexts: list[Any] = []
    pages: list[Any] = []

    def open_console(
        username: str,
        viewport: dict[str, int] | None = None,
        locale: str = "en-GB",
        expect_path: str | None = None,
        base_url: str | None = None,
        init_script: str | None = None,
        **context_args: Any,
    ) -> Any:
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale=locale, timezone_id="Asia/Shanghai", **context_args
        )
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        # The hub sends a strict Content-Security-Policy: anything it blocks is a console error, not a
        # pageerror, and would otherwise go unnoticed while a feature silently stops working.
        page.on("console", lambda msg: msg.type == "error" and "Content Security Policy" in msg.text
                and page.js_errors.append(msg.text))
        page.goto(f"{base_url or stack.url}/ui/login")
        page.fill("#username", username)
        page.fill("#password", ADMIN_PASSWORD if username == "admin" else PASSWORD)
        page.click("#login-form button[type=submit]")
        if expect_path:
            page.wait_for_url(f"**{expect_path}")
        page.wait_for_selector("body[data-ready=true]", timeout=10_000)
        pages.append(page)
        return page

    yield open_console
    errors = [e for p in pages for e in p.js_errors]
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the consoles: {errors}"


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG under artifacts/screenshots/ (git-ignored) for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
