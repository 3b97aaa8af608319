"""The hub's data layer: SQLAlchemy tables, engine and sessions, and Alembic migrations."""
