"""The set-based batch writer against a writer it cannot see: repeats of one case from two transactions (two
ingest processes on a shared subscription, PostgreSQL) must add up, and a severity raised meanwhile must stay
raised."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from central.db.models import Case, CaseEvent
from kernel.contracts.messages import Severity
from tests.central.hubkit import event
from tests.conftest import wait_until


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


def _close(api, case_id):
    for action in ("accept", "handle", "close"):
        answer = api.client.post(f"/api/v1/cases/{case_id}/{action}", headers=api.as_("op"))
        assert answer.status_code == 200, answer.text


def _blocked_on_a_lock(api) -> bool:
    with api.hub.db.session() as session:
        waiting = session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return waiting > 0


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_two_processes_reopening_one_case_reopen_it_once(api, world):
    """Both ingest processes read the case closed; the second one's re-open waits for the first one's row lock,
    then finds the case open again: it repeats the case instead of re-opening (and dispatching) it twice."""
    case_id = api.post_event(event("cam-1")).json()["case_id"]
    _close(api, case_id)
    results: list = []

    def second_process() -> None:
        results.extend(api.hub.ingestor.ingest_batch([event("cam-1")], "mqtt"))

    with api.hub.db.session() as first:
        [reopened] = _write(api, first, [event("cam-1")])
        thread = threading.Thread(target=second_process)
        thread.start()
        assert wait_until(lambda: _blocked_on_a_lock(api)), "the second writer never reached the row lock"
    thread.join(timeout=30)
    assert (reopened.outcome, reopened.case_id) == ("reopened", case_id)
    assert [(r.outcome, r.case_id) for r in results] == [("repeated", case_id)]
    with api.hub.db.session() as session:
        case = session.get(Case, case_id)
        assert (case.reopen_count, case.occurrences, case.state) == (1, 3, "dispatched")
        actions = session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)).all()
    assert actions.count("reopen") == 1 and actions.count("dispatch") == 2  # the first dispatch, then the re-open's
