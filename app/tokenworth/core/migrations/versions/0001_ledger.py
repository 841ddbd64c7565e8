"""The ledger: usage records, imported files, price overrides, meta.

Revision ID: 0001_ledger
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_ledger"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(128)),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("bucket_seconds", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cache_write_5m_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cache_write_1h_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("request_count", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("cost", sa.BigInteger()),
        sa.Column("cost_provenance", sa.String(16), nullable=False),
        sa.Column("estimated_cost", sa.BigInteger()),
        sa.Column("price_version", sa.String(64)),
        sa.Column("speed", sa.String(16)),
        sa.Column("project", sa.String(512)),
        sa.Column("session_id", sa.String(128)),
        sa.Column("git_branch", sa.String(256)),
        sa.Column("message_id", sa.String(128)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("is_sidechain", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("imported_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_usage_records_dedupe_key"),
    )
    op.create_index("ix_usage_records_ts", "usage_records", ["ts"])
    op.create_index("ix_usage_records_source_ts", "usage_records", ["source", "ts"])
    op.create_index("ix_usage_records_message_id", "usage_records", ["message_id"])
    op.create_index("ix_usage_records_session", "usage_records", ["session_id"])

    op.create_table(
        "imported_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("path", sa.String(2048), nullable=False),
        sa.Column("device", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("inode", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("size", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("offset", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("head_hash", sa.String(64)),
        sa.Column("parser_state", sa.Text()),
        sa.Column("broken_lines", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("records", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_read_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("source", "path", name="uq_imported_files_source_path"),
    )

    op.create_table(
        "price_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("input_mtok", sa.String(32), nullable=False),
        sa.Column("output_mtok", sa.String(32), nullable=False),
        sa.Column("cache_read_mtok", sa.String(32)),
        sa.Column("cache_write_5m_mtok", sa.String(32)),
        sa.Column("cache_write_1h_mtok", sa.String(32)),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("provider", "model", name="uq_price_overrides_provider_model"),
    )

    op.create_table(
        "meta",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_table("price_overrides")
    op.drop_table("imported_files")
    op.drop_index("ix_usage_records_session", table_name="usage_records")
    op.drop_index("ix_usage_records_message_id", table_name="usage_records")
    op.drop_index("ix_usage_records_source_ts", table_name="usage_records")
    op.drop_index("ix_usage_records_ts", table_name="usage_records")
    op.drop_table("usage_records")
