"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from central.db.engine import Database
from central.db.models import Base
from tests.central.hubkit import database_url


def test_migrations_match_the_models(tmp_path, database):
    db = Database(database_url(database) or f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        db.upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        db.dispose()
    assert differences == [], "models and migrations differ: write a migration for\n" + "\n".join(
        map(str, differences)
    )
