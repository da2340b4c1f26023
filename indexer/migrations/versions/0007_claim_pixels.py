"""Claims keep the digest of the decoded pixels of the image they were filed from, so the
one-open-claim rule meets one picture saved twice (other metadata, other bytes) as one image.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("query_pixels", sa.String(64), nullable=True))
        batch.create_index("ix_claims_query_pixels", ["query_pixels"])


def downgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.drop_index("ix_claims_query_pixels")
        batch.drop_column("query_pixels")
