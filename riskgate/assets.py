"""GraphiQL from files shipped in the package (no CDN), opening on a riskgate example."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

GRAPHIQL_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
# Mounted here; the page refers to its files relative to /graphql, so a path prefix in
# front of the service keeps working.
GRAPHIQL_PATH = "/graphiql"
GRAPHIQL_FILES = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
)

EXAMPLE_DOCUMENT = """\
# riskgate GraphiQL
#
# 1. Put a token in the Headers tab below: {"Authorization": "Bearer <token>"}.
#    `riskgate demo` (or `make run`) prints one per role; `riskgate token --role client
#    --sub alice` mints one with the configured secret.
# 2. Pick an operation with the run button (or Ctrl-Enter). The Docs button explains every
#    type and field.

query MyRisk {
  riskProfile {
    clientId
    tradingMode
    maxDrawdownPercent
    maxDailyLoss
    maxPositionSize
    maxOpenPositions
  }
  exposure {
    totalExposure
    equity
    currentDrawdownPercent
    dailyPnl
    byInstrument { instrument volume exposure }
  }
}

# A dry run decides without reserving anything (a client token may dry-run its own signals).
mutation TrySignal {
  checkSignal(
    dryRun: true
    signal: {
      signalId: "try-1"
      instrument: "EURUSD"
      direction: BUY
      entryPrice: "1.1000"
      stopLoss: "1.0950"
    }
  ) {
    passes
    volume
    notional
    violations { check limit current message }
    headroom { check limit used remaining }
  }
}

# Live breaker alerts (the Headers tab's token is sent when the socket opens).
subscription Alerts {
  breakerAlerts { kind level previousLevel value limit message createdAt }
}
"""

PLACEHOLDER = "…"
HEADER_TEMPLATE = '{\n  "Authorization": "Bearer ' + PLACEHOLDER + '"\n}'

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>riskgate GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{base}/graphiql.min.css">
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{base}/react.production.min.js"></script>
<script src="{base}/react-dom.production.min.js"></script>
<script src="{base}/graphiql.min.js"></script>
<script>
(function () {{
  var url = window.location.href.split(/[?#]/)[0];
  var socketUrl = url.replace(/^http/, "ws");
  var PLACEHOLDER = {placeholder};
  // One fetcher per Authorization value: the socket sends the token in connection_init.
  var fetchers = {{}};
  function fetcher(params, options) {{
    var headers = Object.assign({{}}, (options && options.headers) || {{}});
    // The template's placeholder is no token (and browsers refuse to send its "…").
    Object.keys(headers).forEach(function (name) {{
      if (String(headers[name]).indexOf(PLACEHOLDER) >= 0) delete headers[name];
    }});
    options = Object.assign({{}}, options || {{}}, {{ headers: headers }});
    var auth = headers.Authorization || headers.authorization || "";
    if (!fetchers[auth]) {{
      fetchers[auth] = GraphiQL.createFetcher({{
        url: url,
        subscriptionUrl: socketUrl,
        wsConnectionParams: auth ? {{ authorization: auth }} : {{}}
      }});
    }}
    return fetchers[auth](params, options);
  }}
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{
      fetcher: fetcher,
      defaultQuery: {query},
      defaultHeaders: {headers},
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false
    }})
  );
}})();
</script>
</body>
</html>
"""


def _script_literal(value: str) -> str:
    """A JSON string that cannot end the surrounding <script> element."""
    return json.dumps(value).replace("<", "\\u003c")


def graphiql_page() -> str:
    return _PAGE.format(
        base="." + GRAPHIQL_PATH,
        query=_script_literal(EXAMPLE_DOCUMENT),
        headers=_script_literal(HEADER_TEMPLATE),
        placeholder=_script_literal(PLACEHOLDER),
    )


def graphiql_assets() -> Mount:
    return Mount(GRAPHIQL_PATH, app=StaticFiles(directory=GRAPHIQL_DIR), name="graphiql")
