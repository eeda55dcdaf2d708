"""What every operation goes through, as one schema extension: the parse cache and token
limit, cached validation with the limits, the request checks the rules cannot make, the
collector pause for batches, and error coding.

One extension rather than one per concern: Strawberry builds every extension and wraps
each of its hooks anew for every request, a cost paid even by `{ __typename }`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    parse,
    validate,
)
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from schema.batching import checks_batch, collector_paused
from schema.errors import RequestRefused, code_result
from schema.scalars import TextLiteralsRule, bad_text_in_variables

MAX_TOKENS = 4000
CACHED_DOCUMENTS = 512

# Built once: the validation cache keys on the rule classes, so fresh ones per request
# would make every request miss it.
LIMIT_RULES: tuple[type[ASTValidationRule], ...] = (
    *QueryDepthLimiter(max_depth=12).validation_rules,
    *MaxAliasesLimiter(max_alias_count=32).validation_rules,
    TextLiteralsRule,
)
NO_INTROSPECTION_RULES: tuple[type[ASTValidationRule], ...] = (NoSchemaIntrospectionCustomRule,)


# A document over the token limit raises, and is not cached.
_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)


class _Parsed:
    """A parsed document as a cache key, by identity: the parse cache hands out one document
    per text, and hashing the syntax tree (every node, recursively) on each request costs
    more than looking the result up. The key holds the document, so its id is not reused
    while cached; a document parsed anew is validated anew."""

    __slots__ = ("document",)

    def __init__(self, document: DocumentNode) -> None:
        self.document = document

    def __hash__(self) -> int:
        return id(self.document)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Parsed) and other.document is self.document


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate(
    schema: GraphQLSchema,
    parsed: _Parsed,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(
        schema,
        parsed.document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        hide_suggestions=hide_suggestions,
    )


class OperationPipeline(SchemaExtension):
    """`rules` are added to Strawberry's; validation messages go without "Did you mean"
    suggestions when `hide_suggestions`."""

    def __init__(
        self, *, rules: tuple[type[ASTValidationRule], ...], hide_suggestions: bool
    ) -> None:
        super().__init__()
        self.rules = rules
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        code_result(self.execution_context.result, self.execution_context.graphql_document)

    def on_stream_result(self, result: Any) -> None:  # type: ignore[override]
        # Results streamed over the WebSocket leave before the operation hook ends.
        code_result(result, self.execution_context.graphql_document)

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = MAX_TOKENS
        ctx.graphql_document = _parse(ctx.query, **ctx.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        ctx.validation_rules = (*ctx.validation_rules, *self.rules)
        errors = _validate(
            ctx.schema._schema,
            _Parsed(ctx.graphql_document),
            ctx.validation_rules,
            self.hide_suggestions,
        )
        if not errors:
            errors = _request_errors(ctx)
        ctx.pre_execution_errors = errors
        yield

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if not checks_batch(ctx.graphql_document, ctx.operation_name):
            yield
            return
        with collector_paused():
            yield


def _request_errors(ctx: ExecutionContext) -> list[GraphQLError]:
    """What validation cannot see: which operation is meant, and the text in variables."""
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
