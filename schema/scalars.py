"""Strict scalars: Decimal as an exact string, DateTime as ISO 8601 with a zone, out in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode

from domain.errors import BadInput
from domain.numbers import parse_decimal


def _serialize_decimal(value: Decimal) -> str:
    return format(value, "f")


def _parse_decimal_literal(node: ValueNode, _variables: Any = None) -> Decimal:
    if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
        return parse_decimal(node.value, field="value")
    raise BadInput("expected a decimal number as a string", field="value")


DECIMAL = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number, sent and received as a string, e.g. "20.00".',
    serialize=_serialize_decimal,
    parse_value=lambda raw: parse_decimal(raw, field="value"),
    parse_literal=_parse_decimal_literal,
)


def _serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse_datetime(raw: object) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40:
        raise BadInput("expected an ISO 8601 date-time string", field="value")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"not an ISO 8601 date-time: {raw[:40]!r}", field="value") from None
    if value.tzinfo is None:
        raise BadInput("a date-time must carry a time zone (e.g. Z or +00:00)", field="value")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise BadInput("the date-time is out of range", field="value") from None


def _parse_datetime_literal(node: ValueNode, _variables: Any = None) -> datetime:
    if isinstance(node, StringValueNode):
        return _parse_datetime(node.value)
    raise BadInput("expected an ISO 8601 date-time string", field="value")


DATETIME = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date-time with a time zone; returned in UTC.",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
    parse_literal=_parse_datetime_literal,
)

# Python's Decimal and datetime map onto these everywhere in the schema.
SCALAR_MAP: dict[object, Any] = {Decimal: DECIMAL, datetime: DATETIME}
