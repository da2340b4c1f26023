"""API keys with roles, consent terms (per creator, overridable per work), audit log.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("creators") as batch:
        batch.add_column(sa.Column("terms", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("works") as batch:
        batch.add_column(sa.Column("terms", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("creator_id", sa.String(200), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(1000), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev", sa.String(64), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("api_keys")
    with op.batch_alter_table("works") as batch:
        batch.drop_column("terms")
    with op.batch_alter_table("creators") as batch:
        batch.drop_column("terms")
