"""The checked-in SDL is the schema the code serves (regenerate with `make schema`)."""

from __future__ import annotations

from pathlib import Path

from schema.export import sdl

CHECKED_IN = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_checked_in_sdl_matches_code() -> None:
    assert CHECKED_IN.read_text() == sdl(), "schema/schema.graphql is stale: run `make schema`"


def test_contract_names_present() -> None:
    text = sdl()
    for name in (
        "riskProfile(",
        "exposure(",
        "exposureHistory(",
        "globalExposure:",
        "instruments:",
        "platformLimits:",
        "updateRiskProfile(",
        "recordTradeOpened(",
        "recordTradeClosed(",
        "recordCashFlow(",
        "updateMarkPrices(",
        "updatePlatformLimits(",
        "upsertInstrument(",
        "enum Direction",
        "enum TradingMode",
        "scalar Decimal",
        "scalar DateTime",
    ):
        assert name in text, name
