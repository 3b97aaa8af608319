"""Hub test fixtures: a hub on SQLite and on a throwaway PostgreSQL, with a hand-driven clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.clock import ManualClock
from tests.central.hubkit import Api, database_url, make_settings, populate


def _database_params() -> list[Any]:
    return [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")]


@pytest.fixture(params=_database_params())
def database(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_api(tmp_path: Path, database: str, clock: ManualClock) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []
    url = database_url(database)  # every hub built in one test shares the database (replicas, restarts)

    def build(**overrides: Any) -> Api:
        settings = make_settings(tmp_path, url, **overrides)
        client = TestClient(create_app(settings, clock=clock, start_workers=False))
        client.__enter__()
        clients.append(client)
        return Api(client)

    yield build
    for client in clients:
        client.__exit__(None, None, None)
        client.app.state.hub.db.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def world(api: Api, clock: ManualClock) -> dict[str, Any]:
    return populate(api, clock)
