"""The console pages and assets as the hub serves them, the browser stream's token rule, the config check."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from central.web.routes import STATIC_DIR

from .stack import CAMERA_ID, GATEWAY_ID, HubStack, publish, smoke_alarm

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalogue(lang: str) -> dict[str, str]:
    return dict(json.loads((STATIC_DIR / "i18n" / f"{lang}.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "path, marker",
    [
        ("/ui/login", 'id="login-form"'),
        ("/ui/operator", 'id="feed"'),
        ("/ui/installer", 'id="zone-canvas"'),
        ("/ui/worker", 'id="tasks"'),
        ("/ui/static/js/live.js", "EventSource"),
        ("/ui/static/i18n/zh.json", "operator.title"),
    ],
)
def test_pages_and_assets_are_served(stack: HubStack, path: str, marker: str) -> None:
    answer = httpx.get(f"{stack.url}{path}")
    assert answer.status_code == 200
    assert marker in answer.text


@pytest.mark.parametrize(
    "path", ["/ui/nope", "/ui/static/../routes.py", "/ui/static/%2e%2e/routes.py", "/ui/static/js/missing.js"]
)
def test_unknown_pages_and_path_tricks_are_404(stack: HubStack, path: str) -> None:
    assert httpx.get(f"{stack.url}{path}").status_code == 404


def test_root_redirects_to_sign_in(stack: HubStack) -> None:
    answer = httpx.get(f"{stack.url}/", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "/ui/login"


def test_pages_load_nothing_from_outside_the_hub() -> None:
    """City intranet: no CDN, web fonts or tiles; every src/href is local (or a data: URI)."""
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".html", ".js", ".css"}:
            text = path.read_text(encoding="utf-8")
            assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path
            assert "https://" not in text, path
            if path.suffix == ".css":
                assert "@import" not in text and "url(" not in text, path


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, zh = _catalogue("en"), _catalogue("zh")
    assert en.keys() == zh.keys()
    for key, text in en.items():
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(zh[key])), key


def test_catalogue_covers_every_key_the_pages_name() -> None:
    en = _catalogue("en")
    named: set[str] = set()
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".html", ".js"}:
            text = path.read_text(encoding="utf-8")
            named |= set(re.findall(r'data-i18n(?:-label|-placeholder)?="([a-z_.]+)"', text))
            named |= set(re.findall(r'\bt\("([a-z_.]+)"', text))
    assert named - en.keys() == set()


@pytest.mark.parametrize(
    "query, status", [("", 422), ("?access_token=", 401), ("?access_token=forged.token.x", 401)]
)
def test_browser_stream_needs_a_valid_token(stack: HubStack, query: str, status: int) -> None:
    answer = httpx.get(f"{stack.url}/ui/api/stream{query}")
    assert answer.status_code == status


def test_browser_stream_resumes_after_an_id(stack: HubStack) -> None:
    """A reconnect that passes after_id gets the events it missed, each with its feed id."""
    publish(stack.mqtt, smoke_alarm("smoke-7"))
    stack.api("GET", "auth/me", "olivia")
    token = stack.tokens["olivia"]
    with httpx.stream(
        "GET", f"{stack.url}/ui/api/stream", params={"access_token": token, "after_id": 0}, timeout=10
    ) as answer:
        assert answer.status_code == 200
        lines = [line for line in _first_lines(answer, data_lines=2)]
    # First "hello" with the id the stream starts after (the browser's resume point), then the events.
    assert lines[:3] == ["id: 0", "event: hello", "data: {}"]
    assert lines[4:6] == ["id: 1", "event: case.created"]
    assert json.loads(lines[6][5:].strip())["source_id"] == "smoke-7"


def _first_lines(answer: httpx.Response, data_lines: int) -> list[str]:
    lines: list[str] = []
    for line in answer.iter_lines():
        lines.append(line)
        if line.startswith("data:"):
            data_lines -= 1
            if data_lines == 0:
                break
    return lines


def _check(stack: HubStack, config: dict, username: str = "ivan") -> httpx.Response:
    stack.api("GET", "auth/me", username)  # signs in once, caching the token
    return httpx.post(
        f"{stack.url}/ui/api/camera-config/check",
        headers={"Authorization": f"Bearer {stack.tokens[username]}"},
        json={"camera_id": CAMERA_ID, "gateway_id": GATEWAY_ID, "stream_url": "rtsp://x/1", "config": config},
    )


BOW_TIE = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]


@pytest.mark.parametrize(
    "config, status, needle",
    [
        ({"zones": [{"id": "z", "polygon": [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]}]}, 200, None),
        ({"zones": [{"id": "z", "polygon": BOW_TIE}]}, 422, "zones[0].polygon: polygon is self-intersecting"),
        ({"rules": [{"kind": "intrusion", "rule_id": "r", "zone": "nowhere"}]}, 422, "rules[0].zone"),
        ({"detect": {"conf_threshold": 2}}, 422, "detect.conf_threshold"),
        ({"source": {"url": "rtsp://a"}}, 422, "config.source.url"),
        ({"source": "rtsp://a"}, 422, "config.source: expected a mapping"),
    ],
)
def test_camera_config_check_uses_the_edge_rules(
    stack: HubStack, config: dict, status: int, needle: str | None
) -> None:
    answer = _check(stack, config)
    assert answer.status_code == status, answer.text
    if needle:
        assert needle in answer.json()["detail"]


def test_camera_config_check_is_for_installers(stack: HubStack) -> None:
    assert _check(stack, {}, username="wang").status_code == 403
    assert httpx.post(f"{stack.url}/ui/api/camera-config/check", json={}).status_code == 401
