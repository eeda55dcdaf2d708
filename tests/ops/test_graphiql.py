"""GraphiQL loads only from the service itself and opens on a riskgate example."""

from __future__ import annotations

import re

from riskgate.assets import GRAPHIQL_FILES
from tests.ops.conftest import OpenClient

_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_TYPES = {".js": "javascript", ".css": "text/css"}


async def test_graphiql_refers_only_to_assets_the_service_serves(
    sqlite_client: OpenClient,
) -> None:
    async with sqlite_client() as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        references = [r for r in _REFERENCE.findall(html) if not r.startswith("data:")]
        assert len(references) == len(GRAPHIQL_FILES), references
        # Nothing from another origin: no scheme, no protocol-relative URL, anywhere.
        assert not re.search(r"https?://|//[a-z]", html.replace("window.location", ""))
        for reference in references:
            assert reference.startswith("./graphiql/"), reference
            asset = await http.get("/" + reference.removeprefix("./"))
            assert asset.status_code == 200, reference
            assert _TYPES[reference[reference.rindex(".") :]] in asset.headers["content-type"]
            assert len(asset.content) > 1000
        # Opens on a riskgate document, with the header template to fill in.
        assert "checkSignal" in html and "riskProfile" in html and "breakerAlerts" in html
        assert '\\"Authorization\\": \\"Bearer \\u2026\\"' in html or "Bearer …" in html


async def test_no_graphiql_in_production(sqlite_client: OpenClient) -> None:
    async with sqlite_client(env="production") as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        assert (await http.get("/graphiql/graphiql.min.js")).status_code == 404


def test_vendored_files_keep_their_licenses() -> None:
    from riskgate.assets import GRAPHIQL_DIR

    for name in ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"):
        assert "MIT License" in (GRAPHIQL_DIR / name).read_text()
    for name in ("react.production.min.js", "react-dom.production.min.js"):
        assert "@license React" in (GRAPHIQL_DIR / name).read_text()[:200]
