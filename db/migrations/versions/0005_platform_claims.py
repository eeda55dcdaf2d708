"""platform claims: the writer sequence and the reserved sums on the platform row

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:20:00.000000
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("platform_limits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("writer_seq", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("reserved_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "reserved_notional", db.types.ExactDecimal(), nullable=False, server_default="0"
            )
        )
    # The sums start from the per-instrument totals, added up exactly here (SQLite would
    # add its decimal text as floats).
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT count, notional FROM reservation_totals")).all()
    count = sum(int(row[0]) for row in rows)
    notional = sum((Decimal(str(row[1])) for row in rows), Decimal(0))
    conn.execute(
        sa.text(
            "UPDATE platform_limits SET reserved_count = :c, reserved_notional = :n"
        ).bindparams(sa.bindparam("n", type_=db.types.ExactDecimal())),
        {"c": count, "n": notional},
    )


def downgrade() -> None:
    with op.batch_alter_table("platform_limits", schema=None) as batch_op:
        batch_op.drop_column("reserved_notional")
        batch_op.drop_column("reserved_count")
        batch_op.drop_column("writer_seq")
