"""Hub secrets on disk: created once, whole, even when several hub processes start on one data folder."""

from __future__ import annotations

import secrets
import stat
import threading

import pytest

from central.errors import HubError
from central.keys import load_or_create


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    path = tmp_path / "hub" / "jwt-secret"
    start = threading.Barrier(8)
    values: list[str] = []

    def starter() -> None:
        start.wait()
        values.append(load_or_create(path, lambda: secrets.token_urlsafe(48)))

    threads = [threading.Thread(target=starter) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(values) == 8 and len(set(values)) == 1
    assert path.read_text().strip() == values[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["jwt-secret"]  # no temporary files left behind
    assert load_or_create(path, lambda: "never used") == values[0]  # later starts read it


def test_an_emptied_secret_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "fernet.key"
    path.write_text("\n")
    with pytest.raises(HubError, match="fernet.key is empty"):
        load_or_create(path, lambda: "x")
