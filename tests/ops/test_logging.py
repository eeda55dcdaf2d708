"""Request ids (in, out, in every line of the request), access lines, JSON and text formats,
alerts logged at the right level, and readiness probes that write nothing."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import re

import pytest

from riskgate.logging_setup import configure_logging
from riskgate.observability import tracing_extensions
from tests.ops.conftest import OpenClient
from tests.support.client import GraphQLClient
from tests.support.documents import MODE


def _token(api: GraphQLClient, role: str = "service") -> dict[str, str]:
    return {"authorization": f"Bearer {api.token(role)}"}


async def test_request_id_is_echoed_generated_or_replaced(api: GraphQLClient) -> None:
    given = await api.http.get("/healthz", headers={"X-Request-ID": "desk-42.a"})
    assert given.headers["x-request-id"] == "desk-42.a"
    made = await api.http.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    for hostile in ("has space", "x" * 129, "line\\nbreak", "é"):
        reply = await api.http.get("/healthz", headers={b"x-request-id": hostile.encode()})
        assert re.fullmatch(r"[0-9a-f]{32}", reply.headers["x-request-id"]), hostile


async def test_every_line_of_a_request_carries_its_id_in_json(
    api: GraphQLClient, restore_logging: None
) -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    body = {
        "query": MODE,
        "variables": {"clientId": "alice", "mode": "HALTED", "reason": "log drill"},
    }
    reply = await api.http.post(
        "/graphql", json=body, headers={**_token(api), "X-Request-ID": "drill-1"}
    )
    assert reply.status_code == 200 and "errors" not in reply.json(), reply.text
    await api.http.get("/healthz", headers={"X-Request-ID": "probe-1"})
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "drill-1"]
    alert = [line for line in mine if line["logger"] == "riskgate.alerts"]
    assert len(alert) == 1 and alert[0]["level"] == "ERROR", mine
    assert alert[0]["alert_kind"] == "TRADING_MODE" and alert[0]["client_id"] == "alice"
    assert alert[0]["alert_level"] == "CRITICAL"
    access = [line for line in lines if line["logger"] == "riskgate.access"]
    assert {(a["request_id"], a["path"], a["status"]) for a in access} == {
        ("drill-1", "/graphql", 200),
        ("probe-1", "/healthz", 200),
    }
    assert all(isinstance(a["duration_ms"], float) for a in access)


async def test_text_format_names_the_request(api: GraphQLClient, restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging("INFO", "text", stream=out)
    await api.http.get("/healthz", headers={"X-Request-ID": "text-1"})
    (line,) = [x for x in out.getvalue().splitlines() if "riskgate.access" in x]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO riskgate.access \[text-1\] GET /healthz 200 "
        r"[\d.]+ ms",
        line,
    ), line


async def test_readiness_probes_write_no_migration_lines(
    sqlite_client: OpenClient, caplog: pytest.LogCaptureFixture
) -> None:
    async with sqlite_client() as http:
        with caplog.at_level(logging.DEBUG, logger="alembic"):
            for _ in range(3):
                assert (await http.get("/readyz")).status_code == 200
    assert [r for r in caplog.records if r.name.startswith("alembic")] == []


def test_configured_logging_keeps_alembic_quiet(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", "text", stream=out)
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("riskgate.test").info("kept")
    assert "Context impl" not in out.getvalue()
    assert "kept" in out.getvalue()


def test_tracing_is_optional(caplog: pytest.LogCaptureFixture) -> None:
    assert tracing_extensions(False) == []
    if importlib.util.find_spec("opentelemetry") is None:
        with caplog.at_level(logging.WARNING, logger="riskgate"):
            assert tracing_extensions(True) == []
        assert any("riskgate[otel]" in r.getMessage() for r in caplog.records)
    else:
        from strawberry.extensions.tracing import OpenTelemetryExtension

        assert tracing_extensions(True) == [OpenTelemetryExtension]


async def test_app_starts_with_tracing_asked_for(sqlite_client: OpenClient) -> None:
    async with sqlite_client(otel_enabled=True) as http:
        reply = await http.post("/graphql", json={"query": "{ __typename }"})
        assert reply.json() == {"data": {"__typename": "Query"}}
