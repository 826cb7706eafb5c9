"""Database schema (SQLAlchemy 2 models) and Alembic migrations; runs on SQLite and PostgreSQL alike."""
