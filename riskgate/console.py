"""The console: a static web page for operators and clients, shipped inside the package.

It is served as files and nothing else: every figure it shows comes from the public GraphQL
API with the token the user pastes, so the page itself needs no authentication. Everything
it loads comes from here (no CDN), which the Content-Security-Policy also enforces.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

ASSETS = Path(str(files("riskgate") / "console_assets"))

# Only these files are served, by name: no directory listing, no path to walk.
_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "uplot.min.js": "text/javascript; charset=utf-8",
    "uplot.min.css": "text/css; charset=utf-8",
}

_HEADERS = {
    # 'self' covers the page's own WebSocket on the same host and port.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def _index(_request: Request) -> Response:
    return FileResponse(
        ASSETS / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS
    )


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = _FILES.get(name)
    if media_type is None:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(ASSETS / name, media_type=media_type, headers=_HEADERS)


def console_routes() -> list[BaseRoute]:
    """/console (the page) and /console/<file> (its script, styles and chart library)."""
    return [
        Route("/console", _index, methods=["GET", "HEAD"]),
        Route("/console/", _index, methods=["GET", "HEAD"]),
        Route("/console/{name}", _asset, methods=["GET", "HEAD"]),
    ]
