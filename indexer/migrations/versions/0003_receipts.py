"""Signed receipts (removals), kept so they can be fetched again.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("creator_id", sa.String(200), nullable=False, index=True),
        sa.Column("signed", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("receipts")
