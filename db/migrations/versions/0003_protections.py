"""protections: leverage, weekly loss, loss-streak cooldown, signal rate, instrument lists,
stop-out; their client ceilings and running state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _settings(prefix: str, cooldown_default: str) -> list[sa.Column[object]]:
    return [
        sa.Column(f"{prefix}max_leverage", db.types.ExactDecimal(length=64), nullable=True),
        sa.Column(f"{prefix}max_weekly_loss", db.types.ExactDecimal(length=64), nullable=True),
        sa.Column(f"{prefix}loss_streak_limit", sa.Integer(), nullable=True),
        sa.Column(
            f"{prefix}cooldown_minutes",
            sa.Integer(),
            nullable=False,
            server_default=cooldown_default,
        ),
        sa.Column(f"{prefix}max_signals_per_minute", sa.Integer(), nullable=True),
        sa.Column(f"{prefix}allowed_instruments", sa.Text(), nullable=True),
        sa.Column(f"{prefix}blocked_instruments", sa.Text(), nullable=True),
        sa.Column(
            f"{prefix}stop_out_on_breach", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    ]


_NAMES = (
    "max_leverage",
    "max_weekly_loss",
    "loss_streak_limit",
    "cooldown_minutes",
    "max_signals_per_minute",
    "allowed_instruments",
    "blocked_instruments",
    "stop_out_on_breach",
)


def upgrade() -> None:
    with op.batch_alter_table("risk_profiles", schema=None) as batch_op:
        for column in _settings("", "60"):
            batch_op.add_column(column)
    with op.batch_alter_table("platform_limits", schema=None) as batch_op:
        for column in _settings("ceiling_", "1"):
            batch_op.add_column(column)
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.create_index("ix_trades_client_closed", ["client_id", "closed_at"], unique=False)
    op.create_table(
        "client_weekly_pnl",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("trading_week", sa.Date(), nullable=False),
        sa.Column("realized", db.types.ExactDecimal(length=64), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "trading_week", name=op.f("pk_client_weekly_pnl")),
    )
    op.create_table(
        "client_guards",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("loss_streak", sa.Integer(), nullable=False),
        sa.Column("last_loss_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_close_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_win_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rate_tokens", db.types.ExactDecimal(length=64), nullable=True),
        sa.Column("rate_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rate_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "loss_streak >= 0", name=op.f("ck_client_guards_loss_streak_not_negative")
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_guards")),
    )


def downgrade() -> None:
    op.drop_table("client_guards")
    op.drop_table("client_weekly_pnl")
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index("ix_trades_client_closed")
    with op.batch_alter_table("platform_limits", schema=None) as batch_op:
        for name in reversed(_NAMES):
            batch_op.drop_column(f"ceiling_{name}")
    with op.batch_alter_table("risk_profiles", schema=None) as batch_op:
        for name in reversed(_NAMES):
            batch_op.drop_column(name)
