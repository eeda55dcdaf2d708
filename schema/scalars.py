"""Strict scalars: Decimal as an exact string, DateTime as ISO 8601 with a zone, out in UTC;
text (every String input) without NUL characters or lone surrogates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    FloatValueNode,
    GraphQLError,
    IntValueNode,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValidationRule,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)

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


# Extended ISO 8601, date and time joined by "T", with a zone: Z or ±hh:mm. ASCII digits
# only; Python's own parser alone takes more (a space, week dates, trailing characters).
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_ISO_DATETIME_NO_ZONE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?", re.ASCII
)


def _parse_datetime(raw: object) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40:
        raise BadInput("expected an ISO 8601 date-time string", field="value")
    if not _ISO_DATETIME.fullmatch(raw):
        if _ISO_DATETIME_NO_ZONE.fullmatch(raw):
            raise BadInput("a date-time must carry a time zone (e.g. Z or +00:00)", field="value")
        raise BadInput(
            "not an ISO 8601 date-time with a zone (e.g. 2024-01-31T09:30:00Z)", field="value"
        )
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadInput("not a valid date-time (e.g. 2024-01-31T09:30:00Z)", field="value") from None
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


# Text that PostgreSQL cannot store (NUL) or that is not Unicode at all (lone surrogates);
# refused alike on every database, before anything runs.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _bad_text_message(field: str) -> str:
    return f"{field} must not contain NUL characters or lone surrogates"


def _bad_text(value: str) -> bool:
    return "\x00" in value or (not value.isascii() and _BAD_TEXT.search(value) is not None)


def input_trail(value: Node, target: Node) -> list[str | int] | None:
    """The list indexes and field names from `value` down to `target`."""
    if value is target:
        return []
    children: list[tuple[str | int, Node]] = []
    if isinstance(value, ListValueNode):
        children = list(enumerate(value.values))
    elif isinstance(value, ObjectValueNode):
        children = [(f.name.value, f.value) for f in value.fields]
    for step, child in children:
        below = input_trail(child, target)
        if below is not None:
            return [step, *below]
    return None


def input_path(argument: str, trail: list[str | int]) -> str:
    # As graphql-core names a variable's inner value: below an input object the path
    # without the argument ("clientCeilings.maxDailyLoss"), below a list with it.
    text = argument if not trail or isinstance(trail[0], int) else ""
    for step in trail:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text.lstrip(".")


class TextLiteralsRule(ValidationRule):
    """String literals written in the document."""

    def enter_string_value(
        self, node: StringValueNode, _key: Any, parent: Any, _path: Any, ancestors: Any
    ) -> None:
        if _bad_text(node.value):
            argument = next(
                (a for a in reversed([*ancestors, parent]) if isinstance(a, ArgumentNode)), None
            )
            trail = input_trail(argument.value, node) if argument else None
            field = (
                input_path(argument.name.value, trail)
                if argument and trail is not None
                else "value"
            )
            message = _bad_text_message(field)
            self.report_error(
                GraphQLError(message, node, original_error=BadInput(message, field=field))
            )


def bad_text_in_variables(
    variables: dict[str, Any] | None, document: DocumentNode | None
) -> GraphQLError | None:
    """The first variable (at any depth) holding bad text, as an error naming its field."""
    for path in _bad_text_paths(variables or {}):
        field = input_path(argument_of(str(path[0]), document), list(path[1:]))
        message = _bad_text_message(field)
        return GraphQLError(message, original_error=BadInput(message, field=field))
    return None


def _bad_text_paths(variables: dict[str, Any]) -> Iterator[tuple[str | int, ...]]:
    pending: list[tuple[object, tuple[str | int, ...]]] = [(variables, ())]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if _bad_text(value):
                yield path
        elif isinstance(value, dict):
            for key, item in value.items():
                if _bad_text(key):
                    yield path or (key,)
                pending.append((item, (*path, key)))
        elif isinstance(value, list):
            pending.extend((item, (*path, i)) for i, item in enumerate(value))


def argument_of(variable: str, document: DocumentNode | None) -> str:
    """The argument or input field a variable is passed to (else the variable's name)."""
    found: list[str] = []

    def uses(value: Node) -> bool:
        if isinstance(value, VariableNode):
            return value.name.value == variable
        return isinstance(value, ListValueNode) and any(uses(v) for v in value.values)

    class Finder(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: object) -> None:
            if uses(node.value):
                found.append(node.name.value)

        def enter_object_field(self, node: ObjectFieldNode, *_: object) -> None:
            if uses(node.value):
                found.append(node.name.value)

    if document is not None:
        visit(document, Finder())
    return found[0] if found else variable
