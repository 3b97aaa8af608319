"""The smaller holes an outside probe found in the hub's HTTP side: odd ids and paths that answered 500,
uploads written before the visibility check, polyglot images, missing browser headers, a world-readable
database."""

from __future__ import annotations

import os
import stat

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.errors import HubError
from central.security_headers import CONTENT_SECURITY_POLICY
from kernel.contracts.messages import AlertType
from tests.central.hubkit import JPEG, PNG, event, make_settings


@pytest.fixture
def database() -> str:
    return "sqlite"


@pytest.mark.parametrize(
    "request_id", ["%C2%B2", "99999999999999999999", "9223372036854775808", "-1", "1e3"],
    ids=["superscript-two", "beyond-64-bits", "just-beyond-bigint", "negative", "exponent"],
)
def test_odd_open311_ids_are_404(api, world, request_id):
    answer = api.client.get(f"/open311/v2/requests/{request_id}.json", headers=api.as_("op"))
    assert answer.status_code == 404, answer.text
    assert "ids are case numbers" in answer.json()["detail"]


def test_a_static_name_the_file_system_refuses_is_404(api):
    assert api.client.get("/ui/static/" + "a" * 300).status_code == 404  # longer than any file name may be


@pytest.mark.parametrize(
    "params, headers",
    [({"after_id": str(2**64)}, {}), ({}, {"Last-Event-ID": str(2**64)})],
    ids=["after_id", "Last-Event-ID"],
)
def test_browser_stream_refuses_ids_beyond_64_bits(api, world, params, headers):
    answer = api.client.get(
        "/ui/api/stream", params={"access_token": api.token("op"), **params}, headers=headers
    )
    assert answer.status_code == 422, answer.text


def _evidence_files(api) -> set[str]:
    return {p.name for p in api.hub.settings.evidence_path.rglob("*") if p.is_file()}


def _photo(shade: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", np.full((16, 16, 3), shade, np.uint8))
    assert ok
    return buffer.tobytes()


def test_an_upload_to_a_case_you_cannot_see_leaves_no_file(api, world):
    case_id = api.post_event(event("cam-1")).json()["case_id"]
    before = _evidence_files(api)
    for user in ("w3", "inst"):  # a worker of another grid; a role that may not add feedback at all
        answer = api.client.post(
            f"/api/v1/cases/{case_id}/feedback",
            headers=api.as_(user),
            data={"note": "not mine"},
            files={"photo": ("x.jpg", _photo(17), "image/jpeg")},
        )
        assert answer.status_code in (403, 404), answer.text
    assert _evidence_files(api) == before


@pytest.mark.parametrize(
    "data, detail",
    [
        (JPEG + b"PK\x03\x04" + b"\x00" * 26, "bytes follow the end of the image"),
        (JPEG + b"<html><script>alert(1)</script></html>", "bytes follow the end of the image"),
        (PNG + b"<?php system($_GET['c']); ?>", "bytes follow the end of the image"),
        (JPEG[: len(JPEG) // 2], "not a valid JPG image"),
        (PNG[:-8], "not a valid PNG image"),
        (b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9", "not a valid JPG image"),
    ],
    ids=["jpeg+zip", "jpeg+html", "png+php", "truncated-jpeg", "truncated-png", "header-only-jpeg"],
)
def test_polyglot_and_broken_images_are_refused(api, world, data, detail):
    case_id = api.post_event(event("cam-1")).json()["case_id"]
    assignee = api.client.get(f"/api/v1/cases/{case_id}", headers=api.as_("op")).json()["assignee_id"]
    worker = next(name for name, uid in world["users"].items() if uid == assignee)
    before = _evidence_files(api)
    answer = api.client.post(
        f"/api/v1/cases/{case_id}/feedback",
        headers=api.as_(worker),
        data={"note": "photo"},
        files={"photo": ("site.jpg", data, "image/jpeg")},
    )
    assert answer.status_code == 415, answer.text
    assert detail in answer.json()["detail"]
    assert _evidence_files(api) == before
    # The same bytes as an alert's snapshot are refused too.
    snap = api.post_event(event("smoke-1", AlertType.SMOKE_ALARM, snapshot=data))
    assert snap.status_code == 415, snap.text


@pytest.mark.parametrize("path", ["/ui/login", "/ui/static/js/api.js", "/health", "/api/v1/auth/me"])
def test_every_response_carries_the_browser_hardening_headers(api, path):
    answer = api.client.get(path)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY


def test_api_docs_keep_their_cdn_but_get_the_other_headers(api):
    answer = api.client.get("/docs")
    assert answer.status_code == 200
    assert "content-security-policy" not in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_data_folder_and_database_are_private(tmp_path):
    data_dir = tmp_path / "hub"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)  # as an older hub (or a umask of 022) left it
    (data_dir / "hub.db").touch(mode=0o644)
    os.chmod(data_dir / "hub.db", 0o644)
    fresh = tmp_path / "fresh"
    for folder in (data_dir, fresh):
        settings = make_settings(tmp_path, None, data_dir=folder)
        with TestClient(create_app(settings, start_workers=False)) as client:
            assert client.get("/health").status_code == 200
            client.app.state.hub.db.dispose()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        for name in ("hub.db", "hub.db-wal", "hub.db-shm"):
            if (folder / name).exists():
                assert stat.S_IMODE((folder / name).stat().st_mode) & 0o077 == 0, name


def test_the_case_service_writes_no_file_for_a_case_the_caller_cannot_see(api, world):
    """The service itself (not only the HTTP route) checks visibility before an upload is written: before,
    ``CaseService.feedback`` stored the photo first and then found the case was not the caller's."""
    case_id = api.post_event(event("cam-1")).json()["case_id"]
    before = _evidence_files(api)
    stranger = api.hub.tokens.verify(api.as_("w3")["Authorization"].split()[1])  # a worker of another grid
    with pytest.raises(HubError):
        api.hub.cases.feedback(stranger, case_id, "not mine", _photo(23), "x.jpg")
    assert _evidence_files(api) == before
