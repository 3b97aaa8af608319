"""The set-based batch writer against a writer it cannot see: repeats of one case from two transactions (two
ingest processes on a shared subscription, PostgreSQL) must add up, and a severity raised meanwhile must stay
raised."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from central.db.models import Case
from gridwatch.contracts.messages import Severity
from tests.central.hubkit import event


def _write(api, session, events):
    hub = api.hub
    return hub.ingestor.write(session, events, {}, hub.clock.now())


def _stored(api, case_id):
    with api.hub.db.session() as session:
        case = session.get(Case, case_id)
        return case.occurrences, case.severity


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_concurrent_batches_on_one_case_wait_for_each_other_and_both_count(api, world):
    """PostgreSQL: the second UPDATE waits for the first transaction's row lock, then re-reads the row."""
    case_id = api.post_event(event("cam-1")).json()["case_id"]
    second_done = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with api.hub.db.session() as session:
                _write(api, session, [event("cam-1", severity=Severity.LOW) for _ in range(3)])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            second_done.set()

    with api.hub.db.session() as first:
        _write(api, first, [event("cam-1", severity=Severity.CRITICAL) for _ in range(2)])
        with api.hub.db.session() as probe:  # the first writer's changes are not visible yet
            assert probe.scalar(select(Case.occurrences).where(Case.id == case_id)) == 1
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not second_done.wait(0.5), "the second writer should wait for the first one's row lock"
    thread.join(timeout=30)
    assert not errors, errors
    assert _stored(api, case_id) == (6, "critical")
