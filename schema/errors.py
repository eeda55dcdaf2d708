"""Every error leaves as a GraphQL error with extensions.code; internals never leak."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    Visitor,
    visit,
)

from domain.errors import BadInput, RiskgateError
from schema.scalars import argument_of, input_path, input_trail

log = logging.getLogger("riskgate.errors")

# graphql-core names the input path in variable coercion messages.
_VARIABLE_PATH = re.compile(r"Variable '\$\w+' has invalid value at \.?([\w.\[\]]+):")
_VARIABLE = re.compile(r"Variable '\$(\w+)'")
_WHOLE_VARIABLE = re.compile(r"Variable '\$(\w+)' (?:has invalid value|got invalid value)[:;]")
_FIELD_OF_TYPE = re.compile(r"Field '(\w+)' of required type")
_UNKNOWN_FIELD = re.compile(r"Field '(\w+)' is not defined by type")


def _field_from_message(message: str) -> str | None:
    for pattern in (_VARIABLE_PATH, _FIELD_OF_TYPE, _UNKNOWN_FIELD, _VARIABLE):
        found = pattern.search(message)
        if found:
            return found.group(found.lastindex or 1)
    return None


def _literal_field(error: GraphQLError, document: DocumentNode | None) -> str | None:
    """The input an inline literal was written for, named as a variable's would be:
    "lotStep" inside an input object, "prices[0].price" inside a list argument."""
    if document is None or not error.nodes:
        return None
    target = error.nodes[0]
    found: list[str] = []

    class Finder(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: object) -> None:
            trail = input_trail(node.value, target)
            if trail is not None and not found:
                found.append(input_path(node.name.value, trail))

    visit(document, Finder())
    return found[0] if found else None


def _request_field(error: GraphQLError, document: DocumentNode | None) -> str | None:
    """The argument or input field a request error is about."""
    whole_variable = _WHOLE_VARIABLE.search(error.message)
    if whole_variable and document is not None:
        return argument_of(whole_variable.group(1), document)  # "limit", not the "$l" it got
    field = _field_from_message(error.message) or _literal_field(error, document)
    variable = _VARIABLE.search(error.message)
    if field and field.startswith("[") and variable and document is not None:
        return argument_of(variable.group(1), document) + field  # "prices[0].price"
    return field


def _original(error: GraphQLError) -> BaseException | None:
    seen = error.original_error
    while isinstance(seen, GraphQLError) and seen.original_error is not None:
        seen = seen.original_error
    return seen


def map_error(error: GraphQLError, document: DocumentNode | None = None) -> GraphQLError:
    """One place that turns any failure into a coded, client-safe GraphQL error."""
    original = _original(error)
    if isinstance(original, RiskgateError):
        extensions: dict[str, object] = {"code": original.code}
        field = original.field
        if isinstance(original, BadInput):
            path_field = _request_field(error, document)
            if path_field and (field is None or field == "value"):
                field = path_field
            message = original.message
            if field and original.field == "value":
                message = message.replace("value", field, 1)
        else:
            message = original.message
        if field:
            extensions["field"] = field
        # The original stays attached (never shown) so the transport can pick the status.
        return GraphQLError(
            message, error.nodes, path=error.path, original_error=original, extensions=extensions
        )
    if original is None or isinstance(original, GraphQLError) or error.path is None:
        # Parse, validation and variable-coercion errors: the request itself is wrong.
        extensions = {"code": "BAD_USER_INPUT"}
        field = _request_field(error, document)
        if field:
            extensions["field"] = field
        return GraphQLError(error.message, error.nodes, path=error.path, extensions=extensions)
    log.error("unexpected error", exc_info=original)
    return GraphQLError(
        "internal error", error.nodes, path=error.path, extensions={"code": "INTERNAL"}
    )


class RequestRefused(BadInput):
    """The request as a whole cannot run (e.g. which operation is meant is unclear);
    over HTTP it is answered with status 400."""


def is_refused_request(errors: list[GraphQLError]) -> bool:
    return any(isinstance(e.original_error, RequestRefused) for e in errors)


def code_result(result: Any, document: DocumentNode | None) -> None:
    """Rewrite a result's errors that carry no code yet (the others are left as they are)."""
    errors = getattr(result, "errors", None)
    if errors and not all(_is_coded(e) for e in errors):
        result.errors = [e if _is_coded(e) else map_error(e, document) for e in errors]


def _is_coded(error: GraphQLError) -> bool:
    return bool((error.extensions or {}).get("code"))
