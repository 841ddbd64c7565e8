"""Tasks, their session/branch assignments, attributed usage shares, flat-fee plans.

Revision ID: 0003_tasks
Revises: see `down_revision`

Only new tables plus one index on usage_records, so this revision can sit after any other
revision that leaves those names alone: re-pointing it means changing `down_revision` only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_tasks"
down_revision: str | None = "0002_providers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64)),
        sa.Column("value", sa.BigInteger()),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("notes", sa.Text()),
        sa.Column("link_url", sa.String(2048)),
        sa.Column("git_branch", sa.String(256)),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_tasks_started_at", "tasks", ["started_at"])
    op.create_index("ix_tasks_category", "tasks", ["category"])

    op.create_table(
        "task_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("assigned_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("session_id", name="uq_task_sessions_session_id"),
    )
    op.create_index("ix_task_sessions_task", "task_sessions", ["task_id"])

    op.create_table(
        "task_branches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("project", sa.String(512), nullable=False),
        sa.Column("git_branch", sa.String(256), nullable=False, server_default=""),
        sa.Column("assigned_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("project", "git_branch", name="uq_task_branches_project_branch"),
    )
    op.create_index("ix_task_branches_task", "task_branches", ["task_id"])

    op.create_table(
        "task_attributions",
        sa.Column(
            "record_id",
            sa.Integer(),
            sa.ForeignKey("usage_records.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("share_num", sa.BigInteger(), nullable=False),
        sa.Column("share_den", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_task_attributions_task", "task_attributions", ["task_id"])

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("monthly_fee", sa.BigInteger(), nullable=False),
        sa.Column("covers", sa.String(512), nullable=False),
        sa.Column("first_month", sa.String(7)),
        sa.Column("last_month", sa.String(7)),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("name", name="uq_plans_name"),
    )

    op.create_index("ix_usage_records_imported_at", "usage_records", ["imported_at"])


def downgrade() -> None:
    op.drop_index("ix_usage_records_imported_at", table_name="usage_records")
    op.drop_table("plans")
    op.drop_index("ix_task_attributions_task", table_name="task_attributions")
    op.drop_table("task_attributions")
    op.drop_index("ix_task_branches_task", table_name="task_branches")
    op.drop_table("task_branches")
    op.drop_index("ix_task_sessions_task", table_name="task_sessions")
    op.drop_table("task_sessions")
    op.drop_index("ix_tasks_category", table_name="tasks")
    op.drop_index("ix_tasks_started_at", table_name="tasks")
    op.drop_table("tasks")
    op.execute("DELETE FROM meta WHERE key LIKE 'attribution:%'")
