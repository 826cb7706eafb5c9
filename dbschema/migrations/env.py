"""Alembic environment. Migrations run on a connection handed in by `dbschema.migrate` (async engines)."""

from __future__ import annotations

from alembic import context

from dbschema.all import include_object, metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through dbschema.migrate (python -m stack.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
