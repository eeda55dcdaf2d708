"""Memoized shapes share a decoded value only between rows that spell the same cells."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import JSON, Column, MetaData, String, Table

from db.rows import INSTRUMENT, Shape

_ROW = ("EURUSD", "FX_MAJORS", "100000", "1", "0.01", "0.01", "100", "1.0850")


def test_the_same_stored_row_decodes_to_one_shared_value() -> None:
    first = INSTRUMENT.decode(_ROW)
    assert INSTRUMENT.decode(list(_ROW)) is first
    assert first.mark_price == Decimal("1.0850")


def test_a_price_stored_at_another_scale_keeps_its_own_scale() -> None:
    shorter = (*_ROW[:-1], "1.085")
    assert str(INSTRUMENT.decode(_ROW).mark_price) == "1.0850"
    assert str(INSTRUMENT.decode(shorter).mark_price) == "1.085"
    # Decoded numbers (PostgreSQL's) compare equal across scales: they are never a key.
    as_numbers = (*_ROW[:2], *(Decimal(c) for c in _ROW[2:-1]), Decimal("1.085"))
    INSTRUMENT.decode((*_ROW[:2], *(Decimal(c) for c in _ROW[2:])))
    assert str(INSTRUMENT.decode(as_numbers).mark_price) == "1.085"


def test_a_changed_cell_is_a_new_value() -> None:
    moved = (*_ROW[:-1], "1.0900")
    assert INSTRUMENT.decode(moved).mark_price == Decimal("1.0900")
    assert INSTRUMENT.decode(_ROW).mark_price == Decimal("1.0850")


def test_rows_holding_json_are_never_memoized() -> None:
    table = Table("t", MetaData(), Column("k", String), Column("doc", JSON))
    with pytest.raises(ValueError, match="JSON"):
        Shape(table, ("k", "doc"), lambda v: v, memo=True)
