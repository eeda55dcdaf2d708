"""Request decoding as pure functions: whatever the bytes, the outcome is a request or a
Refusal with a 4xx status, never another exception."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.http import GraphQLRequestData

from riskgate.transport import MAX_JSON_DEPTH, Refusal, decode_json, request_data

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
request_like = st.fixed_dictionaries(
    {},
    optional={
        "query": st.none() | st.text() | st.integers() | json_values,
        "variables": json_values,
        "operationName": st.none() | st.text() | st.integers(),
        "extensions": json_values,
    },
)


def outcome(raw: bytes) -> GraphQLRequestData | Refusal:
    try:
        return request_data(decode_json(raw))
    except Refusal as refusal:
        assert 400 <= refusal.status < 500
        assert refusal.code == "BAD_USER_INPUT"
        body = json.loads(refusal.response().body)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        return refusal


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_are_refused(raw: bytes) -> None:
    outcome(raw)


@settings(max_examples=300, deadline=None)
@given(json_values | request_like)
def test_any_json_is_a_request_or_refused(value: object) -> None:
    result = outcome(json.dumps(value).encode())
    if isinstance(result, GraphQLRequestData):
        assert isinstance(value, dict)
        assert isinstance(result.query, str) and result.query.strip()
        assert result.variables is None or isinstance(result.variables, dict)
        assert result.operation_name is None or isinstance(result.operation_name, str)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=3_000), st.sampled_from("[{"))
def test_nesting_is_refused_past_the_limit(depth: int, opener: str) -> None:
    inner = "[]" if opener == "[" else "{}"
    nested = inner
    for _ in range(depth - 1):
        nested = f"[{nested}]" if opener == "[" else f'{{"a": {nested}}}'
    raw = f'{{"query": "{{ a }}", "variables": {{"v": {nested}}}}}'.encode()
    result = outcome(raw)
    # The body's own object and variables add two levels to the value's.
    assert isinstance(result, Refusal) == (depth + 2 > MAX_JSON_DEPTH)
