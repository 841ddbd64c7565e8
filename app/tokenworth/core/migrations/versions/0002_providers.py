"""Provider accounts, poll progress, billed costs; web search counts on usage records.

Revision ID: 0002_providers
Revises: 0001_ledger
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_providers"
down_revision: str | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "usage_records",
        sa.Column("web_search_requests", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "provider_accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("key_last4", sa.String(4), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_poll_at", sa.BigInteger()),
        sa.Column("last_status", sa.String(32)),
        sa.Column("last_error", sa.Text()),
        sa.Column("details", sa.Text()),
        sa.UniqueConstraint("provider", "label", name="uq_provider_accounts_provider_label"),
    )
    op.create_table(
        "poll_progress",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("provider_accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("next_start", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("account_id", "endpoint", name="uq_poll_progress_account_endpoint"),
    )
    op.create_table(
        "billed_costs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("bucket_seconds", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(128)),
        sa.Column("line_item", sa.String(256)),
        sa.Column("cost_type", sa.String(32)),
        sa.Column("token_type", sa.String(64)),
        sa.Column("service_tier", sa.String(32)),
        sa.Column("context_window", sa.String(32)),
        sa.Column("project", sa.String(512)),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("quantity", sa.String(40)),
        sa.Column("quantity_unit", sa.String(32)),
        sa.Column("polled_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_billed_costs_dedupe_key"),
    )
    op.create_index("ix_billed_costs_ts", "billed_costs", ["ts"])


def downgrade() -> None:
    op.drop_index("ix_billed_costs_ts", table_name="billed_costs")
    op.drop_table("billed_costs")
    op.drop_table("poll_progress")
    op.drop_table("provider_accounts")
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("web_search_requests")
