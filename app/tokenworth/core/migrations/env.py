"""Alembic environment: runs on the connection the app hands over (see core.db.upgrade), or
offline to write the SQLite schema script (see core.schema)."""

from alembic import context

from tokenworth.core.models import Base

if context.is_offline_mode():
    context.configure(
        dialect_name="sqlite",
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
else:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through tokenworth.core.db.upgrade()")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
with context.begin_transaction():
    context.run_migrations()
