"""Initial catalog: creators, works (with tombstones), raw vectors, state.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "creators",
        sa.Column("creator_id", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "works",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("work_id", sa.String(1000), nullable=False, unique=True),
        sa.Column(
            "creator_id", sa.String(200), sa.ForeignKey("creators.creator_id"), nullable=False
        ),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(2000), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
    )
    op.create_index("ix_works_creator_active", "works", ["creator_id", "removed_at"])
    op.create_table(
        "vectors",
        sa.Column("work_pk", sa.Integer(), sa.ForeignKey("works.id"), primary_key=True),
        sa.Column("space", sa.String(32), primary_key=True),
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("state")
    op.drop_table("vectors")
    op.drop_index("ix_works_creator_active", "works")
    op.drop_table("works")
    op.drop_table("creators")
