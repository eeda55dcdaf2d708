"""The API documents itself: every type, field, argument and enum value has a description."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    parse,
    validate,
)
from graphql.type import specified_scalar_types

from domain.breakers import BreakerKind
from schema.build import build_schema


def undocumented(schema: GraphQLSchema) -> list[str]:
    """Every schema element without a description, by its coordinate (Type.field(arg:))."""
    missing: list[str] = []

    def need(description: str | None, where: str) -> None:
        if not (description or "").strip():
            missing.append(where)

    for name, named in sorted(schema.type_map.items()):
        if name.startswith("__") or name in specified_scalar_types:
            continue
        need(named.description, name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                need(field.description, f"{name}.{field_name}")
                for arg_name, arg in field.args.items():
                    need(arg.description, f"{name}.{field_name}({arg_name}:)")
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                need(input_field.description, f"{name}.{field_name}")
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                need(value.description, f"{name}.{value_name}")
    return missing


def test_every_schema_element_has_a_description() -> None:
    missing = undocumented(build_schema()._schema)
    assert not missing, "add a description= to: " + ", ".join(missing)


def test_the_walk_finds_what_lacks_a_description() -> None:
    # The check must be able to fail: strip descriptions from a fresh schema and expect them.
    schema = build_schema()._schema
    alert = schema.type_map["BreakerAlert"]
    kinds = schema.type_map["AlertKind"]
    signal = schema.type_map["SignalInput"]
    mutation = schema.mutation_type
    assert isinstance(alert, GraphQLObjectType) and isinstance(kinds, GraphQLEnumType)
    assert isinstance(signal, GraphQLInputObjectType) and mutation is not None
    alert.fields["kind"].description = None
    kinds.values["TRADING_MODE"].description = ""
    signal.fields["volume"].description = None
    mutation.fields["checkSignal"].args["dryRun"].description = "  "
    decimal: GraphQLNamedType = schema.type_map["Decimal"]
    decimal.description = None
    assert undocumented(schema) == [
        "AlertKind.TRADING_MODE",
        "BreakerAlert.kind",
        "Decimal",
        "Mutation.checkSignal(dryRun:)",
        "SignalInput.volume",
    ]


def test_alert_kind_is_an_enum_of_every_breaker() -> None:
    schema = build_schema()._schema
    alert = schema.type_map["BreakerAlert"]
    kinds = schema.type_map["AlertKind"]
    assert isinstance(alert, GraphQLObjectType) and isinstance(kinds, GraphQLEnumType)
    assert str(alert.fields["kind"].type) == "AlertKind!"
    assert set(kinds.values) == {k.value for k in BreakerKind}


API_GUIDE = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_the_api_guide_documents_are_valid_against_the_schema() -> None:
    # The guide's examples are what integrators copy: a renamed field must break this test.
    documents = re.findall(r"```graphql\n(.*?)```", API_GUIDE.read_text(), re.S)
    assert len(documents) >= 10
    schema = build_schema()._schema
    for document in documents:
        errors = validate(schema, parse(document))
        assert not errors, (document, errors)
