"""Over graphql-transport-ws every error carries a code, and malformed messages close the
socket (4400) without a traceback in the log."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from domain.values import Role
from riskgate.auth import mint_token
from riskgate.settings import Settings
from tests.hardening.helpers import assert_no_traceback, codes, serving, ws_errors, ws_session

ALERTS = "subscription($c: String) { breakerAlerts(clientId: $c) { id level } }"


async def test_refusals_over_the_websocket_are_coded(
    app: Any, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    alice = mint_token(settings, sub="alice", role=Role.CLIENT)
    async with serving(app) as port, ws_session(port, alice) as ws:
        # Another client's alerts.
        errors = await ws_errors(ws, "1", ALERTS, variables={"c": "bob"})
        assert codes(errors) == {"FORBIDDEN"}, errors
        # Not valid against the schema.
        errors = await ws_errors(ws, "2", "subscription { breakerAlerts { nope } }")
        assert codes(errors) == {"BAD_USER_INPUT"}, errors
        # A variable of the wrong type.
        errors = await ws_errors(ws, "3", ALERTS, variables={"c": 12})
        assert codes(errors) == {"BAD_USER_INPUT"}, errors
        # Text no database could store.
        errors = await ws_errors(ws, "4", ALERTS, variables={"c": "al\u0000ice"})
        assert codes(errors) == {"BAD_USER_INPUT"}, errors
        assert errors[0]["extensions"]["field"] == "clientId", errors
        # A query over the socket: a service-only field.
        errors = await ws_errors(ws, "5", "{ globalExposure { tradingMode } }")
        assert codes(errors) == {"FORBIDDEN"}, errors
        # Several operations and no name.
        errors = await ws_errors(
            ws, "6", "query A { instruments { symbol } } query B { instruments { symbol } }"
        )
        assert codes(errors) == {"BAD_USER_INPUT"}, errors
    assert_no_traceback(caplog)


async def test_the_subscription_limit_is_a_coded_error(app: Any, settings: Settings) -> None:
    app.state.graphql.max_subscriptions_per_connection = 1
    alice = mint_token(settings, sub="alice", role=Role.CLIENT)
    async with serving(app) as port, ws_session(port, alice) as ws:
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": ALERTS}}
        await ws.send(json.dumps(subscribe))
        errors = await ws_errors(ws, "2", ALERTS)
        assert errors, errors
        assert codes(errors) == {"BAD_USER_INPUT"}, errors


async def test_production_introspection_over_the_websocket_is_coded(
    production_app: Any,
) -> None:
    token = mint_token(production_app.state.settings, sub="ops", role=Role.ADMIN)
    async with serving(production_app) as port, ws_session(port, token) as ws:
        errors = await ws_errors(ws, "1", "{ __schema { types { name } } }")
        assert codes(errors) == {"BAD_USER_INPUT"}, errors
        errors = await ws_errors(ws, "2", "{ instrumnts { symbol } }")
        assert codes(errors) == {"BAD_USER_INPUT"}, errors
        assert "instruments" not in json.dumps(errors), errors


Q = json.dumps("{ instruments { symbol } }")


def subscribe(payload: str, op: str = '"1"') -> str:
    return f'{{"id": {op}, "type": "subscribe", "payload": {payload}}}'


MALFORMED: dict[str, str] = {
    "a string": '"str"',
    "a number": "123",
    "null": "null",
    "an array": "[]",
    "type not a string": '{"type": 5}',
    "payload a string": subscribe('"x"'),
    "payload without query": subscribe("{}"),
    "query not a string": subscribe('{"query": 5}'),
    "variables a list": subscribe(f'{{"query": {Q}, "variables": []}}'),
    "id not a string": subscribe(f'{{"query": {Q}}}', op="1"),
    "nested 5000 deep": subscribe(
        f'{{"query": {Q}, "variables": {{"v": {"[" * 5000 + "]" * 5000}}}}}'
    ),
    "not JSON": "{nope",
}


async def test_malformed_messages_close_the_socket_with_4400(
    app: Any, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    token = mint_token(settings, sub="ops", role=Role.ADMIN)
    async with serving(app) as port:
        for case, raw in MALFORMED.items():
            async with ws_session(port, token) as ws:
                await ws.send(raw)
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
                assert closed.value.rcvd is not None, case
                assert closed.value.rcvd.code == 4400, (case, closed.value.rcvd)
    assert_no_traceback(caplog)
