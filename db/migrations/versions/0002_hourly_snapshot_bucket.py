"""hourly snapshot bucket: one job snapshot per client and hour

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 13:32:25.585817
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Snapshots stored after a trade leave the bucket empty (NULLs never collide).
    with op.batch_alter_table("exposure_snapshots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hour_bucket", db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "uq_exposure_snapshots_client_hour", ["client_id", "hour_bucket"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("exposure_snapshots", schema=None) as batch_op:
        batch_op.drop_index("uq_exposure_snapshots_client_hour")
        batch_op.drop_column("hour_bucket")
