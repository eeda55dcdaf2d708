"""Every table, as SQLAlchemy Core. Running aggregates live beside the events that feed them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

from db.types import BigId, ExactDecimal, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

CLIENT = String(64)
SYMBOL = String(20)
DIRECTION = String(4)
MODE = String(12)

instruments = Table(
    "instruments",
    metadata,
    Column("symbol", SYMBOL, primary_key=True),
    Column("correlation_group", String(40), nullable=False),
    Column("contract_size", ExactDecimal(), nullable=False),
    Column("quote_to_account_rate", ExactDecimal(), nullable=False),
    Column("lot_step", ExactDecimal(), nullable=False),
    Column("min_volume", ExactDecimal(), nullable=False),
    Column("max_volume", ExactDecimal(), nullable=False),
    Column("mark_price", ExactDecimal()),
    Column("mark_updated_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
)

risk_profiles = Table(
    "risk_profiles",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("client_id", CLIENT, nullable=False, unique=True),
    Column("max_drawdown_percent", ExactDecimal(), nullable=False),
    Column("max_daily_loss", ExactDecimal()),
    Column("max_position_size", ExactDecimal(), nullable=False),
    Column("max_open_positions", Integer, nullable=False),
    Column("max_correlation_exposure", ExactDecimal(), nullable=False),
    Column("risk_per_trade_percent", ExactDecimal(), nullable=False),
    Column("trading_mode", MODE, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Protections (domain.protections); instrument lists as comma-separated symbols (a
    # NULL block list blocks nothing).
    Column("max_leverage", ExactDecimal()),
    Column("max_weekly_loss", ExactDecimal()),
    Column("loss_streak_limit", Integer),
    Column("cooldown_minutes", Integer, nullable=False, server_default="60"),
    Column("max_signals_per_minute", Integer),
    Column("allowed_instruments", Text),
    Column("blocked_instruments", Text),
    Column("stop_out_on_breach", Boolean, nullable=False, server_default=false()),
)

# Per-client running state and the row a writer locks to serialize that client.
accounts = Table(
    "accounts",
    metadata,
    Column("client_id", CLIENT, primary_key=True),
    Column("balance", ExactDecimal(), nullable=False),
    Column("peak_equity", ExactDecimal(), nullable=False),
    Column("net_cash_flows", ExactDecimal(), nullable=False),
    Column("realized_pnl", ExactDecimal(), nullable=False),
    Column("open_positions", Integer, nullable=False),
    Column("last_activity_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("open_positions >= 0", name="open_positions_not_negative"),
)

cash_flows = Table(
    "cash_flows",
    metadata,
    Column("flow_id", String(128), primary_key=True),
    Column("client_id", CLIENT, nullable=False, index=True),
    Column("amount", ExactDecimal(), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("fingerprint", String(32), nullable=False),
)

trades = Table(
    "trades",
    metadata,
    Column("trade_id", String(128), primary_key=True),
    Column("client_id", CLIENT, nullable=False),
    Column("signal_id", String(128)),
    Column("symbol", SYMBOL, ForeignKey("instruments.symbol"), nullable=False),
    Column("direction", DIRECTION, nullable=False),
    Column("volume", ExactDecimal(), nullable=False),
    Column("entry_price", ExactDecimal(), nullable=False),
    Column("stop_loss", ExactDecimal()),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("open_fingerprint", String(32), nullable=False),
    Column("status", String(8), nullable=False),
    Column("exit_price", ExactDecimal()),
    Column("closed_at", UTCDateTime()),
    Column("realized_pnl", ExactDecimal()),
    Column("close_fingerprint", String(32)),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Index("ix_trades_client_status", "client_id", "status"),
    # A late winning close counts the closes after it (the loss streak), newest first.
    Index("ix_trades_client_closed", "client_id", "closed_at"),
)

# A close that arrived before its open; applied when the open arrives.
pending_closes = Table(
    "pending_closes",
    metadata,
    Column("trade_id", String(128), primary_key=True),
    Column("client_id", CLIENT, nullable=False),
    Column("exit_price", ExactDecimal(), nullable=False),
    Column("closed_at", UTCDateTime()),
    Column("pnl", ExactDecimal()),
    Column("fingerprint", String(32), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)

client_positions = Table(
    "client_positions",
    metadata,
    Column("client_id", CLIENT, primary_key=True),
    Column("symbol", SYMBOL, primary_key=True),
    Column("direction", DIRECTION, primary_key=True),
    Column("volume", ExactDecimal(), nullable=False),
    Column("entry_value", ExactDecimal(), nullable=False),
    Column("open_count", Integer, nullable=False),
    Index("ix_client_positions_symbol", "symbol"),
)

instrument_positions = Table(
    "instrument_positions",
    metadata,
    Column("symbol", SYMBOL, primary_key=True),
    Column("direction", DIRECTION, primary_key=True),
    Column("volume", ExactDecimal(), nullable=False),
    Column("entry_value", ExactDecimal(), nullable=False),
    Column("open_count", Integer, nullable=False),
)

client_daily_pnl = Table(
    "client_daily_pnl",
    metadata,
    Column("client_id", CLIENT, primary_key=True),
    Column("trading_day", Date, primary_key=True),
    Column("realized", ExactDecimal(), nullable=False),
)

# Realized P&L per client and trading week (labelled by the week's first trading day).
client_weekly_pnl = Table(
    "client_weekly_pnl",
    metadata,
    Column("client_id", CLIENT, primary_key=True),
    Column("trading_week", Date, primary_key=True),
    Column("realized", ExactDecimal(), nullable=False),
)

# Per-client protection state: the loss streak (kept by closes) and the signal-rate bucket
# (kept by reserving checks; `rate_seq` makes its update a compare-and-set).
client_guards = Table(
    "client_guards",
    metadata,
    Column("client_id", CLIENT, primary_key=True),
    Column("loss_streak", Integer, nullable=False),
    Column("last_loss_at", UTCDateTime()),
    Column("last_close_at", UTCDateTime()),
    Column("last_win_at", UTCDateTime()),
    Column("rate_tokens", ExactDecimal()),
    Column("rate_at", UTCDateTime()),
    Column("rate_seq", Integer, nullable=False),
    CheckConstraint("loss_streak >= 0", name="loss_streak_not_negative"),
)

platform_daily_pnl = Table(
    "platform_daily_pnl",
    metadata,
    Column("trading_day", Date, primary_key=True),
    Column("realized", ExactDecimal(), nullable=False),
)

# One row (id = 1): the platform's limits, mode and client ceilings; writers lock it.
platform_limits = Table(
    "platform_limits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("max_total_exposure", ExactDecimal(), nullable=False),
    Column("max_open_positions", Integer, nullable=False),
    Column("max_position_size", ExactDecimal(), nullable=False),
    Column("max_daily_loss", ExactDecimal(), nullable=False),
    Column("max_instrument_volume", ExactDecimal()),
    Column("trading_mode", MODE, nullable=False),
    Column("ceiling_max_drawdown_percent", ExactDecimal(), nullable=False),
    Column("ceiling_max_daily_loss", ExactDecimal()),
    Column("ceiling_max_position_size", ExactDecimal(), nullable=False),
    Column("ceiling_max_open_positions", Integer, nullable=False),
    Column("ceiling_max_correlation_exposure", ExactDecimal(), nullable=False),
    Column("ceiling_risk_per_trade_percent", ExactDecimal(), nullable=False),
    Column("ceiling_max_leverage", ExactDecimal()),
    Column("ceiling_max_weekly_loss", ExactDecimal()),
    Column("ceiling_loss_streak_limit", Integer),
    Column("ceiling_cooldown_minutes", Integer, nullable=False, server_default="1"),
    Column("ceiling_max_signals_per_minute", Integer),
    Column("ceiling_allowed_instruments", Text),
    Column("ceiling_blocked_instruments", Text),
    Column("ceiling_stop_out_on_breach", Boolean, nullable=False, server_default=false()),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Bumped by every writer that takes the platform lock; a PostgreSQL check's claim
    # (which does not take it) stands only if nothing bumped it since the check read.
    Column("writer_seq", BigInteger, nullable=False, server_default="0"),
    # The sums of reservation_totals (stored reservations, expired ones included): what a
    # check's claim compares against the room its decision left.
    Column("reserved_count", Integer, nullable=False, server_default="0"),
    Column("reserved_notional", ExactDecimal(), nullable=False, server_default="0"),
    CheckConstraint("id = 1", name="single_row"),
)

exposure_snapshots = Table(
    "exposure_snapshots",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("client_id", CLIENT, nullable=False),
    Column("taken_at", UTCDateTime(), nullable=False),
    Column("total_exposure", ExactDecimal(), nullable=False),
    Column("by_instrument", JSON, nullable=False),
    Column("by_direction", JSON, nullable=False),
    Column("open_positions", Integer, nullable=False),
    Column("reserved_positions", Integer, nullable=False),
    Column("equity", ExactDecimal(), nullable=False),
    Column("drawdown_percent", ExactDecimal(), nullable=False),
    Column("daily_pnl", ExactDecimal(), nullable=False),
    # Set by the hourly job (the hour's start): one job snapshot per client and hour.
    Column("hour_bucket", UTCDateTime()),
    Index("ix_exposure_snapshots_client_taken", "client_id", "taken_at"),
    Index("ix_exposure_snapshots_taken", "taken_at"),
    Index("uq_exposure_snapshots_client_hour", "client_id", "hour_bucket", unique=True),
)

reservations = Table(
    "reservations",
    metadata,
    Column("signal_id", String(128), primary_key=True),
    Column("client_id", CLIENT, nullable=False),
    Column("symbol", SYMBOL, nullable=False),
    Column("direction", DIRECTION, nullable=False),
    Column("volume", ExactDecimal(), nullable=False),
    Column("notional", ExactDecimal(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_reservations_expires", "expires_at"),
    Index("ix_reservations_client_expires", "client_id", "expires_at"),
)

# Platform sums of live reservations per instrument, kept in step with `reservations`;
# expired rows are swept out by the next writer, and readers discount the unswept ones.
reservation_totals = Table(
    "reservation_totals",
    metadata,
    Column("symbol", SYMBOL, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("volume", ExactDecimal(), nullable=False),
    Column("notional", ExactDecimal(), nullable=False),
    CheckConstraint("count >= 0", name="count_not_negative"),
)

risk_decisions = Table(
    "risk_decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("signal_id", String(128), nullable=False, unique=True),
    Column("client_id", CLIENT, nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("passes", Boolean, nullable=False),
    Column("symbol", SYMBOL, nullable=False),
    Column("direction", DIRECTION, nullable=False),
    Column("volume", ExactDecimal(), nullable=False),
    Column("notional", ExactDecimal(), nullable=False),
    Column("result", JSON, nullable=False),
    Column("checked_at", UTCDateTime(), nullable=False),
    Column("reservation_expires_at", UTCDateTime()),
    # Before a fit; NULL on decisions stored before fitting existed (= volume).
    Column("requested_volume", ExactDecimal()),
    # The checks that bound a fitted volume, comma-separated; empty or NULL when not fitted.
    Column("fitted_by", String(400)),
    Index("ix_risk_decisions_client_checked", "client_id", "checked_at"),
)

# Who changed what and when: profiles, modes, platform limits, instruments.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("actor_sub", String(128), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("action", String(40), nullable=False),
    Column("client_id", CLIENT),
    Column("old_values", JSON),
    Column("new_values", JSON),
    Column("reason", Text),
    Index("ix_audit_log_client_occurred", "client_id", "occurred_at"),
)

# Last level raised per breaker, so an alert fires only on a change of level.
breaker_states = Table(
    "breaker_states",
    metadata,
    Column("scope", String(80), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("level", String(10), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

breaker_alerts = Table(
    "breaker_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("client_id", CLIENT),
    Column("kind", String(40), nullable=False),
    Column("level", String(10), nullable=False),
    Column("previous_level", String(10), nullable=False),
    Column("value", ExactDecimal(), nullable=False),
    Column("limit_value", ExactDecimal(), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_breaker_alerts_client_created", "client_id", "created_at"),
    Index("ix_breaker_alerts_created", "created_at"),
)

# Jobs record their last successful run here (idempotency and health).
job_runs = Table(
    "job_runs",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("last_started_at", UTCDateTime(), nullable=False),
    Column("last_finished_at", UTCDateTime()),
    Column("last_result", JSON),
)
