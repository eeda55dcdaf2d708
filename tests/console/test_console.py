"""The console in a real browser against a real server: what operators and clients see,
what they can do, and that the page talks to nothing but the service."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from playwright.async_api import Page, expect

from tests.console.conftest import LiveServer, Watched, graphql, ok, token

OPEN = "mutation($t: TradeOpenedInput!) { recordTradeOpened(trade: $t) { status } }"
CLOSE = "mutation($t: TradeClosedInput!) { recordTradeClosed(trade: $t) { status } }"
CASH = "mutation($f: CashFlowInput!) { recordCashFlow(flow: $f) { balance } }"
GLOBAL = """{ globalExposure { totalPlatformExposure totalOpenPositions reservedPositions
  maxExposureLimit maxPositionsLimit exposureUtilizationPercent positionsUtilizationPercent
  dailyPlatformPnl maxDailyLoss tradingMode byInstrument { instrument volume exposure } } }"""
EXPOSURE = """query($c: String) { exposure(clientId: $c) { clientId totalExposure equity
  currentDrawdownPercent dailyPnl openPositionsCount byInstrument { instrument volume exposure }
} }"""
SET_MODE = """mutation($c: String, $m: TradingMode!, $r: String!) {
  setTradingMode(clientId: $c, mode: $m, reason: $r) }"""
CHECK = """mutation($s: SignalInput!) { checkSignal(signal: $s) {
  passes violations { check message } } }"""
SERVICE = "service:approval-service"
ADMIN = "admin:ops"

SHOTS = Path(os.environ.get("RISKGATE_CONSOLE_SHOTS") or tempfile.mkdtemp(prefix="console-"))


async def seed_client(
    http: httpx.AsyncClient, client: str, *, deposit: str, trades: list[tuple[str, str, str]]
) -> None:
    """A deposit, then open positions (instrument, volume, price); a losing close first."""
    await ok(
        http,
        CASH,
        {"f": {"flowId": f"dep-{client}", "clientId": client, "amount": deposit}},
        as_=SERVICE,
    )
    loser = {
        "tradeId": f"{client}-lost",
        "clientId": client,
        "instrument": "EURUSD",
        "direction": "BUY",
        "volume": "0.10",
        "entryPrice": "1.1000",
    }
    await ok(http, OPEN, {"t": loser}, as_=SERVICE)
    close = {"tradeId": f"{client}-lost", "clientId": client, "exitPrice": "1.0900"}
    await ok(http, CLOSE, {"t": close}, as_=SERVICE)
    for n, (instrument, volume, price) in enumerate(trades):
        trade = {
            "tradeId": f"{client}-{n}",
            "clientId": client,
            "instrument": instrument,
            "direction": "BUY" if n % 2 == 0 else "SELL",
            "volume": volume,
            "entryPrice": price,
        }
        await ok(http, OPEN, {"t": trade}, as_=SERVICE)


def signal(signal_id: str, client: str) -> dict[str, Any]:
    return {
        "signalId": signal_id,
        "clientId": client,
        "instrument": "EURUSD",
        "direction": "BUY",
        "volume": "0.01",
        "entryPrice": "1.1000",
        "stopLoss": "1.0950",
    }


def grouped(value: str) -> str:
    whole, _, cents = value.lstrip("-").partition(".")
    sign = "-" if value.startswith("-") else ""
    return sign + f"{int(whole):,}" + (f".{cents}" if cents else "")


async def sign_in(page: Page, server: LiveServer, raw_token: str) -> None:
    await page.goto(f"{server.url}/console")
    await page.fill("#token", raw_token)
    await page.click("#signin-button")


async def test_admin_sees_what_global_exposure_returns(
    watched: Watched, server: LiveServer, http: httpx.AsyncClient
) -> None:
    await seed_client(http, "op-ann", deposit="10000", trades=[("EURUSD", "0.50", "1.1000")])
    await seed_client(
        http,
        "op-bo",
        deposit="20000",
        trades=[("XAUUSD", "0.10", "2300.00"), ("GER40", "1.00", "18000")],
    )
    page = watched.page
    await sign_in(page, server, token("admin", "ops"))
    await expect(page.locator("#operator")).to_be_visible()
    await expect(page.locator("#signin")).to_be_hidden()
    truth = (await ok(http, GLOBAL, as_=ADMIN))["globalExposure"]
    figures = {
        "#platform-exposure": truth["totalPlatformExposure"],
        "#platform-exposure-limit": truth["maxExposureLimit"],
        "#platform-exposure-util": truth["exposureUtilizationPercent"],
        "#platform-positions": str(truth["totalOpenPositions"]),
        "#platform-positions-limit": str(truth["maxPositionsLimit"]),
        "#platform-positions-util": truth["positionsUtilizationPercent"],
        "#platform-pnl": truth["dailyPlatformPnl"],
        "#platform-loss-limit": truth["maxDailyLoss"],
    }
    for selector, value in figures.items():
        await expect(page.locator(selector)).to_have_attribute("data-value", value)
        await expect(page.locator(selector)).to_have_text(grouped(value))
    assert truth["totalPlatformExposure"] != "0.00"
    await expect(page.locator("#platform-mode")).to_have_text(truth["tradingMode"])
    rows = page.locator("#platform-instruments tbody tr")
    await expect(rows).to_have_count(len(truth["byInstrument"]))
    for i, row in enumerate(truth["byInstrument"]):
        await expect(rows.nth(i)).to_have_text(
            f"{row['instrument']}{grouped(row['volume'])}{grouped(row['exposure'])}"
        )

    # The clients overview, re-sorted from the page, in the order the API gives.
    for order, button in (
        ("DAILY_PNL", "Daily P&L"),
        ("EXPOSURE", "Exposure"),
        ("DRAWDOWN", "Drawdown"),
    ):
        await page.click(f"#clients [data-order={order}]")
        await expect(page.get_by_role("button", name=button, exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        api = await ok(
            http,
            "query($o: ClientOrder!) { clients(orderBy: $o) { items { clientId } } }",
            {"o": order},
            as_=ADMIN,
        )
        expected = [c["clientId"] for c in api["clients"]["items"]]
        await expect(page.locator("#clients-table tbody tr")).to_have_count(len(expected))
        shown = await page.locator("#clients-table tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.client)"
        )
        assert shown == expected, order
    for mode in ("REDUCE_ONLY", "ACTIVE"):
        await ok(http, SET_MODE, {"c": "op-bo", "m": mode, "r": f"desk call: {mode}"}, as_=SERVICE)
    await expect(page.locator("#feed-list li", has_text="desk call")).to_have_count(2)
    await page.screenshot(path=str(SHOTS / "operator.png"), full_page=True)

    # Drilling into a client shows its view, with the operator's mode control.
    await page.click("#clients-table button:text-is('op-bo')")
    await expect(page.locator("#client-title")).to_have_text("Client op-bo")
    bo = (await ok(http, EXPOSURE, {"c": "op-bo"}, as_=ADMIN))["exposure"]
    await expect(page.locator("#c-exposure")).to_have_attribute("data-value", bo["totalExposure"])
    await expect(page.locator("#c-mode-form")).to_be_visible()
    await page.screenshot(path=str(SHOTS / "operator-client.png"), full_page=True)
    await page.click("#client-back")
    await expect(page.locator("#operator")).to_be_visible()


async def test_halting_a_client_from_the_page_refuses_its_next_check(
    watched: Watched, server: LiveServer, http: httpx.AsyncClient
) -> None:
    await seed_client(http, "halt-cy", deposit="10000", trades=[])
    page = watched.page
    await sign_in(page, server, token("admin", "ops"))
    await expect(page.locator("#killswitch")).to_be_visible()
    await page.select_option("#ks-scope", "client")
    await page.fill("#ks-client", "halt-cy")
    await page.select_option("#ks-mode", "HALTED")
    await page.click("#ks-apply")
    await expect(page.locator("#ks-result")).to_contain_text("reason")  # a reason is required
    await page.fill("#ks-reason", "runaway strategy")
    await page.click("#ks-apply")
    await expect(page.locator("#ks-confirm")).to_be_visible()
    await expect(page.locator("#ks-confirm-text")).to_contain_text("client halt-cy to HALTED")
    # Nothing happens before the confirmation.
    before = await ok(http, CHECK, {"s": signal("pre", "halt-cy")}, as_=SERVICE)
    assert before["checkSignal"]["passes"] is True, before
    await ok(http, 'mutation { releaseSignal(signalId: "pre") }', as_=SERVICE)

    await page.click("#ks-confirm-yes")
    await expect(page.locator("#ks-result")).to_have_text("Client halt-cy is now HALTED.")
    refused = (await ok(http, CHECK, {"s": signal("post", "halt-cy")}, as_=SERVICE))["checkSignal"]
    assert refused["passes"] is False
    assert [v["check"] for v in refused["violations"]] == ["TRADING_HALTED"]

    # From the client's own view the operator sets it back.
    await page.click("#clients [data-order=CLIENT_ID]")
    await page.click("#clients-table button:text-is('halt-cy')")
    await expect(page.locator("#c-mode")).to_have_text("HALTED")
    await page.select_option("#c-mode-select", "ACTIVE")
    await page.fill("#c-mode-reason", "strategy fixed")
    await page.click("#c-mode-apply")
    await page.click("#c-mode-confirm-yes")
    await expect(page.locator("#c-mode-result")).to_have_text("Client halt-cy is now ACTIVE.")
    await expect(page.locator("#c-mode")).to_have_text("ACTIVE")
    again = (await ok(http, CHECK, {"s": signal("again", "halt-cy")}, as_=SERVICE))["checkSignal"]
    assert again["passes"] is True
    await ok(http, 'mutation { releaseSignal(signalId: "again") }', as_=SERVICE)

    # The whole platform: halted from the overview, then back to normal.
    await page.click("#client-back")
    for mode in ("HALTED", "ACTIVE"):
        await page.select_option("#ks-scope", "platform")
        await page.select_option("#ks-mode", mode)
        await page.fill("#ks-reason", f"platform drill: {mode}")
        await page.click("#ks-apply")
        await expect(page.locator("#ks-confirm-text")).to_contain_text(
            f"the whole platform to {mode}"
        )
        await page.click("#ks-confirm-yes")
        await expect(page.locator("#ks-result")).to_have_text(f"The platform is now {mode}.")
        await expect(page.locator("#platform-mode")).to_have_text(mode)
        found = await ok(http, CHECK, {"s": signal(f"p-{mode}", "halt-cy")}, as_=SERVICE)
        check = found["checkSignal"]
        if mode == "HALTED":
            assert [v["check"] for v in check["violations"]] == ["TRADING_HALTED"]
            assert "platform" in check["violations"][0]["message"]
        else:
            assert check["passes"] is True
            await ok(http, 'mutation { releaseSignal(signalId: "p-ACTIVE") }', as_=SERVICE)


async def test_the_service_sees_clients_but_not_the_platform(
    watched: Watched, server: LiveServer, http: httpx.AsyncClient
) -> None:
    await seed_client(http, "svc-gil", deposit="1000", trades=[])
    page = watched.page
    await sign_in(page, server, token("service", "approval-service"))
    await expect(page.locator("#clients-table tr[data-client=svc-gil]")).to_be_visible()
    await expect(page.locator("#killswitch")).to_be_visible()
    await expect(page.locator("#platform-exposure")).to_be_hidden()
    assert await page.locator("#ks-scope").input_value() == "client"
    await expect(page.locator("#ks-scope option[value=platform]")).to_be_disabled()
    await expect(page.locator("#feed-status")).to_have_text("live")


async def delivery_delay(
    page: Page, http: httpx.AsyncClient, client: str, n: int
) -> tuple[float, float]:
    """Seconds from sending the mutation, and from its response, to the alert's row in the
    feed (the row records Date.now() when inserted; same machine, same clock)."""
    sent = time.time()
    reply = await graphql(
        http,
        SET_MODE,
        {"c": client, "m": "HALTED" if n % 2 == 0 else "ACTIVE", "r": f"feed probe {n}"},
        as_=SERVICE,
    )
    answered = time.time()
    assert not reply.get("errors"), reply
    row = page.locator("#feed-list li", has_text=f"feed probe {n}")
    await expect(row).to_have_count(1, timeout=10_000)
    shown_at = await row.get_attribute("data-shown-at")
    assert shown_at is not None
    shown = float(shown_at) / 1000
    return shown - sent, shown - answered


async def test_alerts_reach_the_live_feed_within_a_second(
    watched: Watched, server: LiveServer, http: httpx.AsyncClient
) -> None:
    await seed_client(http, "feed-di", deposit="5000", trades=[])
    page = watched.page
    await sign_in(page, server, token("admin", "ops"))
    await expect(page.locator("#feed-status")).to_have_text("live")
    timings = [await delivery_delay(page, http, "feed-di", n) for n in range(5)]
    print("\nalert feed, s from mutation sent -> DOM:", [f"{t[0]:.3f}" for t in timings])
    print("alert feed, s from mutation response -> DOM:", [f"{t[1]:.3f}" for t in timings])
    # The alert is pushed when its transaction commits, so it may reach the page before the
    # mutation's own answer reaches the test (a negative figure).
    assert max(t[1] for t in timings) < 1.0, timings

    # The service goes away and comes back: the feed reconnects on its own.
    server.stop()
    await expect(page.locator("#feed-status")).to_contain_text("reconnecting", timeout=10_000)
    await server.start()
    await expect(page.locator("#feed-status")).to_have_text("live", timeout=30_000)
    after = await delivery_delay(page, http, "feed-di", 5)  # back to ACTIVE
    print(f"after reconnecting: sent -> DOM {after[0]:.3f} s, response -> DOM {after[1]:.3f} s")
    assert after[1] < 1.0


async def test_a_client_sees_only_its_own_data(
    watched: Watched, server: LiveServer, http: httpx.AsyncClient
) -> None:
    await seed_client(
        http,
        "own-eli",
        deposit="10000",
        trades=[("EURUSD", "0.20", "1.1000"), ("XAUUSD", "0.05", "2300.50")],
    )
    await seed_client(http, "own-fay", deposit="50000", trades=[("GBPUSD", "1.00", "1.2500")])
    await ok(http, SET_MODE, {"c": "own-fay", "m": "HALTED", "r": "other client"}, as_=SERVICE)
    await ok(http, CHECK, {"s": signal("eli-ok", "own-eli")}, as_=SERVICE)
    too_big = {**signal("eli-big", "own-eli"), "volume": "5.00"}
    await ok(http, CHECK, {"s": too_big}, as_=SERVICE)
    await ok(http, SET_MODE, {"c": "own-eli", "m": "REDUCE_ONLY", "r": "cool-off"}, as_=SERVICE)
    page = watched.page
    await sign_in(page, server, token("client", "own-eli"))
    await expect(page.locator("#client-view")).to_be_visible()
    await expect(page.locator("#client-title")).to_have_text("Client own-eli")
    await expect(page.locator("#operator")).to_be_hidden()
    await expect(page.locator("#killswitch")).to_be_hidden()
    await expect(page.locator("#c-mode-form")).to_be_hidden()
    await expect(page.locator("#client-back")).to_be_hidden()
    mine = (await ok(http, EXPOSURE, as_="client:own-eli"))["exposure"]
    await expect(page.locator("#c-exposure")).to_have_attribute("data-value", mine["totalExposure"])
    await expect(page.locator("#c-equity")).to_have_attribute("data-value", mine["equity"])
    await expect(page.locator("#c-drawdown")).to_have_attribute(
        "data-value", mine["currentDrawdownPercent"]
    )
    await expect(page.locator("#c-pnl")).to_have_attribute("data-value", mine["dailyPnl"])
    await expect(page.locator("#c-by-instrument tbody tr")).to_have_count(2)
    await expect(page.locator("#c-profile [data-field=maxDrawdownPercent]")).to_have_text("20.00 %")
    decisions = page.locator("#c-decisions tbody tr")
    await expect(decisions).to_have_count(2)
    await expect(decisions.nth(0)).to_contain_text("refused")
    await expect(decisions.nth(0)).to_contain_text("MAX_POSITION_SIZE")
    await expect(decisions.nth(1)).to_contain_text("approved")
    await expect(page.locator("#c-alerts tbody tr")).to_have_count(1)
    await expect(page.locator("#c-alerts tbody tr")).to_contain_text("cool-off")
    await expect(page.locator("#c-chart canvas").first).to_be_visible()
    await expect(page.locator("#feed-status")).to_have_text("live")
    # Live: another client's alert never reaches this page; its own does.
    await ok(http, SET_MODE, {"c": "own-fay", "m": "ACTIVE", "r": "other again"}, as_=SERVICE)
    await ok(http, SET_MODE, {"c": "own-eli", "m": "ACTIVE", "r": "back to work"}, as_=SERVICE)
    await expect(page.locator("#feed-list li", has_text="back to work")).to_have_count(1)
    await expect(page.locator("#c-mode")).to_have_text("ACTIVE", timeout=10_000)
    await page.screenshot(path=str(SHOTS / "client.png"), full_page=True)
    text = await page.locator("body").inner_text()
    assert "own-fay" not in text and "GBPUSD" not in text and "op-" not in text
    assert "other client" not in text and "other again" not in text
    # The service would refuse it anyway: the page's own token cannot list clients.
    refused = await graphql(http, "{ clients { items { clientId } } }", as_="client:own-eli")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not-a-token", "not an access token"),
        ("", "Paste a token first"),
        (
            jwt.encode(
                {"sub": "x", "role": "admin", "iat": 1, "exp": 2**31},
                "wrong-secret-" * 3,
                algorithm="HS256",
            ),
            "did not accept the token (UNAUTHENTICATED",
        ),
        (token("admin", "ops", ttl=-60), "did not accept the token (UNAUTHENTICATED"),
        (token("client", "own-eli").rsplit(".", 1)[0] + ".forged", "UNAUTHENTICATED"),
    ],
    ids=["garbage", "empty", "wrong-key", "expired", "bad-signature"],
)
async def test_a_bad_token_gets_a_clear_message(
    watched: Watched, server: LiveServer, raw: str, message: str
) -> None:
    page = watched.page
    await sign_in(page, server, raw)
    await expect(page.locator("#signin-message")).to_be_visible()
    await expect(page.locator("#signin-message")).to_contain_text(message)
    await expect(page.locator("#operator")).to_be_hidden()
    await expect(page.locator("#client-view")).to_be_hidden()
    assert await page.evaluate("sessionStorage.length") == 0


async def test_the_token_lives_in_the_tab_session_only(
    watched: Watched, server: LiveServer
) -> None:
    page = watched.page
    admin = token("admin", "ops")
    await sign_in(page, server, admin)
    await expect(page.locator("#operator")).to_be_visible()
    assert await page.evaluate("Object.values(sessionStorage)") == [admin]
    assert await page.evaluate("localStorage.length") == 0
    assert await page.evaluate("document.cookie") == ""
    await page.reload()  # the same tab keeps its session
    await expect(page.locator("#operator")).to_be_visible()
    await page.click("#signout")
    await expect(page.locator("#signin")).to_be_visible()
    assert await page.evaluate("sessionStorage.length") == 0


async def test_an_expired_session_and_an_unavailable_store_are_said_plainly(
    watched: Watched, server: LiveServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    page = watched.page
    # The token runs out while the page is open: the service closes the alert feed and
    # refuses the next refresh; the page goes back to sign-in and says why.
    await sign_in(page, server, token("admin", "ops", ttl=8))
    await expect(page.locator("#operator")).to_be_visible()
    await expect(page.locator("#signin")).to_be_visible(timeout=30_000)
    await expect(page.locator("#signin-message")).to_contain_text("UNAUTHENTICATED")
    await expect(page.locator("#signin-message")).to_contain_text("expired")
    assert await page.evaluate("sessionStorage.length") == 0

    # The risk store goes away under a running service of its own.
    own = LiveServer(tmp_path)
    watched.base_origins.append(own.url)
    await own.start()
    try:
        await page.goto(f"{own.url}/console")
        await page.fill("#token", token("client", "gone-gus"))
        await page.click("#signin-button")
        await expect(page.locator("#client-view")).to_be_visible()
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"console.db{suffix}").unlink(missing_ok=True)
        banner = page.locator("#banner")
        await expect(banner).to_be_visible(timeout=15_000)
        await expect(banner).to_contain_text("RISK_UNAVAILABLE")
        await expect(banner).to_contain_text("may be out of date")
        await page.screenshot(path=str(SHOTS / "unavailable.png"), full_page=True)
    finally:
        own.stop()
