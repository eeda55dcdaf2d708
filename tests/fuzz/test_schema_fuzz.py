"""Generated requests from the schema, hostile values mixed in, against the real app.

On SQLite and PostgreSQL, with tokens of every role (and none): no 5xx, every error coded
with a public code (never INTERNAL), no internals in messages, a request carrying a value the
scalars must refuse is refused, a refused mutation stores nothing, nothing malformed is ever
stored, and every query and mutation is answered without error at least once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from random import Random
from typing import Any

import hypothesis_graphql
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from schema.export import sdl
from tests.fuzz.harness import (
    Answer,
    Driver,
    check_answer,
    check_output,
    describe,
)
from tests.fuzz.hostile import DATETIMES, DECIMALS, STRINGS, Hostile
from tests.fuzz.requests import (
    ALLOWED_ROLES,
    CLIENTS,
    GROUPS,
    SYMBOLS,
    Builder,
    Caller,
    Request,
    World,
    caller_as,
    combine,
    draw_caller,
    root_fields,
)
from tests.support.settings import make_settings

# Rounds of "every operation once, in a drawn order"; more with RISKGATE_FUZZ_EXAMPLES.
ROUNDS = int(os.environ.get("RISKGATE_FUZZ_EXAMPLES", "25"))
DOCUMENTS = int(os.environ.get("RISKGATE_FUZZ_DOCUMENTS", "60"))
# Per-mille share of hostile leaves: clean requests reach the rules, the others the scalars.
HOSTILITY = (0, 0, 0, 40, 150, 400)
# Clean requests for an allowed pair of operation and role the rounds never granted.
TOP_UP_ATTEMPTS = 8
# Share of rounds whose requests are all sent at once (sibling requests on the same pool).
CONCURRENT_SHARE = 0.25
# A file to append one line per exchange to (operation, role, status, messages).
TRACE = os.environ.get("RISKGATE_FUZZ_TRACE")

# The suite is reproducible run to run; RISKGATE_FUZZ_EXPLORE=1 draws fresh examples instead.
EXPLORE = os.environ.get("RISKGATE_FUZZ_EXPLORE", "") == "1"
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # the database lives on: shrinking cannot replay
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture
def driver(clean_database: str) -> Iterator[Driver]:
    # A generous statement timeout: a slow machine must not turn into RISK_UNAVAILABLE.
    with Driver(make_settings(clean_database, statement_timeout_ms=60_000)) as running:
        yield running


def seed(driver: Driver, world: World) -> None:
    """Accounts with money, marks, open trades and a reserved signal for each client."""
    admin = Caller("admin", "ops")
    marks = [{"instrument": s, "price": "1.1000"} for s in SYMBOLS]
    granted(
        driver,
        "mutation($p: [MarkPriceInput!]!) { updateMarkPrices(prices: $p) }",
        {"p": marks},
        admin,
    )
    for n, client in enumerate(CLIENTS):
        flow = {"flowId": f"seed-flow-{client}", "clientId": client, "amount": "100000.00"}
        granted(
            driver,
            "mutation($f: CashFlowInput!) { recordCashFlow(flow: $f) { balance } }",
            {"f": flow},
            admin,
        )
        world.flows.append(flow["flowId"])
        for k in range(2):
            trade = {
                "tradeId": f"seed-trade-{client}-{k}",
                "clientId": client,
                "instrument": SYMBOLS[n + k],
                "direction": "BUY" if k else "SELL",
                "volume": "0.10",
                "entryPrice": "1.1000",
            }
            granted(
                driver,
                "mutation($t: TradeOpenedInput!) { recordTradeOpened(trade: $t) { status } }",
                {"t": trade},
                admin,
            )
            world.open_trades.append((trade["tradeId"], client))
        signal = {
            "signalId": f"seed-signal-{client}",
            "clientId": client,
            "instrument": "EURUSD",
            "direction": "BUY",
            "entryPrice": "1.1000",
            "volume": "0.01",
            "stopLoss": "1.0950",
        }
        data = granted(
            driver,
            "mutation($s: SignalInput!) { checkSignal(signal: $s) { passes } }",
            {"s": signal},
            admin,
        )
        if data["checkSignal"]["passes"]:
            world.signals.append((signal["signalId"], client))


def granted(driver: Driver, query: str, variables: dict[str, Any], caller: Caller) -> Any:
    answer = driver.post({"query": query, "variables": variables}, caller)
    assert answer.granted, describe(query, answer)
    return answer.data


def exchange(driver: Driver, world: World, request: Request) -> None:
    """Send one request and hold it to every rule that applies to it."""
    before = driver.fingerprint() if request.keyword == "mutation" else None
    answer = driver.send(request)
    judge(driver, world, request, answer, before)
    if answer.granted and request.operation in REPLAYED:
        replay(driver, request, answer)


# Idempotent by their key: the same event again answers the same and changes nothing.
# (A check's replay returns the first decision; fields that say "now" are left out.)
REPLAYED: dict[str, tuple[str, ...] | None] = {
    "recordTradeOpened": None,
    "recordTradeClosed": None,
    "recordCashFlow": None,
    "checkSignal": ("signalId", "clientId", "passes", "volume", "notional", "decisionId"),
    "checkSignals": ("signalId", "clientId", "passes", "volume", "notional", "decisionId"),
}


def replay(driver: Driver, request: Request, first: Answer) -> None:
    checks = ("checkSignal", "checkSignals")
    if request.operation in checks and request.variables.get("dryRun", False) is not False:
        return  # a dry run is not keyed
    before = driver.fingerprint()
    again = driver.send(request)
    context = describe(request, again) + "\nfirst answer: " + str(first.body)[:1500]
    assert again.granted, f"the same event again was refused{context}"
    assert driver.fingerprint() == before, f"the same event again changed the data{context}"
    fields = REPLAYED[request.operation]
    one, two = first.data[request.operation], again.data[request.operation]
    if fields is not None:
        if isinstance(one, list):  # a batch: each answer in list order
            one, two = ([{k: d[k] for k in fields} for d in ds] for ds in (one, two))
        else:
            one, two = ({k: d[k] for k in fields} for d in (one, two))
    assert one == two, f"the same event again answered differently{context}"
    driver.tally.replays += 1


def exchange_together(driver: Driver, world: World, requests: list[Request]) -> None:
    """Send requests at once: the same rules, except "stores nothing" (not attributable)."""
    for request, answer in zip(requests, driver.send_all(requests), strict=True):
        judge(driver, world, request, answer, None)


def judge(
    driver: Driver,
    world: World,
    request: Request,
    answer: Answer,
    before: dict[str, tuple[int, str]] | None,
) -> None:
    """Hold one answer to the rules; `before` is the fingerprint taken before a mutation."""
    context = describe(request, answer)
    role = request.caller.role or "none"
    for code in set(answer.codes) or {"granted" if answer.granted else "?"}:
        driver.tally.outcomes[(request.operation, role, str(code))] += 1
    if TRACE:
        with open(TRACE, "a") as trace:
            trace.write(
                f"{request.operation} {role} {answer.status} "
                f"{[e.get('message', '')[:160] for e in answer.errors]}\n"
            )
    check_answer(answer, context)
    if request.must_refuse:
        assert answer.refused, f"a value the scalars must refuse was accepted{context}"
        assert "BAD_USER_INPUT" in answer.codes, f"refused, but not as bad input{context}"
    if before is not None and answer.refused_every(request.document):
        driver.tally.refused_mutations += 1
        assert driver.fingerprint() == before, f"a refused mutation changed the data{context}"
    if answer.granted and request.operation in ALLOWED_ROLES:
        assert role in ALLOWED_ROLES[request.operation], f"granted to {role}{context}"
        output = root_fields()[request.operation][1].type
        check_output(output, answer.data[request.operation], request.operation, context)
        driver.tally.granted[(request.operation, role)] += 1
        remember(world, request, answer)


def remember(world: World, request: Request, answer: Answer) -> None:
    """Ids that now exist, for later requests to point at."""
    data, variables = answer.data[request.operation], request.variables
    if request.operation in ("recordTradeOpened", "recordTradeClosed"):
        entry = (data["tradeId"], data["clientId"])
    if request.operation == "recordTradeOpened":
        if entry in world.early_closes:
            world.early_closes.remove(entry)
        if data["status"] == "OPEN" and entry not in world.open_trades:
            world.open_trades.append(entry)
        elif data["status"] == "CLOSED" and entry not in world.closed_trades:
            world.closed_trades.append(entry)
    elif request.operation == "recordTradeClosed":
        if entry in world.open_trades:
            world.open_trades.remove(entry)
            world.closed_trades.append(entry)
        elif data["status"] == "AWAITING_OPEN" and entry not in world.early_closes:
            world.early_closes.append(entry)
    elif request.operation == "checkSignal" and data["reservationExpiresAt"]:
        world.signals.append((data["signalId"], data["clientId"]))
    elif request.operation == "checkSignals":
        for check in data:
            held = (check["signalId"], check["clientId"])
            if check["reservationExpiresAt"] and held not in world.signals:
                world.signals.append(held)
    elif request.operation == "releaseSignal":
        world.signals[:] = [s for s in world.signals if s[0] != variables["signalId"]]
    elif request.operation == "upsertInstrument" and data["symbol"] not in world.symbols:
        world.symbols.append(data["symbol"])


def test_generated_requests_reach_every_operation(driver: Driver) -> None:
    """Rounds of every query and mutation (one by one, or all at once, then as aliased
    siblings), each answer held to the rules; in the end nothing malformed is stored, and each
    operation was answered without error as each role that may call it."""
    world = World()
    seed(driver, world)
    operations = sorted(root_fields())

    def granted(operation: str, role: str) -> int:
        return driver.tally.granted[(operation, role)]

    @settings(FUZZ_SETTINGS, max_examples=ROUNDS)
    @given(seed=st.integers(0, 2**32 - 1))
    def rounds(seed: int) -> None:
        rng = Random(seed)
        together = rng.random() < CONCURRENT_SHARE
        batch = []
        for operation in rng.sample(operations, len(operations)):
            caller = draw_caller(rng, operation, granted)
            hostility = rng.choice(HOSTILITY)
            if not granted(operation, caller.role or "none") and rng.random() < 0.5:
                hostility = 0  # not reached yet: give the rules a clean request
            request = Builder(rng, world, caller, hostility).request(operation)
            if together:
                batch.append(request)
            else:
                exchange(driver, world, request)
        if batch:
            exchange_together(driver, world, batch)
        # Aliased siblings in one document, one of them often refused; then the next caller.
        for keyword in ("query", "mutation"):
            kind = [op for op in operations if root_fields()[op][0] == keyword]
            caller = draw_caller(rng, rng.choice(kind), granted)
            parts = [
                Builder(rng, world, caller, rng.choice(HOSTILITY)).request(rng.choice(kind))
                for _ in range(rng.randint(2, 4))
            ]
            exchange(driver, world, combine(parts))

    rounds()
    # Hypothesis also draws on literals found in the project's own code, so which pairs of
    # operation and role the rounds happened to grant shifts with unrelated changes. Each
    # allowed pair not granted yet gets a few clean requests of its own; one that is still
    # refused after them fails below.
    top_up = Random(0)
    for operation, roles in sorted(ALLOWED_ROLES.items()):
        for role in sorted(roles):
            for _ in range(TOP_UP_ATTEMPTS):
                if granted(operation, role):
                    break
                request = Builder(top_up, world, caller_as(top_up, role), 0).request(operation)
                exchange(driver, world, request)

    malformed = driver.malformed_rows()
    assert not malformed, "stored values the API must refuse:\n" + "\n".join(malformed)
    tally = driver.tally
    missing = set(operations) - tally.operations_granted()
    assert not missing, f"never answered without error: {sorted(missing)}; {tally}"
    unreached_roles = {
        (operation, role)
        for operation, roles in ALLOWED_ROLES.items()
        for role in roles
        if (operation, role) not in tally.granted
    }
    assert not unreached_roles, "allowed but never granted: " + "; ".join(
        f"{op} as {role}: {tally.outcomes_of(op, role)}" for op, role in sorted(unreached_roles)
    )
    print(
        f"\nfuzz: {tally.requests} requests, codes {dict(tally.codes)}, "
        f"{tally.refused_mutations} refused mutations checked, {tally.replays} replays"
    )


def _scalar_nodes(plausible: st.SearchStrategy[str], hostile: tuple[Hostile, ...]) -> Any:
    inline = [h.value for h in hostile if isinstance(h.value, str) and len(h.value) < 1000]
    return st.one_of(
        plausible.map(nodes.String),
        st.sampled_from(inline).map(nodes.String),
        st.integers(-(10**30), 10**30).map(nodes.Int),
        st.sampled_from(("1.5", "1e400", "-0.0")).map(lambda f: nodes.Float(f)),  # type: ignore[arg-type]
    )


CUSTOM_SCALARS = {
    # Known names often, so documents get past the scalars to the rules.
    "String": st.one_of(
        st.sampled_from(CLIENTS + SYMBOLS + GROUPS).map(nodes.String),
        st.sampled_from([h.value for h in STRINGS if isinstance(h.value, str)][:-1]).map(
            nodes.String
        ),
        st.text(max_size=20).map(nodes.String),
    ),
    "Int": st.one_of(st.integers(1, 100), st.integers(-(2**31), 2**31 - 1)).map(nodes.Int),
    "Decimal": _scalar_nodes(st.integers(1, 1_000_000).map(lambda n: f"{n / 100:.2f}"), DECIMALS),
    "DateTime": _scalar_nodes(
        st.sampled_from(("2026-01-02T03:04:05Z", "2025-06-30T23:59:59+02:00")), DATETIMES
    ),
}


@pytest.mark.parametrize("mode", list(hypothesis_graphql.Mode), ids=lambda m: m.name.lower())
def test_generated_documents_answer_coded(driver: Driver, mode: hypothesis_graphql.Mode) -> None:
    """Arbitrary documents (aliases, several root fields, inline literals, and in negative
    mode one schema violation each) as every role: coded answers, nothing stored by a
    mutation that was refused."""
    callers = {
        "client": Caller("client", "alice"),
        "service": Caller("service", "approval-service"),
        "admin": Caller("admin", "ops"),
    }

    # A negative document breaks an argument: only fields that take one.
    negative = mode is hypothesis_graphql.Mode.NEGATIVE
    operations = sorted(op for op, (_, f) in root_fields().items() if f.args or not negative)

    @st.composite
    def documents(draw: st.DrawFn) -> tuple[str, Caller]:
        # Mostly one root field as a role that may call it (so some get through to the
        # resolvers); sometimes any number of fields of any kind, as anyone.
        if draw(st.integers(0, 3)):
            operation = draw(st.sampled_from(operations))
            fields: list[str] | None = [operation]
            caller = callers[draw(st.sampled_from(sorted(ALLOWED_ROLES[operation])))]
        else:
            fields = None
            caller = draw(st.sampled_from([Caller(None, ""), *callers.values()]))
        document = draw(
            hypothesis_graphql.from_schema(
                sdl(), fields=fields, custom_scalars=CUSTOM_SCALARS, mode=mode, codec=None
            )
        )
        return document, caller

    @settings(FUZZ_SETTINGS, max_examples=DOCUMENTS)
    @given(documents())
    def documents_answer(sent: tuple[str, Caller]) -> None:
        document, caller = sent
        is_mutation = document.lstrip().startswith("mutation")
        before = driver.fingerprint() if is_mutation else None
        answer = driver.post({"query": document}, caller)
        context = describe(f"as {caller.role}: {document[:3000]}", answer)
        check_answer(answer, context)
        if is_mutation and answer.refused_every(document):
            assert driver.fingerprint() == before, f"a refused mutation changed the data{context}"
        if answer.granted:
            driver.tally.granted[("document", caller.role or "none")] += 1

    documents_answer()
    tally = driver.tally
    print(
        f"\ndocuments ({mode.name.lower()}): {tally.requests} sent, granted "
        f"{sum(tally.granted.values())}, codes {dict(tally.codes)}"
    )
    if mode is hypothesis_graphql.Mode.POSITIVE:
        # Not only refusals: some documents got through to the resolvers and answered.
        assert driver.tally.granted, driver.tally


def test_fuzzer_knows_every_operation() -> None:
    """A query or mutation added to the schema needs its roles here before it can be fuzzed."""
    assert set(root_fields()) == set(ALLOWED_ROLES)
