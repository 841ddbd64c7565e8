"""Accepted routing experiments.

Revision ID: 0004_routing
Revises: 0003_tasks

One new table and nothing else, so this revision can sit after any other revision that leaves
its name alone: re-pointing it means changing `down_revision` only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_routing"
down_revision: str | None = "0003_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_experiments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("suggestion_id", sa.String(16), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("category", sa.String(64)),
        sa.Column("from_provider", sa.String(32), nullable=False),
        sa.Column("from_model", sa.String(128), nullable=False),
        sa.Column("to_provider", sa.String(32), nullable=False),
        sa.Column("to_model", sa.String(128), nullable=False),
        sa.Column("evidence", sa.String(16), nullable=False),
        sa.Column("task_count", sa.Integer(), nullable=False),
        sa.Column("baseline_tasks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("baseline_value_per_task", sa.BigInteger()),
        sa.Column("baseline_cost_per_task", sa.BigInteger()),
        sa.Column("baseline_tfp", sa.String(32)),
        sa.Column("expected_savings", sa.BigInteger()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("accepted_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger()),
        sa.Column("task_ids", sa.Text()),
    )
    op.create_index("ix_routing_experiments_status", "routing_experiments", ["status"])


def downgrade() -> None:
    op.drop_index("ix_routing_experiments_status", table_name="routing_experiments")
    op.drop_table("routing_experiments")
