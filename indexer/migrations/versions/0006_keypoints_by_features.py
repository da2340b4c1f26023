"""Stored keypoints keyed by how they were extracted (models/local.py FEATURES_ID), not by how
a pair is scored: `sift-root-512-n500+ransac-...+share@opencv-V` becomes
`sift-root-512-n500@opencv-V`, the same bytes, so a change of scoring re-extracts nothing.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCORING_BEFORE = "+ransac-sim-r0.8-px8-h512+share"  # the only scoring keyed before 0006


def _rekey(old: str, new: str) -> None:
    """Move the local vectors under `old` to `new`; a work that has both keeps `new`'s."""
    conn = op.get_bind()
    ids = {"old": old, "new": new}
    conn.execute(
        sa.text(
            "DELETE FROM vectors WHERE space = 'local' AND model_id = :old AND work_pk IN"
            " (SELECT work_pk FROM vectors WHERE space = 'local' AND model_id = :new)"
        ),
        ids,
    )
    conn.execute(
        sa.text("UPDATE vectors SET model_id = :new WHERE space = 'local' AND model_id = :old"),
        ids,
    )


def _local_ids() -> list[str]:
    rows = op.get_bind().execute(
        sa.text("SELECT DISTINCT model_id FROM vectors WHERE space = 'local' ORDER BY model_id")
    )
    return [r[0] for r in rows]


def upgrade() -> None:
    for model_id in _local_ids():
        extraction, scored, rest = model_id.partition("+")
        if scored and "@" in rest:
            _rekey(model_id, f"{extraction}@{rest.rsplit('@', 1)[1]}")


def downgrade() -> None:
    for model_id in _local_ids():
        extraction, at, version = model_id.partition("@")
        if at and "+" not in model_id:
            _rekey(model_id, f"{extraction}{SCORING_BEFORE}@{version}")
