"""decision fit: the requested volume and the checks that bound a fitted one

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Earlier decisions keep NULLs: the requested volume was the decided one, nothing fitted.
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_volume", db.types.ExactDecimal(), nullable=True))
        batch_op.add_column(sa.Column("fitted_by", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.drop_column("fitted_by")
        batch_op.drop_column("requested_volume")
