"""Claims and their lifecycle events.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("creator_id", sa.String(200), nullable=False, index=True),
        sa.Column("claimant", sa.String(64), nullable=False),
        sa.Column("query_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("dispute_until", sa.DateTime(), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("packet_sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "claim_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(32), sa.ForeignKey("claims.claim_id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
    )
    op.create_index("ix_claim_events_claim_id", "claim_events", ["claim_id"])


def downgrade() -> None:
    op.drop_table("claim_events")
    op.drop_table("claims")
