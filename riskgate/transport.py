"""Request decoding and transport refusals for /graphql, over HTTP and the WebSocket.

Whatever a caller sends, decoding ends either in a well-formed GraphQL request or in a
`Refusal`, which leaves as a JSON GraphQL error with a code and a 4xx status; nothing raised
while decoding reaches the server's error log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from schema.context import Context
from schema.errors import map_error

# Deep enough for any real request (the deepest is about 5), shallow enough that nothing
# downstream recurses far on it.
MAX_JSON_DEPTH = 32


class Refusal(Exception):
    """The request itself is unacceptable; answered before any GraphQL work."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str = "BAD_USER_INPUT",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.headers = dict(headers or {})

    def response(self) -> Response:
        error = GraphQLError(self.message, extensions={"code": self.code})
        # json.dumps escapes everything outside ASCII, so no input can break the encoding.
        body = json.dumps({"errors": [error.formatted]})
        return Response(
            body, status_code=self.status, media_type="application/json", headers=self.headers
        )


_STATUS_CODES = {404: "NOT_FOUND"}


def from_http_exception(error: HTTPException) -> Refusal:
    """Strawberry's own refusals (unknown operation name, operation type not allowed...)."""
    status = error.status_code if 400 <= error.status_code < 500 else 400
    return Refusal(error.reason, status=status, code=_STATUS_CODES.get(status, "BAD_USER_INPUT"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(raw: str | bytes) -> object:
    """Strict JSON (no NaN or Infinity), at most MAX_JSON_DEPTH levels deep."""
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise Refusal(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:  # bad syntax, bad UTF-8, an integer of too many digits
        raise Refusal("the body is not valid JSON") from None
    # Each level opens with a bracket: a text with no more brackets (in strings or not)
    # than the levels allowed cannot be too deep, and needs no walk.
    if _brackets(raw) > MAX_JSON_DEPTH:
        _check_depth(value)
    return value


def _brackets(raw: str | bytes) -> int:
    if isinstance(raw, bytes):
        return raw.count(b"{") + raw.count(b"[")
    return raw.count("{") + raw.count("[")


def _check_depth(value: object) -> None:
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children: Any
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise Refusal(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def request_data(value: object) -> GraphQLRequestData:
    """One GraphQL request from a decoded body: an object with a query string."""
    if isinstance(value, list):
        raise Refusal("batched requests are not supported: send one operation per request")
    if not isinstance(value, dict):
        raise Refusal('the body must be a JSON object such as {"query": "..."}')
    query = value.get("query")
    if not isinstance(query, str) or not query.strip():
        raise Refusal("query must be a non-empty string")
    variables = value.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise Refusal("variables must be an object")
    operation_name = value.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise Refusal("operationName must be a string")
    extensions = value.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise Refusal("extensions must be an object")
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=operation_name,
        extensions=extensions,
    )


async def read_request(request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
    """The GraphQL request of an HTTP call: JSON over POST only."""
    if request.method != "POST":
        raise Refusal(
            "GraphQL operations must be sent with POST",
            status=405,
            headers={"allow": "POST"},
        )
    content_type = request.content_type or ""
    # The usual header needs no parsing; anything else is parsed as Strawberry does.
    if content_type != "application/json" and parse_content_type(content_type)[0] != (
        "application/json"
    ):
        raise Refusal("unsupported content type: send application/json", status=415)
    return request_data(decode_json(await request.get_body()))


def decode_ws_json(raw: str | bytes) -> object:
    """For WebSocket messages: what is not acceptable JSON closes the socket (4400)."""
    try:
        return decode_json(raw)
    except Refusal as refusal:
        raise json.JSONDecodeError(refusal.message, "", 0) from None


def _valid_ws_message(message: object) -> bool:
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return False
    if message["type"] != "subscribe":
        return True
    payload = message.get("payload")
    if not isinstance(message.get("id"), str) or not isinstance(payload, dict):
        return False
    try:
        request_data(payload)
    except Refusal:
        return False
    return True


class CodedWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with malformed messages refused (close 4400) and every error
    sent coded, the handler's own ("Subscription limit reached") included."""

    async def handle_message(self, message: Any) -> None:
        if not _valid_ws_message(message):
            await self.handle_invalid_message("malformed graphql-transport-ws message")
            return
        await super().handle_message(message)

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "error":
            message = {**message, "payload": [_coded(e) for e in message["payload"]]}
        elif message.get("type") == "next" and message["payload"].get("errors"):
            payload = dict(message["payload"])
            payload["errors"] = [_coded(e) for e in payload["errors"]]
            message = {**message, "payload": payload}
        await super().send_message(message)


def _coded(formatted: Any) -> Any:
    if (formatted.get("extensions") or {}).get("code"):
        return formatted
    return map_error(GraphQLError(str(formatted.get("message", "")))).formatted
