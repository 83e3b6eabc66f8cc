"""Alembic environment: always run programmatically by coder.store.engine with a connection."""

from __future__ import annotations

from alembic import context

from coder.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
)
with context.begin_transaction():
    context.run_migrations()
