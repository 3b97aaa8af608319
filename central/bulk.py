"""Set-based inserts and updates of many rows of one table: one statement, on PostgreSQL one JSON parameter.

A multi-row ``VALUES (...), (...)`` insert of 500 alerts carries 8,000 placeholders, and psycopg re-parses
that long, ever-changing query text on every batch (its query cache skips long statements): profiled, that
parse was a third of the hub's ingest time on PostgreSQL; one array parameter per column instead spent as long
in psycopg's pure-Python array quoting. ``INSERT ... SELECT ... FROM json_to_recordset(:rows)`` sends the same
short text every time and the rows as one JSON document (serialised by orjson); PostgreSQL
unpacks it. Updates take the same document as the ``FROM`` of one ``UPDATE``. Other databases (SQLite) keep
SQLAlchemy's multi-row insert and an executemany update (both run in C there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    TIMESTAMP,
    ColumnElement,
    String,
    Table,
    bindparam,
    cast,
    column,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from central.db.models import UtcDateTime

Fields = Mapping[str, ColumnElement[Any]]
_IN_LIST = 500  # values per IN (...) list where there is no JSON parameter


def one_of(session: Session, target: ColumnElement[Any], values: Iterable[str]) -> list[ColumnElement[bool]]:
    """``target IN values`` as few conditions as the database needs (one on PostgreSQL: the values as one JSON
    array, no per-value placeholders to render and parse; lists of 500 elsewhere). Select once per condition."""
    wanted = sorted(set(values))
    if not wanted:
        return []
    if session.get_bind().dialect.name == "postgresql":
        document = cast(bindparam(None, orjson.dumps(wanted).decode(), type_=String), JSON)
        return [target.in_(select(func.json_array_elements_text(document)))]
    return [target.in_(wanted[i : i + _IN_LIST]) for i in range(0, len(wanted), _IN_LIST)]


def insert_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], returning: Sequence[str] = ()
) -> list[Row[Any]]:
    """Insert ``rows`` (dicts with the same keys) in one statement; the ``returning`` columns of the new rows,
    in no particular order on PostgreSQL (return a key with them to match rows up)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        statement = insert(table)
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
            return list(session.execute(statement, list(rows)))
        session.execute(statement, list(rows))
        return []
    names = list(rows[0])
    quote = dialect.identifier_preparer.quote
    listed = ", ".join(quote(n) for n in names)
    times = {n for n in names if isinstance(table.c[n].type, UtcDateTime)}
    record = ", ".join(
        f"{quote(n)} {'TIMESTAMPTZ' if n in times else table.c[n].type.compile(dialect=dialect)}" for n in names
    )
    selected = ", ".join(f"{quote(n)} AT TIME ZONE 'UTC'" if n in times else quote(n) for n in names)
    # Ids come from the sequence in ORDINALITY order, so they follow the order of ``rows`` (feed readers
    # rely on a case's "created" item preceding its "dispatched" one).
    sql = (
        f"INSERT INTO {quote(table.name)} ({listed}) SELECT {selected} "
        f"FROM ROWS FROM (json_to_recordset(CAST(:rows AS json)) AS ({record})) "
        f"WITH ORDINALITY AS t({listed}, row_order) "
        "ORDER BY row_order"
    )
    if returning:
        sql += f" RETURNING {', '.join(quote(n) for n in returning)}"
    types = {name: table.c[name].type for name in names}
    result = session.execute(text(sql), {"rows": _document(types, rows, dialect)})
    return list(result) if returning else []


def update_rows(
    session: Session,
    table: Table,
    key: str,
    types: Mapping[str, TypeEngine[Any]],
    rows: Sequence[dict[str, Any]],
    values: Callable[[Fields], Mapping[str, ColumnElement[Any]]],
) -> None:
    """``UPDATE table SET values(row) WHERE table.key = row.key`` for each of ``rows`` (dicts with the keys of
    ``types``). ``values`` gets the row's fields as SQL expressions and may combine them with the current
    column values (``occurrences + added``), so counters add up under concurrent writers."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    fields: Fields
    if dialect.name != "postgresql":
        fields = {name: bindparam(f"row_{name}", type_=type_) for name, type_ in types.items()}
        statement = update(table).where(table.c[key] == fields[key]).values(dict(values(fields)))
        session.execute(statement, [{f"row_{name}": value for name, value in row.items()} for row in rows])
        return
    record_types = {n: TIMESTAMP(timezone=True) if isinstance(t, UtcDateTime) else t for n, t in types.items()}
    source = (
        func.json_to_recordset(cast(bindparam("rows", type_=String), JSON))
        .table_valued(*(column(name, type_) for name, type_ in record_types.items()))
        .render_derived(name="incoming", with_types=True)
    )
    fields = {
        name: func.timezone("UTC", source.c[name]) if isinstance(type_, UtcDateTime) else source.c[name]
        for name, type_ in types.items()
    }
    statement = update(table).where(table.c[key] == fields[key]).values(dict(values(fields)))
    session.execute(statement, {"rows": _document(types, rows, dialect)})


def _document(types: Mapping[str, TypeEngine[Any]], rows: Sequence[dict[str, Any]], dialect: Dialect) -> str:
    """The rows as one JSON array of objects, each value bound as its column type would bind it (a textual
    statement skips SQLAlchemy's own bind processing). Times stay as they are, with their UTC offset (the
    statement reads them as ``timestamptz`` and converts them to UTC), once checked to carry one."""
    processors: dict[str, Callable[[Any], Any]] = {}
    times = [name for name, column_type in types.items() if isinstance(column_type, UtcDateTime)]
    for row in rows:
        for name in times:
            value = row[name]
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"naive datetime {value!r}: the hub stores only timezone-aware UTC times")
    for name, column_type in types.items():
        if isinstance(column_type, JSON | UtcDateTime):
            continue  # a JSON value inside the document, or a time handled above
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    if processors:
        rows = [{**row, **{n: p(row[n]) for n, p in processors.items()}} for row in rows]
    return orjson.dumps(rows, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    """Called by orjson for what it cannot write itself (it writes times, dates, enums and UUIDs)."""
    raise TypeError(f"bulk insert: cannot write {type(value).__name__} value {value!r} as JSON")
