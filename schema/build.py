"""Assemble the schema with its extensions (caches, limits, error coding)."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.batching import BatchesPauseCollector
from schema.errors import CodedErrors
from schema.mutation import Mutation
from schema.query import Query
from schema.scalars import SCALAR_MAP
from schema.subscription import Subscription

# Built once: the validation cache keys on the rule classes, so fresh ones per request
# would make every request miss it.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=12).validation_rules,
    *MaxAliasesLimiter(max_alias_count=32).validation_rules,
]


class RiskgateSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # CodedErrors logs what is unexpected; expected input errors are not log noise.
        return None


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    extensions: list[Any] = [
        CodedErrors,
        BatchesPauseCollector,
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=4000),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return RiskgateSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
