"""Every error leaves as a GraphQL error with extensions.code; internals never leak."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import BadInput, RiskgateError

log = logging.getLogger("riskgate.errors")

# graphql-core names the input path in variable coercion messages.
_VARIABLE_PATH = re.compile(r"Variable '\$(\w+)' got invalid value .*? at '([\w.\[\]]+)'")
_VARIABLE = re.compile(r"Variable '\$(\w+)'")
_FIELD_OF_TYPE = re.compile(r"Field '(\w+)' of required type")
_UNKNOWN_FIELD = re.compile(r"Field '(\w+)' is not defined by type")


def _field_from_message(message: str) -> str | None:
    for pattern in (_VARIABLE_PATH, _FIELD_OF_TYPE, _UNKNOWN_FIELD, _VARIABLE):
        found = pattern.search(message)
        if found:
            return found.group(found.lastindex or 1)
    return None


def _original(error: GraphQLError) -> BaseException | None:
    seen = error.original_error
    while isinstance(seen, GraphQLError) and seen.original_error is not None:
        seen = seen.original_error
    return seen


def map_error(error: GraphQLError) -> GraphQLError:
    """One place that turns any failure into a coded, client-safe GraphQL error."""
    original = _original(error)
    if isinstance(original, RiskgateError):
        extensions: dict[str, object] = {"code": original.code}
        field = original.field
        if isinstance(original, BadInput):
            path_field = _field_from_message(error.message)
            if path_field and (field is None or field == "value"):
                field = path_field
            message = original.message
            if field and original.field == "value":
                message = message.replace("value", field, 1)
        else:
            message = original.message
        if field:
            extensions["field"] = field
        return GraphQLError(message, error.nodes, path=error.path, extensions=extensions)
    if original is None:
        # Parse and validation errors: the document or its variables are wrong.
        extensions = {"code": "BAD_USER_INPUT"}
        field = _field_from_message(error.message)
        if field:
            extensions["field"] = field
        return GraphQLError(error.message, error.nodes, path=error.path, extensions=extensions)
    log.error("unexpected error", exc_info=original)
    return GraphQLError(
        "internal error", error.nodes, path=error.path, extensions={"code": "INTERNAL"}
    )


class CodedErrors(SchemaExtension):
    """Rewrites the result's errors after each operation."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            result.errors = [map_error(e) for e in result.errors]
