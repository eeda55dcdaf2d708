"""Assemble the schema with its extensions (caches, limits, request checks, error coding)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.graphql import OperationType

from schema.input_building import plan_inputs
from schema.mutation import Mutation
from schema.pipeline import LIMIT_RULES, NO_INTROSPECTION_RULES, OperationPipeline
from schema.query import Query
from schema.scalars import SCALAR_MAP
from schema.subscription import Subscription


class RiskgateSchema(strawberry.Schema):
    def __init__(self, *args: Any, hide_suggestions: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        # One result, so never a subscription (those stream over the WebSocket); refused
        # before anything runs instead of failing inside.
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # CodedErrors logs what is unexpected; expected input errors are not log noise.
        return None

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        # Variable coercion errors suggest names too (enum values, input fields).
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        kwargs["hide_suggestions"] = self.hide_suggestions
        return kwargs


def build_schema(*, introspection: bool = True, observers: Sequence[Any] = ()) -> strawberry.Schema:
    """`observers` are extensions the service adds (metrics, tracing); they run first."""
    hide_suggestions = not introspection
    rules = LIMIT_RULES if introspection else (*LIMIT_RULES, *NO_INTROSPECTION_RULES)
    extensions: list[Any] = [
        *observers,
        lambda: OperationPipeline(rules=rules, hide_suggestions=hide_suggestions),
    ]
    schema = RiskgateSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        hide_suggestions=hide_suggestions,
    )
    converter = schema.schema_converter
    plan_inputs(
        [
            t.definition
            for t in converter.type_map.values()
            if isinstance(t.definition, StrawberryObjectDefinition)
        ],
        schema.config,
        converter.scalar_registry,
    )
    return schema
