"""Set-based inserts (central.bulk) on SQLite and PostgreSQL: row order, returned keys, bound types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from central import bulk
from central.db.engine import Database
from central.db.models import FeedEvent
from tests.central.hubkit import database_url


@pytest.fixture
def db(tmp_path, database):
    db = Database(database_url(database) or f"sqlite:///{tmp_path / 'hub.db'}")
    db.upgrade()
    yield db
    db.dispose()


def _item(n: int, at: datetime, data: object) -> dict[str, object]:
    return {
        "at": at,
        "kind": f"k{n}",
        "case_id": None,
        "area_code": None if n % 2 else "g1",
        "alert_type": "intrusion",
        "priority": "red",
        "assignee_id": None,
        "data": data,
    }


@pytest.mark.parametrize("count", [0, 1, 3, 250])
def test_ids_follow_row_order_and_returning_names_each_row(db, count):
    rows = [_item(n, datetime(2026, 1, 1, tzinfo=UTC), {"n": n}) for n in range(count)]
    with db.session() as session:
        returned = bulk.insert_rows(session, FeedEvent.__table__, rows, ("id", "kind"))
    assert sorted(kind for _, kind in returned) == sorted(f"k{n}" for n in range(count))
    with db.session() as session:
        stored = list(session.execute(select(FeedEvent.id, FeedEvent.kind).order_by(FeedEvent.id)))
    assert [kind for _, kind in stored] == [f"k{n}" for n in range(count)]  # sequence order = input order
    assert sorted(stored) == sorted(tuple(r) for r in returned)


def _local_session_zone(session) -> None:
    """A PostgreSQL session in another time zone: what is stored must not depend on it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TIME ZONE 'America/New_York'"))


def test_values_round_trip_through_their_column_types(db):
    """Times in any zone are stored as the same instant; JSON keeps nesting, unicode and nulls."""
    east = timezone(timedelta(hours=8))
    data = {"note": "井盖 open \"quoted\" \\ back", "nested": {"list": [1, 2.5, None, True]}}
    with db.session() as session:
        _local_session_zone(session)
        row = _item(0, datetime(2026, 3, 1, 8, tzinfo=east), data)
        assert bulk.insert_rows(session, FeedEvent.__table__, [row]) == []
    with db.session() as session:
        stored = session.scalars(select(FeedEvent)).one()
    assert stored.at == datetime(2026, 3, 1, 0, tzinfo=UTC)
    assert stored.data == data
    assert stored.area_code == "g1" and stored.case_id is None


def test_a_naive_time_is_refused_as_in_every_other_write(db):
    with pytest.raises(Exception, match="naive datetime"), db.session() as session:
        bulk.insert_rows(session, FeedEvent.__table__, [_item(0, datetime(2026, 1, 1), {})])


def test_update_rows_sets_each_row_by_key_and_may_build_on_stored_values(db):
    """Only the listed rows change; each gets its own values, computed in SQL against what is stored."""
    rows = [_item(n, datetime(2026, 1, 1, tzinfo=UTC), {"n": n}) for n in range(4)]
    with db.session() as session:
        ids = dict((kind, i) for i, kind in bulk.insert_rows(session, FeedEvent.__table__, rows, ("id", "kind")))
    table = FeedEvent.__table__
    later = datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=8)))
    changes = [
        {"id": ids["k1"], "suffix": "-one", "at": later},
        {"id": ids["k3"], "suffix": "-three", "at": later + timedelta(minutes=1)},
    ]
    types = {"id": table.c.id.type, "suffix": table.c.kind.type, "at": table.c.at.type}
    with db.session() as session:
        _local_session_zone(session)
        bulk.update_rows(
            session, table, "id", types, changes, lambda new: {"kind": table.c.kind + new["suffix"], "at": new["at"]}
        )
        bulk.update_rows(session, table, "id", types, [], lambda new: {"kind": new["suffix"]})  # nothing to do
    with db.session() as session:
        stored = {row.kind: row.at for row in session.scalars(select(FeedEvent))}
    assert stored == {
        "k0": datetime(2026, 1, 1, tzinfo=UTC),
        "k1-one": datetime(2026, 5, 1, 4, tzinfo=UTC),
        "k2": datetime(2026, 1, 1, tzinfo=UTC),
        "k3-three": datetime(2026, 5, 1, 4, 1, tzinfo=UTC),
    }


@pytest.mark.parametrize("count", [0, 1, 1201])
def test_one_of_finds_exactly_the_listed_values(db, count):
    """Many values (past one IN list's 500), repeats and misses: each stored match comes back once."""
    rows = [_item(n, datetime(2026, 1, 1, tzinfo=UTC), {}) for n in range(1300)]
    with db.session() as session:
        bulk.insert_rows(session, FeedEvent.__table__, rows)
    wanted = [f"k{n}" for n in range(count)] + [f"k{n}" for n in range(min(count, 10))] + ["missing", "k'; --"]
    with db.session() as session:
        conditions = bulk.one_of(session, FeedEvent.kind, wanted)
        found = [kind for condition in conditions for kind in session.scalars(select(FeedEvent.kind).where(condition))]
    assert sorted(found) == sorted(f"k{n}" for n in range(count))
    if db.engine.dialect.name == "postgresql":
        assert len(conditions) == 1  # one JSON parameter however many values
