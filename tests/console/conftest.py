"""Browser tests of the console: a real `riskgate serve` process and a real headless Chromium.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright without its own browser
download. Without it the tests skip locally; with CI=true they fail instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from domain.values import Role
from riskgate.auth import mint_token
from riskgate.settings import Settings
from tests.support.databases import IN_CI
from tests.support.servers import free_port
from tests.support.settings import TEST_SECRET

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RISKGATE = str(Path(sys.executable).with_name("riskgate"))
SETTINGS = Settings(_env_file=None, jwt_secret=TEST_SECRET)  # type: ignore[call-arg]


def token(role: str, sub: str, ttl: int = 3600) -> str:
    return mint_token(SETTINGS, sub=sub, role=Role(role), ttl_seconds=ttl)


@dataclass
class LiveServer:
    """`riskgate serve` in production mode on its own SQLite file and port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGATE_")}
        env.update(
            RISKGATE_ENV="production",
            RISKGATE_DATABASE_URL=f"sqlite+aiosqlite:///{self.workdir / 'console.db'}",
            RISKGATE_JWT_SECRET=TEST_SECRET,
        )
        log = (self.workdir / "server.log").open("ab")
        self.process = await asyncio.to_thread(
            subprocess.Popen,
            [RISKGATE, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{(self.workdir / 'server.log').read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; CI=true: the console's browser tests must run", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("console"))
    await live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class Watched:
    """A page with every request, WebSocket and console error it made recorded."""

    page: Page
    base: str
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Other riskgate servers a test pointed the page at (each is the page's own origin).
    base_origins: list[str] = field(default_factory=list)

    def assert_same_origin(self) -> None:
        allowed = {
            (urlsplit(u).hostname, urlsplit(u).port) for u in (self.base, *self.base_origins)
        }
        assert self.requests, "the page made no request at all"
        for url in self.requests:
            parts = urlsplit(url)
            assert parts.scheme in {"http", "ws"}, url
            assert (parts.hostname, parts.port) in allowed, url


@pytest.fixture
async def watched(browser: Browser, server: LiveServer) -> AsyncIterator[Watched]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    seen = Watched(page, server.url)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("websocket", lambda ws: seen.requests.append(ws.url))

    def console(message: Any) -> None:
        if message.type == "error":
            seen.problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
    yield seen
    await context.close()
    # Every test: nothing left the service, and no script error or policy violation.
    seen.assert_same_origin()
    assert not [p for p in seen.problems if "Content Security Policy" in p or "page error" in p]


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


async def graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, as_: str
) -> dict[str, Any]:
    """POST to the live server with a token (`as_` is 'role:sub'); returns the whole body."""
    role, sub = as_.split(":")
    reply = await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {token(role, sub)}"},
    )
    body: dict[str, Any] = reply.json()
    return body


async def ok(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, as_: str
) -> dict[str, Any]:
    body = await graphql(http, query, variables, as_=as_)
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data
