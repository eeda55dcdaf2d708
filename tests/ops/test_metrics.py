"""/metrics scraped over HTTP and parsed with prometheus_client: the counters move with the
requests, decisions, alerts, errors and job runs that should move them."""

from __future__ import annotations

import json
import logging

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from domain.values import Role
from jobs.tasks import run_job
from riskgate.auth import mint_token
from riskgate.settings import Settings
from tests.alerts.test_in_process_bus import _until, serving
from tests.ops.scrape import scrape, value
from tests.support.client import GraphQLClient
from tests.support.documents import CHECK, MODE, SUBSCRIBE
from tests.support.events import deposit
from tests.support.signals import signal


async def test_process_metrics_and_help_for_every_riskgate_family(api: GraphQLClient) -> None:
    reply = await api.http.get("/metrics")
    text = reply.text
    samples = await scrape(api.http)
    assert value(samples, "process_cpu_seconds_total") > 0
    assert value(samples, "process_resident_memory_bytes") > 0
    for family in (
        "riskgate_http_requests",
        "riskgate_http_request_seconds",
        "riskgate_graphql_operation_seconds",
        "riskgate_graphql_errors",
        "riskgate_risk_decisions",
        "riskgate_check_claims",
        "riskgate_breaker_alerts",
        "riskgate_subscriptions_open",
        "riskgate_job_last_success_timestamp_seconds",
    ):
        assert f"# HELP {family}" in text, family
    # Scraping read the job record through the writer's pool or the reader's.
    pools = {
        dict(labels)["pool"]
        for (name, labels) in samples
        if name == "riskgate_db_pool_connections" and dict(labels)["state"] == "idle"
    }
    assert "writer" in pools


async def test_decisions_by_outcome_and_operation_latency(api: GraphQLClient) -> None:
    await deposit(api, "alice", "100000")
    before = await scrape(api.http)
    passed = await api.ok(CHECK, {"signal": signal("m-1", "alice", "0.10"), "dryRun": False})
    refused = await api.ok(CHECK, {"signal": signal("m-2", "alice", "50"), "dryRun": False})
    dry = await api.ok(CHECK, {"signal": signal("m-3", "alice", "0.10"), "dryRun": True})
    assert passed["checkSignal"]["passes"] and not refused["checkSignal"]["passes"]
    dry_outcome = "passed" if dry["checkSignal"]["passes"] else "refused"
    # A replay answers with the stored decision: no new decision is made.
    await api.ok(CHECK, {"signal": signal("m-1", "alice", "0.10"), "dryRun": False})
    after = await scrape(api.http)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    decided = "riskgate_risk_decisions_total"
    assert moved(decided, outcome="passed", dry_run="false") == 1
    assert moved(decided, outcome="refused", dry_run="false") == 1
    assert moved(decided, outcome=dry_outcome, dry_run="true") == 1
    latency = "riskgate_graphql_operation_seconds_count"
    assert moved(latency, type="mutation", operation="Check") == 4
    # Health checks and scrapes have their own series, apart from GraphQL.
    await api.http.get("/healthz")
    final = await scrape(api.http)
    assert value(final, "riskgate_http_request_seconds_count", endpoint="healthz") >= 1
    assert (
        value(final, "riskgate_http_requests_total", endpoint="metrics", method="GET", status="200")
        >= 2
    )
    assert value(final, latency, type="mutation", operation="Check") == value(
        after, latency, type="mutation", operation="Check"
    )


BATCH = """
mutation Batch($signals: [SignalInput!]!, $dryRun: Boolean!) {
  checkSignals(signals: $signals, dryRun: $dryRun) { passes }
}
"""


async def test_a_batch_counts_each_new_decision_once(api: GraphQLClient) -> None:
    await deposit(api, "alice", "100000")
    await deposit(api, "bob", "100000")
    await api.ok(CHECK, {"signal": signal("b-0", "bob", "0.10"), "dryRun": False})
    before = await scrape(api.http)
    signals = [
        signal("b-1", "alice", "0.10"),
        signal("b-2", "alice", "50"),
        signal("b-1", "alice", "0.10"),  # the same signal again in the list: one decision
        signal("b-0", "bob", "0.10"),  # stored before: a replay, no new decision
    ]
    data = await api.ok(BATCH, {"signals": signals, "dryRun": False})
    assert [c["passes"] for c in data["checkSignals"]] == [True, False, True, True]
    dry = await api.ok(BATCH, {"signals": signals[:2], "dryRun": True})
    dry_outcomes = ["passed" if c["passes"] else "refused" for c in dry["checkSignals"]]
    after = await scrape(api.http)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    decided = "riskgate_risk_decisions_total"
    assert moved(decided, outcome="passed", dry_run="false") == 1
    assert moved(decided, outcome="refused", dry_run="false") == 1
    for outcome in ("passed", "refused"):
        assert moved(decided, outcome=outcome, dry_run="true") == dry_outcomes.count(outcome)


async def test_alerts_by_kind_and_level_are_counted_and_logged(
    api: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    before = await scrape(api.http)
    with caplog.at_level(logging.WARNING, logger="riskgate.alerts"):
        await api.ok(MODE, {"clientId": "alice", "mode": "HALTED", "reason": "drill"})
        await api.ok(MODE, {"clientId": "alice", "mode": "REDUCE_ONLY", "reason": "drill"})
    after = await scrape(api.http)
    alerts = "riskgate_breaker_alerts_total"
    for level in ("CRITICAL", "WARNING"):
        moved = value(after, alerts, kind="TRADING_MODE", level=level) - value(
            before, alerts, kind="TRADING_MODE", level=level
        )
        assert moved == 1, level
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "riskgate.alerts"]
    assert [level for level, _ in logged] == [logging.ERROR, logging.WARNING]
    assert "TRADING_MODE" in logged[0][1] and "alice" in logged[0][1]
    assert "drill" in logged[0][1]


async def test_errors_by_code(api: GraphQLClient) -> None:
    before = await scrape(api.http)
    await api.fails("{ riskProfile { clientId } }", code="UNAUTHENTICATED", role=None)
    await api.fails("{ nope }", code="BAD_USER_INPUT")
    after = await scrape(api.http)
    errors = "riskgate_graphql_errors_total"
    for code in ("UNAUTHENTICATED", "BAD_USER_INPUT"):
        assert value(after, errors, code=code) - value(before, errors, code=code) == 1, code


async def test_job_runs_from_the_shared_record(api: GraphQLClient, app: Starlette) -> None:
    await run_job("purge-reservations", app.state.graphql.deps)
    samples = await scrape(api.http)
    finished = value(
        samples, "riskgate_job_last_success_timestamp_seconds", job="purge-reservations"
    )
    assert finished > 1_600_000_000
    assert value(samples, "riskgate_job_last_duration_seconds", job="purge-reservations") >= 0


async def test_open_subscriptions_follow_the_sockets(
    app: Starlette, api: GraphQLClient, settings: Settings
) -> None:
    token = mint_token(settings, sub="ops", role=Role.ADMIN)
    gauge = "riskgate_subscriptions_open"
    base = value(await scrape(api.http), gauge)
    async with serving(app) as url:
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for op in ("1", "2"):
                payload = {"query": SUBSCRIBE, "variables": {}}
                await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
            await _until(lambda: app.state.bus.subscribers == 2)
            assert value(await scrape(api.http), gauge) == base + 2
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            await _until(lambda: app.state.bus.subscribers == 1)
            assert value(await scrape(api.http), gauge) == base + 1
        await _until(lambda: app.state.bus.subscribers == 0)
    assert value(await scrape(api.http), gauge) == base
