"""Assemble the schema with its extensions (caches, limits, request checks, error coding)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    validate,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.graphql import OperationType

from schema.batching import BatchesPauseCollector
from schema.errors import CodedErrors, RequestRefused
from schema.input_building import plan_inputs
from schema.mutation import Mutation
from schema.query import Query
from schema.scalars import SCALAR_MAP, TextLiteralsRule, bad_text_in_variables
from schema.subscription import Subscription

# Built once: the validation cache keys on the rule classes, so fresh ones per request
# would make every request miss it.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=12).validation_rules,
    *MaxAliasesLimiter(max_alias_count=32).validation_rules,
    TextLiteralsRule,
]


@lru_cache(maxsize=512)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        hide_suggestions=hide_suggestions,
    )


class CheckedRequest(SchemaExtension):
    """Validation (cached; without "Did you mean" suggestions when introspection is off),
    then what the rules cannot see: which operation is meant, and the text in variables."""

    def __init__(self, *, hide_suggestions: bool) -> None:
        super().__init__()
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        errors = _validate(
            ctx.schema._schema,
            ctx.graphql_document,
            tuple(ctx.validation_rules),
            self.hide_suggestions,
        )
        if not errors:
            errors = self._request_errors(ctx)
        ctx.pre_execution_errors = errors
        yield

    @staticmethod
    def _request_errors(ctx: ExecutionContext) -> list[GraphQLError]:
        document = ctx.graphql_document
        assert document is not None
        if ctx._provided_operation_name is None:
            operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if operations > 1:
                message = "the document has several operations: name one in operationName"
                refused = RequestRefused(message, field="operationName")
                return [GraphQLError(message, original_error=refused)]
        bad_text = bad_text_in_variables(ctx.variables, document)
        return [bad_text] if bad_text else []


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
    extensions: list[Any] = [
        *observers,
        CodedErrors,
        BatchesPauseCollector,
        lambda: ParserCache(maxsize=512),
        lambda: CheckedRequest(hide_suggestions=hide_suggestions),
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=4000),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
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
