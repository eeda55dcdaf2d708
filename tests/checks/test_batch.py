"""checkSignals over HTTP: one transaction that answers exactly as one-by-one checks would.

EURUSD at 1.0000 makes 0.10 lots worth 10,000 (see the helpers).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from tests.checks.test_faults import decision_insert_fails
from tests.support.client import GraphQLClient, Response, assert_denied, assert_granted, instance
from tests.support.databases import stored_rows
from tests.support.documents import EXPOSURE_FIELDS
from tests.support.events import open_trade, prepared_client, set_platform
from tests.support.reports import exposure, global_exposure
from tests.support.signals import signal

FIELDS = f"""
    signalId clientId passes volume requestedVolume fittedBy notional decisionId
    violations {{ check limit current message }}
    headroom {{ check limit used remaining }}
    exposure {{ {EXPOSURE_FIELDS} }}
    profile {{ clientId maxOpenPositions maxPositionSize tradingMode }}
"""
BATCH = f"""
mutation Batch($signals: [SignalInput!]!, $dryRun: Boolean!, $fit: Boolean!) {{
  checkSignals(signals: $signals, dryRun: $dryRun, fit: $fit) {{ {FIELDS} }}
}}
"""
SINGLE = f"""
mutation Single($signal: SignalInput!, $dryRun: Boolean!, $fit: Boolean!) {{
  checkSignal(signal: $signal, dryRun: $dryRun, fit: $fit) {{ {FIELDS} }}
}}
"""


async def post_batch(
    api: GraphQLClient,
    signals: list[dict[str, Any]],
    *,
    dry_run: bool = False,
    fit: bool = False,
    **auth: Any,
) -> Response:
    return await api.post(BATCH, {"signals": signals, "dryRun": dry_run, "fit": fit}, **auth)


async def batch(
    api: GraphQLClient, signals: list[dict[str, Any]], *, dry_run: bool = False, fit: bool = False
) -> list[dict[str, Any]]:
    data = await api.ok(BATCH, {"signals": signals, "dryRun": dry_run, "fit": fit})
    return list(data["checkSignals"])


async def single(
    api: GraphQLClient, payload: dict[str, Any], *, dry_run: bool = False, fit: bool = False
) -> dict[str, Any]:
    data = await api.ok(SINGLE, {"signal": payload, "dryRun": dry_run, "fit": fit})
    return dict(data["checkSignal"])


def codes(response: Response) -> list[str]:
    return response.codes


async def test_a_batch_answers_in_order_and_later_signals_see_earlier_reservations(
    api: GraphQLClient, database_url: str
) -> None:
    await prepared_client(api, "alice", maxOpenPositions=2)
    await prepared_client(api, "bob")
    answers = await batch(
        api,
        [
            signal("a1", "alice"),
            signal("b1", "bob", "0.30"),
            signal("a2", "alice"),
            signal("a3", "alice"),  # a third position for alice: over her limit of 2
        ],
    )
    assert [a["signalId"] for a in answers] == ["a1", "b1", "a2", "a3"]
    assert [a["passes"] for a in answers] == [True, True, True, False]
    assert [v["check"] for v in answers[3]["violations"]] == ["MAX_OPEN_POSITIONS"]
    assert answers[2]["exposure"]["reservedPositionsCount"] == 2
    assert all(a["decisionId"] for a in answers)
    assert len({a["decisionId"] for a in answers}) == 4
    assert await stored_rows(database_url) == (3, 4)
    after = await exposure(api, "alice")
    assert after["reservedPositionsCount"] == 2


async def test_an_empty_batch_answers_an_empty_list(api: GraphQLClient) -> None:
    assert await batch(api, []) == []


async def test_a_replayed_batch_returns_the_first_decisions_and_reserves_nothing_more(
    api: GraphQLClient, database_url: str
) -> None:
    await prepared_client(api, "alice")
    await prepared_client(api, "bob")
    signals = [signal("r1", "alice"), signal("r2", "bob"), signal("r1", "alice")]
    first = await batch(api, signals)
    # The same id twice with the same values: the second is the first one's replay.
    assert first[2] == first[0]
    assert await stored_rows(database_url) == (2, 2)
    before = await global_exposure(api)

    again = await batch(api, [*signals, signal("r3", "bob")])
    assert again[:3] == first
    assert again[3]["passes"]
    assert await stored_rows(database_url) == (3, 3)
    # A replay through checkSignal answers the batch's decision.
    assert await single(api, signal("r2", "bob")) == first[1]
    after = await global_exposure(api)
    assert after["reservedPositions"] == before["reservedPositions"] + 1


async def test_one_id_with_two_payloads_is_a_conflict_and_stores_nothing(
    api: GraphQLClient, database_url: str
) -> None:
    await prepared_client(api, "alice")
    response = await post_batch(
        api, [signal("x1", "alice"), signal("x2", "alice"), signal("x1", "alice", "0.20")]
    )
    assert codes(response) == ["CONFLICT"]
    assert response.data is None
    assert await stored_rows(database_url) == (0, 0)

    # An id already stored, sent again with other values, fails the whole batch too.
    assert (await single(api, signal("stored", "alice")))["passes"]
    response = await post_batch(api, [signal("fresh", "alice"), signal("stored", "alice", "0.30")])
    assert codes(response) == ["CONFLICT"]
    assert await stored_rows(database_url) == (1, 1)


async def test_a_list_over_the_maximum_is_refused_and_stores_nothing(
    backend: str, clean_database: str
) -> None:
    async with instance(clean_database, max_batch=3) as api:
        await prepared_client(api, "alice")
        signals = [signal(f"s{i}", "alice", "0.01") for i in range(4)]
        response = await post_batch(api, signals)
        assert codes(response) == ["BAD_USER_INPUT"]
        assert response.errors[0]["extensions"].get("field") == "signals"
        assert await stored_rows(clean_database) == (0, 0)
        assert len(await batch(api, signals[:3])) == 3


async def test_one_bad_signal_fails_the_batch_naming_it(
    api: GraphQLClient, database_url: str
) -> None:
    await prepared_client(api, "alice")
    for bad, field in (
        ({"instrument": "NOPE"}, "signals[1].instrument"),
        ({"volume": "0.015"}, "signals[1].volume"),
        ({"entryPrice": "-1"}, "signals[1].entryPrice"),
        ({"volume": None}, "signals[1].stopLoss"),
    ):
        response = await post_batch(
            api, [signal("ok", "alice"), {**signal("bad", "alice"), **bad}, signal("z", "alice")]
        )
        assert codes(response) == ["BAD_USER_INPUT"], bad
        assert response.errors[0]["extensions"].get("field") == field
        assert await stored_rows(database_url) == (0, 0)


async def test_a_failure_while_storing_stores_none_of_the_batch(
    backend: str, clean_database: str
) -> None:
    url = clean_database
    async with instance(url) as api:
        await prepared_client(api, "alice")
        await prepared_client(api, "bob")
        async with decision_insert_fails(backend, url):
            response = await post_batch(api, [signal("f1", "alice"), signal("f2", "bob")])
            assert codes(response) == ["RISK_UNAVAILABLE"]
            assert response.status < 500
        assert await stored_rows(url) == (0, 0)
        assert (await exposure(api, "alice"))["reservedPositionsCount"] == 0
        answers = await batch(api, [signal("f1", "alice"), signal("f2", "bob")])
        assert all(a["passes"] for a in answers)
        assert await stored_rows(url) == (2, 2)


async def test_a_dry_run_batch_stores_nothing_and_sees_no_earlier_signal(
    api: GraphQLClient, database_url: str
) -> None:
    await prepared_client(api, "alice", maxOpenPositions=1)
    answers = await batch(api, [signal("d1", "alice"), signal("d2", "alice")], dry_run=True)
    # One by one, dry runs reserve nothing: both fit in alice's single slot.
    assert [a["passes"] for a in answers] == [True, True]
    assert [a["decisionId"] for a in answers] == [None, None]
    assert await stored_rows(database_url) == (0, 0)


async def test_roles(api: GraphQLClient, database_url: str) -> None:
    await prepared_client(api, "alice")
    await prepared_client(api, "bob")
    own = [signal("c1", "alice"), {**signal("c2", "alice"), "clientId": None}]
    # A client's dry run of its own signals (clientId omitted or its own).
    response = await post_batch(api, own, dry_run=True, role="client", sub="alice")
    assert_granted(response)
    assert [a["clientId"] for a in response.data["checkSignals"]] == ["alice", "alice"]
    # Someone else's signal anywhere in the list: FORBIDDEN, for the whole list.
    mixed = [*own, signal("c3", "bob")]
    assert_denied(await post_batch(api, mixed, dry_run=True, role="client", sub="alice"))
    # A client never reserves.
    assert_denied(await post_batch(api, own[:1], role="client", sub="alice"))
    assert await stored_rows(database_url) == (0, 0)
    # Service and admin reserve for anyone; without a token, nothing.
    assert_granted(await post_batch(api, [signal("s1", "bob")], role="service"))
    assert_granted(await post_batch(api, [signal("s2", "alice")], role="admin"))
    anonymous = await post_batch(api, [signal("s3", "bob")], role=None)
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    # Service and admin must name the client.
    unnamed = await post_batch(api, [{**signal("s4", "bob"), "clientId": None}])
    assert codes(unnamed) == ["BAD_USER_INPUT"]
    assert await stored_rows(database_url) == (2, 2)


async def test_a_batch_with_fit_scales_each_signal_against_the_earlier_ones(
    api: GraphQLClient,
) -> None:
    # 30,000 of platform exposure: the first takes 0.20 lots, the second is fitted to the
    # remaining 0.10, the third finds nothing left.
    await prepared_client(api, "alice")
    await prepared_client(api, "bob")
    await set_platform(api, maxTotalExposure="30000")
    answers = await batch(
        api,
        [signal("f1", "alice", "0.20"), signal("f2", "bob", "0.50"), signal("f3", "alice")],
        fit=True,
    )
    assert [(a["passes"], a["volume"], a["requestedVolume"]) for a in answers] == [
        (True, "0.20", "0.20"),
        (True, "0.10", "0.50"),
        (False, "0.10", "0.10"),
    ]
    assert [a["fittedBy"] for a in answers] == [[], ["PLATFORM_EXPOSURE"], []]


ROUNDS = 4


async def test_a_batch_racing_single_checks_never_overshoots_the_platform(
    api: GraphQLClient,
) -> None:
    await open_trade(api, "base", "base", price="1.0000")
    for n in range(ROUNDS):
        before = await global_exposure(api)
        used = before["totalOpenPositions"] + before["reservedPositions"]
        await set_platform(api, maxOpenPositions=used + 5)
        signals = [signal(f"b{n}-{i}", f"bc{n}-{i}", "0.01") for i in range(8)]
        singles = [signal(f"s{n}-{i}", f"sc{n}-{i}", "0.01") for i in range(8)]
        replies = await asyncio.gather(
            post_batch(api, signals),
            *(single(api, p) for p in singles[:4]),
            post_batch(api, signals[4:] + singles[4:]),
        )
        results: dict[str, bool] = {}
        for reply in replies:
            if isinstance(reply, Response):
                assert_granted(reply)
                for answer in reply.data["checkSignals"]:
                    previous = results.setdefault(answer["signalId"], answer["passes"])
                    assert previous == answer["passes"]
            else:
                results[reply["signalId"]] = reply["passes"]
        approved = sum(results.values())
        assert approved == 5, f"round {n}: {approved} approvals for 5 platform slots"
        after = await global_exposure(api)
        assert after["totalOpenPositions"] + after["reservedPositions"] == used + 5


async def test_the_garbage_collector_runs_again_after_every_batch(api: GraphQLClient) -> None:
    # A batch pauses the cyclic collector while it runs (the app runs in this process).
    assert gc.isenabled()
    await prepared_client(api, "alice")
    assert (await batch(api, [signal("g1", "alice")]))[0]["passes"]
    assert gc.isenabled()
    refused = await post_batch(api, [signal("g2", "alice"), signal("g2", "alice", "0.20")])
    assert codes(refused) == ["CONFLICT"]
    assert gc.isenabled()
    many = await asyncio.gather(
        *(post_batch(api, [signal(f"g-{n}", "alice", "0.01")]) for n in range(5))
    )
    assert all(not r.errors for r in many)
    assert gc.isenabled()
