"""Input objects built straight from the values graphql-core has already coerced.

graphql-core coerces every input value against the schema (scalars parsed and checked,
enums mapped, required fields present) before a resolver runs. Strawberry then walks the
value a second time to build the input classes, resolving each field's type and GraphQL
name again on every request. For fields whose coerced value is already final (scalars,
enums, lists of those) that second walk only copies; here it is planned once per input type
when the schema is built, through Strawberry's `from_input` hook, and nested inputs are
still converted by Strawberry itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from strawberry.scalars import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.unset import UNSET

# How one field's coerced value becomes the attribute: None keeps it as it is.
Convert = Callable[[object, InputContext, str], object] | None


def _copy_list(value: object, _ctx: InputContext, _name: str) -> object:
    # graphql-core hands every request that omits the field the same default list.
    if value is None or value is UNSET:
        return value
    assert isinstance(value, list)
    return list(value)


def _nested(field_type: Any) -> Convert:
    def convert(value: object, ctx: InputContext, name: str) -> object:
        return ctx.convert(value, field_type, name)

    return convert


def _is_final(type_: Any, registry: Mapping[object, Any]) -> bool:
    """A scalar or an enum: graphql-core's coerced value is what Strawberry would keep."""
    if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        type_ = type_.of_type
    return (
        bool(is_scalar(type_, registry))
        or isinstance(type_, StrawberryEnumDefinition)
        or has_enum_definition(type_)
    )


def _plan_field(type_: Any, registry: Mapping[object, Any]) -> Convert:
    if isinstance(type_, StrawberryMaybe):
        return _nested(type_)  # Maybe wraps what it holds: Strawberry's own conversion
    if _is_final(type_, registry):
        return None
    inner = type_.of_type if isinstance(type_, StrawberryOptional) else type_
    if isinstance(inner, StrawberryList) and _is_final(inner.of_type, registry):
        return _copy_list
    return _nested(type_)


class InputBuilder:
    """`from_input` for one input type: its fields' names and conversions, planned once."""

    def __init__(
        self,
        definition: StrawberryObjectDefinition,
        config: StrawberryConfig,
        registry: Mapping[object, Any],
    ) -> None:
        self.fields: list[tuple[str, str, Convert]] = []
        # As Strawberry does: a field without a default is None until the value sets it.
        self.absent: dict[str, object] = {}
        for field in definition.fields:
            if field.default_value is dataclasses.MISSING and (
                field.default_factory is dataclasses.MISSING
            ):
                self.absent[field.python_name] = None
            field_type = field.resolve_type(type_definition=definition)
            self.fields.append(
                (
                    config.name_converter.from_field(field),
                    field.python_name,
                    _plan_field(field_type, registry),
                )
            )

    def __call__(self, cls: type, value: Mapping[str, Any], ctx: InputContext) -> Any:
        kwargs = dict(self.absent)
        for name, python_name, convert in self.fields:
            if name in value:
                raw = value[name]
                kwargs[python_name] = raw if convert is None else convert(raw, ctx, name)
        return cls(**kwargs)


def plan_inputs(
    definitions: list[StrawberryObjectDefinition],
    config: StrawberryConfig,
    registry: Mapping[object, Any],
) -> None:
    """Give each input type without a `from_input` of its own a planned one."""
    for definition in definitions:
        current = definition.from_input
        if definition.is_input and (current is None or isinstance(current, InputBuilder)):
            definition.from_input = InputBuilder(definition, config, registry)
