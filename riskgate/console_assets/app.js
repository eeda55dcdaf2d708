/* riskgate console.
 *
 * Speaks only the public GraphQL API of the service that serves it (/graphql over HTTP, and
 * graphql-transport-ws on the same URL for live alerts). The token lives in sessionStorage;
 * its payload is decoded here for display only: the service decides what the token may see.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "riskgate.console.token";
  var REFRESH_MS = 5000;
  var PAGE = 20;

  var state = {
    token: null,
    claims: null,
    role: null,
    clientId: null, // the client shown in the client view
    order: "EXPOSURE",
    shown: PAGE, // how many clients the overview shows (refreshes keep it)
    cursor: null,
    timer: null,
    feed: null,
  };

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child == null) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  // ---- numbers: the service sends exact decimals as strings; show them as sent ----------

  function grouped(value) {
    if (value === null || value === undefined) return "—";
    var text = String(value);
    var sign = text.charAt(0) === "-" ? "-" : "";
    var body = sign ? text.slice(1) : text;
    var parts = body.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + parts.join(".");
  }

  // A figure element keeps the exact string in data-value and shows it grouped.
  function setFigure(id, value, options) {
    var node = $(id);
    node.dataset.value = value === null || value === undefined ? "" : String(value);
    node.textContent = value === null || value === undefined ? (options && options.none) || "—" : grouped(value);
    node.classList.toggle("negative", typeof value === "string" && value.charAt(0) === "-");
  }

  function setText(id, value) {
    $(id).textContent = value === null || value === undefined ? "—" : String(value);
  }

  // Display-only share of a limit used, for the meters (the service's percentages win).
  function share(used, limit) {
    var u = Number(used);
    var l = Number(limit);
    if (!isFinite(u) || !isFinite(l) || l <= 0) return null;
    return Math.max(0, (u / l) * 100);
  }

  function meter(id, percent) {
    var bar = $(id);
    var p = percent === null || percent === undefined ? 0 : Number(percent);
    bar.style.width = Math.min(100, Math.max(0, p)) + "%";
    bar.classList.toggle("warn", p >= 80 && p < 100);
    bar.classList.toggle("bad", p >= 100);
  }

  function lossShare(pnl, limit) {
    if (limit === null || limit === undefined) return null;
    var p = Number(pnl);
    return p < 0 ? share(-p, limit) : 0;
  }

  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  // Tables: month-day and time, the full instant on hover.
  function stamp(iso) {
    var full = when(iso);
    return el("td", { className: "time", title: full, text: full.slice(5, 19) });
  }

  function setMode(id, mode) {
    var node = $(id);
    node.textContent = mode || "—";
    node.className = "mode " + (mode || "");
  }

  // ---- GraphQL over HTTP ----------------------------------------------------------------

  function ApiError(code, message) {
    this.code = code;
    this.message = message;
  }

  function gql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + state.token },
      body: JSON.stringify({ query: query, variables: variables || {} }),
      credentials: "omit",
      cache: "no-store",
    }).then(
      function (response) {
        return response.json().then(
          function (body) {
            if (body && body.errors && body.errors.length) {
              var first = body.errors[0];
              var code = (first.extensions && first.extensions.code) || "INTERNAL";
              throw new ApiError(code, first.message || "request failed");
            }
            if (!body || !body.data) throw new ApiError("INTERNAL", "HTTP " + response.status);
            return body.data;
          },
          function () {
            throw new ApiError("INTERNAL", "unexpected answer (HTTP " + response.status + ")");
          }
        );
      },
      function () {
        throw new ApiError("NETWORK", "the service cannot be reached");
      }
    );
  }

  function describe(error) {
    var code = error && error.code ? error.code : "INTERNAL";
    var message = error && error.message ? error.message : String(error);
    switch (code) {
      case "UNAUTHENTICATED":
        return "The service did not accept the token (UNAUTHENTICATED: " + message +
          "). It may have expired. Paste a new token to sign in again.";
      case "FORBIDDEN":
        return "Not allowed (FORBIDDEN): " + message + ".";
      case "RISK_UNAVAILABLE":
        return "Risk data is unavailable right now (RISK_UNAVAILABLE: " + message +
          "). Figures on this page may be out of date; the page keeps retrying.";
      case "NETWORK":
        return "The service cannot be reached. The page keeps retrying.";
      default:
        return code + ": " + message;
    }
  }

  function showBanner(error) {
    var banner = $("banner");
    banner.textContent = describe(error);
    banner.className = "banner" + (error.code === "RISK_UNAVAILABLE" || error.code === "NETWORK" ? " warn" : "");
    banner.dataset.code = error.code || "";
    banner.hidden = false;
  }

  function clearBanner() {
    $("banner").hidden = true;
  }

  // Any failure in a signed-in view: an unusable token ends the session, the rest is shown.
  function failed(error) {
    if (error && error.code === "UNAUTHENTICATED") {
      signOut(describe(error));
      return;
    }
    showBanner(error);
  }

  // ---- token and session ----------------------------------------------------------------

  function decodeClaims(token) {
    var parts = token.split(".");
    if (parts.length !== 3) return null;
    try {
      var b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      b64 += "===".slice((b64.length + 3) % 4);
      var bytes = Uint8Array.from(atob(b64), function (c) {
        return c.charCodeAt(0);
      });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === "object" ? claims : null;
    } catch (e) {
      return null;
    }
  }

  // A question each role may ask: the answer proves the service accepts the token.
  var PROBES = {
    admin: "query Probe { globalExposure { tradingMode } }",
    service: "query Probe { clients(limit: 1) { nextCursor } }",
    client: "query Probe { riskProfile { clientId } }",
  };

  function signIn(raw) {
    var token = (raw || "").trim();
    var message = $("signin-message");
    message.hidden = true;
    if (!token) return showSigninMessage("Paste a token first.");
    var claims = decodeClaims(token);
    if (!claims) {
      return showSigninMessage(
        "That is not an access token: a token has three parts separated by dots. " +
          "Paste the whole token you were given."
      );
    }
    var role = typeof claims.role === "string" ? claims.role : "";
    var probe = PROBES[role];
    if (!probe) {
      return showSigninMessage("This token's role (" + (role || "none") + ") has no console view.");
    }
    state.token = token;
    $("signin-button").disabled = true;
    return gql(probe)
      .then(function () {
        sessionStorage.setItem(TOKEN_KEY, token);
        state.claims = claims;
        state.role = role;
        enter();
      })
      .catch(function (error) {
        state.token = null;
        sessionStorage.removeItem(TOKEN_KEY);
        showSigninMessage(describe(error));
      })
      .then(function () {
        $("signin-button").disabled = false;
      });
  }

  function showSigninMessage(text) {
    var message = $("signin-message");
    message.textContent = text;
    message.hidden = false;
  }

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    stopFeed();
    if (state.timer) clearInterval(state.timer);
    state.token = state.claims = state.role = state.clientId = null;
    state.timer = null;
    ["operator", "client-view", "feed", "session"].forEach(function (id) {
      $(id).hidden = true;
    });
    clearBanner();
    $("token").value = "";
    $("signin").hidden = false;
    if (reason) showSigninMessage(reason);
    else $("signin-message").hidden = true;
  }

  function enter() {
    $("signin").hidden = true;
    $("signin-message").hidden = true;
    $("session").hidden = false;
    var who = $("who");
    who.textContent = "";
    who.appendChild(el("span", { className: "role", text: state.role }));
    who.appendChild(document.createTextNode(" " + (state.claims.sub || "")));
    if (typeof state.claims.exp === "number") {
      who.appendChild(
        el("span", { className: "muted", text: " · until " + when(new Date(state.claims.exp * 1000).toISOString()) })
      );
    }
    var staff = state.role === "admin" || state.role === "service";
    document.querySelectorAll("[data-admin-only]").forEach(function (node) {
      node.hidden = state.role !== "admin";
      node.disabled = state.role !== "admin";
    });
    if (state.role !== "admin") $("ks-scope").value = "client";
    syncScope();
    if (staff) showOperator();
    else showClient(null);
    startFeed();
    state.timer = setInterval(refresh, REFRESH_MS);
  }

  function refresh() {
    if (!state.token || document.hidden) return;
    if (!$("client-view").hidden) loadClient();
    else if (!$("operator").hidden) loadOperator();
  }

  // ---- operator view --------------------------------------------------------------------

  var PLATFORM = "query Platform { globalExposure { timestamp totalPlatformExposure " +
    "totalOpenPositions reservedPositions reservedExposure maxExposureLimit maxPositionsLimit " +
    "exposureUtilizationPercent positionsUtilizationPercent dailyPlatformPnl maxDailyLoss " +
    "tradingMode byInstrument { instrument volume exposure } } " +
    "platformLimits { maxPositionSize } }";

  var CLIENTS = "query Clients($order: ClientOrder!, $limit: Int!, $after: String) { " +
    "clients(orderBy: $order, limit: $limit, after: $after) { items { clientId totalExposure " +
    "openPositionsCount reservedPositionsCount equity currentDrawdownPercent dailyPnl } " +
    "nextCursor } }";

  function showOperator() {
    state.clientId = null;
    $("client-view").hidden = true;
    $("operator").hidden = false;
    $("feed").hidden = false;
    loadOperator();
  }

  function loadOperator() {
    var jobs = [loadClients(false)];
    var admin = state.role === "admin";
    $("operator").querySelector(".card").hidden = !admin; // platform figures: admin only
    if (admin) jobs.push(gql(PLATFORM).then(renderPlatform));
    return Promise.all(jobs).then(clearBanner, failed);
  }

  function renderPlatform(data) {
    var g = data.globalExposure;
    setText("platform-time", when(g.timestamp));
    setFigure("platform-exposure", g.totalPlatformExposure);
    setFigure("platform-exposure-limit", g.maxExposureLimit);
    setFigure("platform-exposure-util", g.exposureUtilizationPercent);
    meter("platform-exposure-bar", g.exposureUtilizationPercent);
    setFigure("platform-positions", String(g.totalOpenPositions));
    setFigure("platform-positions-limit", String(g.maxPositionsLimit));
    setFigure("platform-reserved", String(g.reservedPositions));
    setFigure("platform-positions-util", g.positionsUtilizationPercent);
    meter("platform-positions-bar", g.positionsUtilizationPercent);
    setFigure("platform-pnl", g.dailyPlatformPnl);
    setFigure("platform-loss-limit", g.maxDailyLoss);
    var loss = lossShare(g.dailyPlatformPnl, g.maxDailyLoss);
    setText("platform-loss-util", loss === null ? null : loss.toFixed(2));
    meter("platform-loss-bar", loss);
    setMode("platform-mode", g.tradingMode);
    setFigure("platform-max-position", data.platformLimits.maxPositionSize);
    var body = $("platform-instruments").querySelector("tbody");
    body.textContent = "";
    g.byInstrument.forEach(function (row) {
      body.appendChild(
        el("tr", {},
          el("td", { text: row.instrument }),
          el("td", { className: "num", text: grouped(row.volume) }),
          el("td", { className: "num", text: grouped(row.exposure) }))
      );
    });
    if (!g.byInstrument.length) body.appendChild(emptyRow(3, "No open positions."));
  }

  function emptyRow(span, text) {
    return el("tr", {}, el("td", { className: "empty", colspan: String(span), text: text }));
  }

  // Reload the overview: the first `state.shown` clients (`more` appends the next page).
  function loadClients(more) {
    var variables = more
      ? { order: state.order, limit: PAGE, after: state.cursor }
      : { order: state.order, limit: Math.min(state.shown, 500), after: null };
    return gql(CLIENTS, variables).then(function (data) {
      var page = data.clients;
      var body = $("clients-table").querySelector("tbody");
      if (!more) body.textContent = "";
      page.items.forEach(function (c) {
        var open = el("button", { type: "button", className: "link", text: c.clientId });
        open.addEventListener("click", function () {
          showClient(c.clientId);
        });
        body.appendChild(
          el("tr", { "data-client": c.clientId },
            el("td", {}, open),
            el("td", { className: "num", text: grouped(c.totalExposure) }),
            el("td", { className: "num", text: c.openPositionsCount + " / " + c.reservedPositionsCount }),
            el("td", { className: "num", text: grouped(c.equity) }),
            el("td", { className: "num", text: grouped(c.currentDrawdownPercent) }),
            el("td", {
              className: "num" + (c.dailyPnl.charAt(0) === "-" ? " negative" : ""),
              text: grouped(c.dailyPnl),
            }))
        );
      });
      if (!body.children.length) body.appendChild(emptyRow(6, "No clients yet."));
      state.shown = Math.max(PAGE, body.querySelectorAll("tr[data-client]").length);
      state.cursor = page.nextCursor;
      $("clients-more").hidden = !page.nextCursor;
      document.querySelectorAll("#clients [data-order]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.dataset.order === state.order));
      });
    });
  }

  // ---- client view ----------------------------------------------------------------------

  var CLIENT = "query Client($c: String) { " +
    "exposure(clientId: $c) { clientId timestamp totalExposure " +
    "byInstrument { instrument volume exposure } byDirection { direction exposure } " +
    "openPositionsCount reservedPositionsCount equity currentDrawdownPercent dailyPnl } " +
    "riskProfile(clientId: $c) { clientId maxDrawdownPercent maxDailyLoss maxPositionSize " +
    "maxOpenPositions maxCorrelationExposure riskPerTradePercent tradingMode updatedAt } " +
    "riskDecisions(clientId: $c, limit: 20) { decisionId signalId passes volume checkedAt " +
    "violations { check message } } " +
    "breakerAlerts(clientId: $c, limit: 20) { id kind level message createdAt } " +
    "exposureHistory(clientId: $c, limit: 500) { timestamp totalExposure currentDrawdownPercent } }";

  function showClient(clientId) {
    state.clientId = clientId;
    var staff = state.role !== "client";
    $("operator").hidden = true;
    $("client-view").hidden = false;
    $("feed").hidden = false;
    $("client-back").hidden = !staff;
    $("c-mode-form").hidden = !staff;
    resetConfirm("c-mode");
    $("c-mode-result").textContent = "";
    setText("client-title", "Client " + (clientId || state.claims.sub));
    if (chart) {
      chart.destroy();
      chart = null;
    }
    loadClient();
  }

  function loadClient() {
    return gql(CLIENT, { c: state.clientId }).then(renderClient).then(clearBanner, failed);
  }

  var PROFILE_ROWS = [
    ["maxDrawdownPercent", "Max drawdown", "%"],
    ["maxDailyLoss", "Max daily loss", ""],
    ["maxPositionSize", "Max position size", "lots"],
    ["maxOpenPositions", "Max open positions", ""],
    ["maxCorrelationExposure", "Max correlation exposure", ""],
    ["riskPerTradePercent", "Risk per trade", "%"],
    ["tradingMode", "Trading mode", ""],
    ["updatedAt", "Updated", ""],
  ];

  function renderClient(data) {
    var x = data.exposure;
    var p = data.riskProfile;
    setText("client-title", "Client " + x.clientId);
    setFigure("c-exposure", x.totalExposure);
    setText("c-positions", x.openPositionsCount);
    setText("c-reserved", x.reservedPositionsCount);
    setText("c-positions-limit", p.maxOpenPositions);
    setFigure("c-equity", x.equity);
    setFigure("c-drawdown", x.currentDrawdownPercent);
    setFigure("c-drawdown-limit", p.maxDrawdownPercent);
    meter("c-drawdown-bar", share(x.currentDrawdownPercent, p.maxDrawdownPercent));
    setFigure("c-pnl", x.dailyPnl);
    setFigure("c-loss-limit", p.maxDailyLoss, { none: "none" });
    meter("c-loss-bar", lossShare(x.dailyPnl, p.maxDailyLoss));
    setMode("c-mode", p.tradingMode);

    var body = $("c-by-instrument").querySelector("tbody");
    body.textContent = "";
    x.byInstrument.forEach(function (row) {
      body.appendChild(
        el("tr", {},
          el("td", { text: row.instrument }),
          el("td", { className: "num", text: grouped(row.volume) }),
          el("td", { className: "num", text: grouped(row.exposure) }))
      );
    });
    if (!x.byInstrument.length) body.appendChild(emptyRow(3, "No open positions."));
    body = $("c-by-direction").querySelector("tbody");
    body.textContent = "";
    x.byDirection.forEach(function (row) {
      body.appendChild(
        el("tr", {}, el("td", { text: row.direction }), el("td", { className: "num", text: grouped(row.exposure) }))
      );
    });

    var profile = $("c-profile");
    profile.textContent = "";
    PROFILE_ROWS.forEach(function (r) {
      var value = p[r[0]];
      var shown = value === null ? "no limit" : r[0] === "updatedAt" ? when(value) : grouped(value);
      profile.appendChild(el("dt", { text: r[1] }));
      profile.appendChild(el("dd", { "data-field": r[0], text: shown + (value !== null && r[2] ? " " + r[2] : "") }));
    });

    body = $("c-decisions").querySelector("tbody");
    body.textContent = "";
    data.riskDecisions.forEach(function (d) {
      var why = d.violations.map(function (v) {
        return v.check;
      }).join(", ");
      body.appendChild(
        el("tr", {},
          stamp(d.checkedAt),
          el("td", { text: d.signalId }),
          el("td", { className: d.passes ? "pass" : "fail", text: d.passes ? "approved" : "refused" }),
          el("td", { className: "num", text: grouped(d.volume) }),
          el("td", { text: why || "—", title: d.violations.map(function (v) { return v.message; }).join("\n") }))
      );
    });
    if (!data.riskDecisions.length) body.appendChild(emptyRow(5, "No decisions yet."));

    body = $("c-alerts").querySelector("tbody");
    body.textContent = "";
    data.breakerAlerts.forEach(function (a) {
      body.appendChild(
        el("tr", {},
          stamp(a.createdAt),
          el("td", { text: a.kind }),
          el("td", { className: "level " + a.level, text: a.level }),
          el("td", { text: a.message }))
      );
    });
    if (!data.breakerAlerts.length) body.appendChild(emptyRow(4, "No alerts."));

    drawChart(data.exposureHistory);
  }

  // ---- chart (uPlot, shipped with the page) ---------------------------------------------

  var chart = null;

  function drawChart(history) {
    var points = history.slice().reverse(); // the service sends newest first
    var xs = points.map(function (h) {
      return new Date(h.timestamp).getTime() / 1000;
    });
    var exposure = points.map(function (h) {
      return Number(h.totalExposure);
    });
    var drawdown = points.map(function (h) {
      return Number(h.currentDrawdownPercent);
    });
    $("c-chart-empty").hidden = points.length > 0;
    $("c-chart").hidden = points.length === 0;
    if (!points.length || typeof window.uPlot !== "function") return;
    var data = [xs, exposure, drawdown];
    if (chart) {
      chart.setData(data);
      return;
    }
    var width = Math.max(320, $("c-chart").clientWidth || 800);
    chart = new window.uPlot(
      {
        width: width,
        height: 260,
        scales: { x: { time: true }, money: {}, pct: { range: [0, null] } },
        series: [
          {},
          { label: "Exposure", scale: "money", stroke: "#1d4ed8", width: 2, points: { show: points.length < 40 } },
          { label: "Drawdown %", scale: "pct", stroke: "#b91c1c", width: 2, points: { show: points.length < 40 } },
        ],
        axes: [
          {},
          { scale: "money", label: "Exposure", size: 80 },
          { scale: "pct", side: 1, label: "Drawdown %", grid: { show: false } },
        ],
      },
      data,
      $("c-chart")
    );
  }

  // ---- kill switch ----------------------------------------------------------------------

  var SET_MODE = "mutation SetMode($c: String, $m: TradingMode!, $r: String!) { " +
    "setTradingMode(clientId: $c, mode: $m, reason: $r) }";

  function syncScope() {
    var platform = $("ks-scope").value === "platform";
    $("ks-client-label").hidden = platform;
  }

  function resetConfirm(prefix) {
    $(prefix + "-confirm").hidden = true;
    $(prefix + "-apply").disabled = false;
  }

  // One mode form: Apply asks for confirmation; Confirm sends setTradingMode.
  function wireModeForm(prefix, target) {
    var pending = null;
    $(prefix + "-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var result = $(prefix + "-result");
      result.textContent = "";
      result.className = "result";
      var chosen = target();
      if (chosen.error) {
        result.textContent = chosen.error;
        result.className = "result bad";
        return;
      }
      pending = chosen;
      $(prefix + "-confirm-text").textContent =
        "Set " + (chosen.clientId ? "client " + chosen.clientId : "the whole platform") +
        " to " + chosen.mode + "? Reason: \u201c" + chosen.reason + "\u201d. " +
        "It applies to the very next risk check.";
      $(prefix + "-confirm").hidden = false;
      $(prefix + "-apply").disabled = true;
    });
    $(prefix + "-confirm-no").addEventListener("click", function () {
      pending = null;
      resetConfirm(prefix);
    });
    $(prefix + "-confirm-yes").addEventListener("click", function () {
      if (!pending) return;
      var chosen = pending;
      pending = null;
      var result = $(prefix + "-result");
      $(prefix + "-confirm-yes").disabled = true;
      gql(SET_MODE, { c: chosen.clientId, m: chosen.mode, r: chosen.reason })
        .then(function (data) {
          result.textContent = (chosen.clientId ? "Client " + chosen.clientId : "The platform") +
            " is now " + data.setTradingMode + ".";
          result.className = "result ok";
          refresh();
        })
        .catch(function (error) {
          if (error.code === "UNAUTHENTICATED") return failed(error);
          result.textContent = describe(error);
          result.className = "result bad";
        })
        .then(function () {
          $(prefix + "-confirm-yes").disabled = false;
          resetConfirm(prefix);
        });
    });
  }

  function reasonOrError(id) {
    var reason = $(id).value.trim();
    return reason ? { reason: reason } : { error: "Give a reason: it is recorded with the change." };
  }

  // ---- live alerts over graphql-transport-ws -------------------------------------------

  var ALERTS = "subscription Alerts { breakerAlerts { id clientId kind level previousLevel " +
    "value limit message createdAt } }";
  var RECENT = "query Recent { breakerAlerts(limit: 30) { id clientId kind level previousLevel " +
    "value limit message createdAt } }";

  function startFeed() {
    stopFeed();
    state.feed = { ws: null, attempt: 0, retry: null, pinger: null, awaitingPong: false, seen: {} };
    $("feed-list").textContent = "";
    $("feed-empty").hidden = false;
    $("feed-error").hidden = true;
    connectFeed();
  }

  function stopFeed() {
    var feed = state.feed;
    if (!feed) return;
    state.feed = null;
    clearTimeout(feed.retry);
    clearInterval(feed.pinger);
    if (feed.ws) {
      var ws = feed.ws;
      feed.ws = null;
      try {
        ws.close(1000, "signed out");
      } catch (e) {
        /* already closed */
      }
    }
  }

  function feedStatus(text, kind) {
    var node = $("feed-status");
    node.textContent = text;
    node.className = "status " + (kind || "");
  }

  function connectFeed() {
    var feed = state.feed;
    if (!feed) return;
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(scheme + "//" + location.host + "/graphql", "graphql-transport-ws");
    feed.ws = ws;
    feedStatus("connecting…", "retrying");
    function send(message) {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
    }
    ws.onopen = function () {
      send({ type: "connection_init", payload: { authorization: "Bearer " + state.token } });
    };
    ws.onmessage = function (event) {
      if (feed.ws !== ws) return;
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      switch (message.type) {
        case "connection_ack":
          feed.attempt = 0;
          send({ id: "alerts", type: "subscribe", payload: { query: ALERTS } });
          feedStatus("live", "live");
          $("feed-error").hidden = true;
          backfill(); // whatever was raised while the feed was down
          feed.pinger = setInterval(function () {
            if (feed.awaitingPong) {
              ws.close(4000, "no pong"); // a silent connection is a dead one
              return;
            }
            feed.awaitingPong = true;
            send({ type: "ping" });
          }, 15000);
          break;
        case "next":
          if (message.payload && message.payload.data && message.payload.data.breakerAlerts) {
            addAlert(message.payload.data.breakerAlerts, true);
          } else if (message.payload && message.payload.errors) {
            feedError(message.payload.errors[0]);
          }
          break;
        case "error":
          feedError((message.payload && message.payload[0]) || {});
          break;
        case "complete":
          feedStatus("ended", "stopped");
          break;
        case "ping":
          send({ type: "pong" });
          break;
        case "pong":
          feed.awaitingPong = false;
          break;
      }
    };
    ws.onclose = function (event) {
      if (feed.ws !== ws || state.feed !== feed) return; // stopped on purpose
      clearInterval(feed.pinger);
      feed.awaitingPong = false;
      if (event.code === 4401) {
        signOut(describe(new ApiError("UNAUTHENTICATED", "the token expired")));
        return;
      }
      if (event.code === 4403) {
        feedStatus("refused", "stopped");
        feedError({ message: "the service refused this token for live alerts", extensions: { code: "FORBIDDEN" } });
        return;
      }
      var delay = Math.min(15000, 500 * Math.pow(2, feed.attempt)) + Math.floor(Math.random() * 250);
      feed.attempt += 1;
      feedStatus("reconnecting in " + Math.ceil(delay / 1000) + " s", "retrying");
      feed.retry = setTimeout(connectFeed, delay);
    };
  }

  function feedError(error) {
    var node = $("feed-error");
    node.textContent = describe(new ApiError((error.extensions && error.extensions.code) || "INTERNAL", error.message || "error"));
    node.hidden = false;
  }

  function backfill() {
    gql(RECENT).then(
      function (data) {
        data.breakerAlerts.slice().reverse().forEach(function (a) {
          addAlert(a, false);
        });
      },
      function () {
        /* the live stream still works; the list fills as alerts arrive */
      }
    );
  }

  function addAlert(alert, live) {
    var feed = state.feed;
    if (!feed || feed.seen[alert.id]) return;
    feed.seen[alert.id] = true;
    var list = $("feed-list");
    var item = el("li", { "data-alert-id": String(alert.id), "data-live": String(live) },
      el("span", { className: "muted", text: when(alert.createdAt).slice(11) }),
      el("span", { className: "level " + alert.level, text: alert.level }),
      el("span", {}, (alert.clientId ? alert.clientId + " · " : "platform · ") + alert.kind + ": " + alert.message));
    // Newest first, by creation time (a backfilled alert may be older than a live one).
    var before = null;
    for (var i = 0; i < list.children.length; i++) {
      if ((list.children[i].dataset.created || "") < alert.createdAt) {
        before = list.children[i];
        break;
      }
    }
    item.dataset.created = alert.createdAt;
    item.dataset.shownAt = String(Date.now()); // when it reached the page (tests measure it)
    list.insertBefore(item, before);
    while (list.children.length > 200) list.removeChild(list.lastChild);
    $("feed-empty").hidden = true;
  }

  // ---- wiring ---------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    $("signin-form").addEventListener("submit", function (event) {
      event.preventDefault();
      signIn($("token").value);
    });
    $("signout").addEventListener("click", function () {
      signOut(null);
    });
    $("client-back").addEventListener("click", showOperator);
    $("clients-more").addEventListener("click", function () {
      loadClients(true).catch(failed);
    });
    document.querySelectorAll("#clients [data-order]").forEach(function (button) {
      button.addEventListener("click", function () {
        state.order = button.dataset.order;
        state.shown = PAGE;
        loadClients(false).then(clearBanner, failed);
      });
    });
    $("ks-scope").addEventListener("change", syncScope);
    wireModeForm("ks", function () {
      var chosen = reasonOrError("ks-reason");
      if (chosen.error) return chosen;
      var platform = $("ks-scope").value === "platform";
      var clientId = $("ks-client").value.trim();
      if (!platform && !clientId) return { error: "Name the client to apply the mode to." };
      return { clientId: platform ? null : clientId, mode: $("ks-mode").value, reason: chosen.reason };
    });
    wireModeForm("c-mode", function () {
      var chosen = reasonOrError("c-mode-reason");
      if (chosen.error) return chosen;
      return { clientId: state.clientId, mode: $("c-mode-select").value, reason: chosen.reason };
    });
    window.addEventListener("resize", function () {
      if (chart) chart.setSize({ width: Math.max(320, $("c-chart").clientWidth), height: 260 });
    });
    var saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved);
  });
})();
