"""Alembic migrations of the hub schema (run programmatically at start-up by central.db.engine)."""
