"""The usage rollup (15-minute slots) kept by triggers on SQLite, filled from existing records.

Revision ID: 0005_rollup
Revises: 0004_routing
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tokenworth.core.rollup import BACKFILL, SQLITE_TRIGGERS

revision: str = "0005_rollup"
down_revision: str | None = "0004_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGER_NAMES = ("usage_rollup_insert", "usage_rollup_delete", "usage_rollup_update")


def upgrade() -> None:
    op.create_table(
        "usage_rollup",
        sa.Column("slot_ms", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("project", sa.String(512), nullable=False, server_default=""),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("requests", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("records", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cost", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("unpriced", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("slot_ms", "source", "provider", "model", "project", name="pk_usage_rollup"),
    )
    if op.get_context().dialect.name == "sqlite":
        op.execute(BACKFILL)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name in _TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("usage_rollup")
