"""Published copies: which work each watermark payload id names.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published",
        sa.Column("payload_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("work_pk", sa.Integer(), sa.ForeignKey("works.id"), nullable=False, unique=True),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("published")
