"""/console is served by the app itself, in development and in production, from files
shipped in the package, and refers to nothing outside the service."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from riskgate.app import create_app
from riskgate.console import ASSETS
from tests.support.settings import make_settings

FILES = ("app.js", "app.css", "uplot.min.js", "uplot.min.css")


@pytest.fixture(params=["development", "production"])
async def http(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    # Serving files needs no database: the app is not started.
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", env=request.param))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://riskgate.test") as client:
        yield client


async def test_the_page_and_its_files_are_served(http: httpx.AsyncClient) -> None:
    for path in ("/console", "/console/"):
        page = await http.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "connect-src 'self'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
    for name in FILES:
        reply = await http.get(f"/console/{name}")
        assert reply.status_code == 200, name
        assert reply.content == (ASSETS / name).read_bytes()
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        assert reply.headers["content-type"].startswith(kind)


async def test_nothing_else_is_served(http: httpx.AsyncClient) -> None:
    for path in ("/console/index.html.bak", "/console/..%2Fconsole.py", "/console/x/app.js"):
        assert (await http.get(path)).status_code == 404, path
    assert (await http.post("/console")).status_code == 405


async def test_the_page_refers_only_to_the_service() -> None:
    html = (ASSETS / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith("/console/") or r == "data:," for r in refs), refs
    script = (ASSETS / "app.js").read_text()
    assert "http://" not in script and "https://" not in script
    assert re.findall(r'fetch\("([^"]*)"', script) == ["/graphql"]


def test_the_chart_library_keeps_its_license_and_version() -> None:
    head = (ASSETS / "uplot.min.js").read_text()[:1500]
    assert "uPlot v1.6.32" in head and "The MIT License (MIT)" in head
    assert "Copyright (c) 2022 Leon Sorokin" in head
