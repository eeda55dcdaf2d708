"""`python -m bench`: the performance figures on a real server, SQLite and PostgreSQL side by side.

Per backend:
  main     fresh database, migrated; a server; seeding through the API; the floor
           (`{ __typename }`), checkSignal, exposure, globalExposure and trade events:
           p50/p99 at one connection, throughput at 16.
  history  fresh database with closed trades and open positions written set-based, served
           beside a fresh one seeded like the main phase; checkSignal p50 on both in
           alternating rounds; server RSS after the load.
  snapshots (PostgreSQL) 100,000 active clients; `riskgate run-job snapshots` timed.
  fanout   fresh database, funded clients written set-based; checkSignals of one master
           signal for N clients against the same N checkSignal calls one by one, and a
           larger batch with the server's RSS.
  scaling  exposure p50 by a client's history length and the database's size (bench/scaling.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench import fanout, profiling, seed_api, seed_bulk, workloads
from bench.databases import BenchDatabase, DatabaseFactory, postgres_reachable
from bench.http import Connection
from bench.measure import (
    LatencyResult,
    SequenceSource,
    ThroughputResult,
    Workload,
    latency,
    throughput,
)
from bench.report import Row, at_least, at_most, render, write_json
from bench.server import (
    CpuPlan,
    Server,
    cpu_busy_seconds,
    load_average,
    riskgate_command,
    run_cli,
    server_env,
)

RESULTS = Path("bench-results")
FIGURES = (
    "floor",
    "check",
    "exposure",
    "global",
    "trades",
    "history",
    "snapshots",
    "fanout",
    "scaling",
)
MAIN_FIGURES = ("check", "exposure", "global", "trades")


@dataclass(frozen=True, slots=True)
class Sizes:
    clients: int  # clients seeded through the API
    warmup: int  # requests before each latency measurement
    count: int  # requests per latency repeat
    repeats: int
    trade_warmup: int  # trade events cost several times a read: fewer samples
    trade_count: int
    tput_repeats: int
    tput_warmup_s: float
    tput_window_s: float
    connections: int
    history_clients: int
    history_closed: int  # closed trades in all
    history_open: int  # open positions in all (one per client)
    snapshot_clients: int
    fanout_small: int  # signals (and clients) of the batch timed against one by one
    fanout_large: int  # signals (and clients) of the large batch
    fanout_repeats: int


QUICK = Sizes(
    clients=100,
    warmup=30,
    count=100,
    repeats=3,
    trade_warmup=10,
    trade_count=40,
    tput_repeats=2,
    tput_warmup_s=0.5,
    tput_window_s=1.0,
    connections=16,
    history_clients=10_000,
    history_closed=100_000,
    history_open=10_000,
    snapshot_clients=10_000,
    fanout_small=200,
    fanout_large=2_000,
    fanout_repeats=2,
)
FULL = Sizes(
    clients=1000,
    warmup=300,
    count=600,
    repeats=5,
    trade_warmup=100,
    trade_count=300,
    tput_repeats=5,
    tput_warmup_s=1.0,
    tput_window_s=4.0,
    connections=16,
    history_clients=10_000,
    history_closed=1_000_000,
    history_open=10_000,
    snapshot_clients=100_000,
    fanout_small=1_000,
    fanout_large=10_000,
    fanout_repeats=3,
)


@dataclass
class Options:
    quick: bool
    backends: list[str]
    only: set[str]
    profile: bool
    profile_seconds: float
    keep: bool

    @property
    def sizes(self) -> Sizes:
        return QUICK if self.quick else FULL


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small seeds, few repeats (< 2 min)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated subset of: {', '.join(FIGURES)} (the floor is measured with any"
        " main figure)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy under checkSignal load and print the top functions",
    )
    parser.add_argument("--profile-seconds", type=float, default=8.0)
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases (PostgreSQL and SQLite files)"
    )
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(FIGURES)
    if unknown:
        parser.error(f"unknown figure(s) {sorted(unknown)}; choose from {', '.join(FIGURES)}")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    return Options(
        args.quick, backends, only or set(FIGURES), args.profile, args.profile_seconds, args.keep
    )


def log(message: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


@dataclass
class Tokens:
    service: str
    admin: str


@dataclass
class Run:
    options: Options
    run_dir: Path
    cpu: CpuPlan
    factory: DatabaseFactory
    tokens: Tokens
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)
    seqs: SequenceSource = field(default_factory=SequenceSource)
    log_notes: list[str] = field(default_factory=list)

    @property
    def sizes(self) -> Sizes:
        return self.options.sizes

    async def start_server(self, db: BenchDatabase, phase: str) -> Server:
        server = Server(
            server_env(db.url), self.cpu.server, self.run_dir / f"{db.backend}-{phase}.log"
        )
        self.servers.append(server)
        await server.start()
        return server

    def stop_servers(self) -> None:
        while self.servers:
            server = self.servers.pop()
            server.stop()
            problems = server.log_problems()
            if problems:
                self.raw.setdefault("server_log_problems", {})[server.log_path.name] = problems
                first = problems[0].split(" ", 2)[-1]
                self.log_notes.append(
                    f"{server.log_path}: {len(problems)} warning/error line(s), first: {first}"
                )

    @property
    def core_busy(self) -> Callable[[], float] | None:
        core = self.cpu.server
        return None if core is None else (lambda: cpu_busy_seconds(core))

    def endpoint(self, server: Server) -> workloads.Endpoint:
        return workloads.Endpoint(server.host, server.port, self.tokens.service, self.tokens.admin)

    async def latency(
        self, server: Server, workload: Workload, *, writes: bool = False
    ) -> LatencyResult:
        s = self.sizes
        return await latency(
            server.host,
            server.port,
            workload,
            self.seqs,
            warmup=s.trade_warmup if writes else s.warmup,
            count=s.trade_count if writes else s.count,
            repeats=s.repeats,
        )

    async def throughput(
        self, server: Server, workload: Workload, *, probe_rss: bool = False
    ) -> ThroughputResult:
        s = self.sizes
        return await throughput(
            server.host,
            server.port,
            workload,
            self.seqs,
            server.cpu_seconds,
            server_core_busy=self.core_busy,
            probe=server.rss_mb if probe_rss else None,
            connections=s.connections,
            warmup_s=s.tput_warmup_s,
            duration_s=s.tput_window_s,
            repeats=s.tput_repeats,
        )


def _memory_note(server: Server, served: int | None, clients: int) -> str:
    note = f"{clients:,} clients; {server.rss_at_start_mb:.0f} MB at start"
    if served:
        note += f", {served:,} requests served since"
    return note


def _notes(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _load_note(result: ThroughputResult) -> str:
    note = (
        f"p50 under load {result.p50_ms:.1f} ms; client CPU {result.client_cpu_percent:.0f}%, "
        f"server CPU {result.server_cpu_percent:.0f}%"
    )
    if result.client_cpu_percent > 80:
        note += " (CLIENT-BOUND)"
    if result.foreign_cpu_percent is not None and result.foreign_cpu_percent >= 10:
        note += f"; other processes took {result.foreign_cpu_percent:.0f}% of the server's CPU"
    return note


class Figures:
    """Measures one figure group and appends its rows."""

    def __init__(self, run: Run, backend: str, server: Server) -> None:
        self.run = run
        self.backend = backend
        self.server = server
        self.floor_lat: LatencyResult | None = None
        self.floor_tput: ThroughputResult | None = None
        self.raw: dict[str, Any] = {}

    def add(self, row: Row) -> None:
        self.run.rows.append(row)

    async def floor(self, endpoint: workloads.Endpoint) -> None:
        log(f"{self.backend}: floor {{ __typename }}")
        workload = workloads.floor(endpoint)
        self.floor_lat = await self.run.latency(self.server, workload)
        self.floor_tput = await self.run.throughput(self.server, workload)
        lat, tput = self.floor_lat, self.floor_tput
        self.raw["floor"] = {"latency": asdict(lat), "throughput": asdict(tput)}
        self.add(Row(self.backend, "floor p50", lat.p50_ms, "ms", 1.0, note=workload.error_note()))
        self.add(Row(self.backend, "floor p99", lat.p99_ms, "ms", 1.0))
        self.add(
            Row(
                self.backend,
                f"floor throughput @{self.run.sizes.connections}",
                tput.rps,
                "rps",
                1.0,
                note=_load_note(tput),
            )
        )

    def _lat_rows(
        self,
        name: str,
        result: LatencyResult,
        target: float | None,
        workload: Workload,
        note: str = "",
    ) -> None:
        assert self.floor_lat is not None
        ratio = result.p50_ms / self.floor_lat.p50_ms
        self.add(
            Row(
                self.backend,
                f"{name} p50",
                result.p50_ms,
                "ms",
                ratio,
                target=f"≤ {target:g} × floor p50" if target else "",
                met=at_most(ratio, target) if target else None,
                note=_notes(note, workload.error_note()),
            )
        )
        self.add(
            Row(
                self.backend,
                f"{name} p99",
                result.p99_ms,
                "ms",
                result.p99_ms / self.floor_lat.p99_ms,
            )
        )

    def _tput_row(
        self,
        name: str,
        result: ThroughputResult,
        target: float | None,
        workload: Workload,
        note: str = "",
    ) -> None:
        assert self.floor_tput is not None
        ratio = result.rps / self.floor_tput.rps
        load = _load_note(result)
        self.add(
            Row(
                self.backend,
                f"{name} throughput @{self.run.sizes.connections}",
                result.rps,
                "rps",
                ratio,
                target=f"≥ {target:g} × floor rps" if target else "",
                met=at_least(ratio, target) if target else None,
                note=_notes(note, load, workload.error_note()),
            )
        )

    async def check_signal(self, endpoint: workloads.Endpoint, clients: list[str]) -> None:
        log(f"{self.backend}: checkSignal")
        workload = workloads.check_signal(endpoint, "chk", clients, release=True)
        lat = await self.run.latency(self.server, workload)
        passed = f"{workload.marked}/{workload.answers} passed"
        self._lat_rows("checkSignal", lat, 2.0, workload, note=f"reserving; {passed}")
        paired = workloads.check_signal(endpoint, "chkp", clients, release=True)
        with_release = await self.run.throughput(self.server, paired)
        workload = workloads.check_signal(endpoint, "chkt", clients, release=False)
        tput = await self.run.throughput(self.server, workload)
        self._tput_row(
            "checkSignal",
            tput,
            0.5,
            workload,
            note=f"checks only, reservations held; {workload.marked}/{workload.answers} passed",
        )
        self._tput_row(
            "checkSignal + releaseSignal pairs",
            with_release,
            None,
            paired,
            note=f"checks counted, each released untimed; {paired.marked}/{paired.answers} passed",
        )
        self.raw["checkSignal"] = {
            "latency": asdict(lat),
            "throughput": asdict(tput),
            "throughput_with_release": asdict(with_release),
        }
        if self.run.options.profile:
            await self.profile(workload)

    async def profile(self, workload: Workload) -> None:
        seconds = self.run.options.profile_seconds
        output = self.run.run_dir / f"{self.backend}-checkSignal.pyspy.txt"
        log(f"{self.backend}: profiling the server under checkSignal load for {seconds:g} s")
        sampler = profiling.Sampler(self.server.pid, seconds, output)
        await sampler.start()
        s = self.run.sizes
        await throughput(
            self.server.host,
            self.server.port,
            workload,
            self.run.seqs,
            self.server.cpu_seconds,
            connections=s.connections,
            warmup_s=0.2,
            duration_s=seconds + 1,
            repeats=1,
        )
        await sampler.wait()
        summary = profiling.summarize(output)
        self.run.raw.setdefault("profiles", {})[self.backend] = str(output)
        print(f"\nserver profile under checkSignal load ({self.backend}; raw: {output}):")
        print(summary, flush=True)

    async def exposure(self, endpoint: workloads.Endpoint, clients: list[str]) -> None:
        log(f"{self.backend}: exposure")
        workload = workloads.exposure(endpoint, clients)
        lat = await self.run.latency(self.server, workload)
        tput = await self.run.throughput(self.server, workload, probe_rss=True)
        assert tput.probe_start is not None and tput.probe_end is not None
        growth_kb = (tput.probe_end - tput.probe_start) * 1024
        reads = tput.window_requests
        self._lat_rows("exposure", lat, 1.5, workload)
        self._tput_row("exposure", tput, None, workload)
        self.add(
            Row(
                self.backend,
                "server RSS growth under exposure load",
                growth_kb / reads if reads else None,
                "KB/request",
                note=f"{growth_kb / 1024:+.1f} MB over {reads:,} exposure reads at 16 connections"
                " after their warm-up (a warm server should not grow: growth is a leak)",
            )
        )
        self.raw["exposure"] = {
            "latency": asdict(lat),
            "throughput": asdict(tput),
            "rss_growth_kb": growth_kb,
            "reads": reads,
        }

    async def global_exposure(self, endpoint: workloads.Endpoint) -> None:
        log(f"{self.backend}: globalExposure")
        workload = workloads.global_exposure(endpoint)
        lat = await self.run.latency(self.server, workload)
        tput = await self.run.throughput(self.server, workload)
        self._lat_rows("globalExposure", lat, None, workload)
        self._tput_row("globalExposure", tput, None, workload)
        self.raw["globalExposure"] = {"latency": asdict(lat), "throughput": asdict(tput)}

    async def trades(self, endpoint: workloads.Endpoint, clients: list[str]) -> None:
        log(f"{self.backend}: recordTradeOpened / recordTradeClosed")
        events = workloads.trades(endpoint, "trd", clients)
        opened = await self.run.latency(self.server, events.opened, writes=True)
        closed = await self.run.latency(self.server, events.closed, writes=True)
        mixed = await self.run.throughput(self.server, events.mixed)
        self._lat_rows(
            "recordTradeOpened", opened, None, events.opened, note="close follows, untimed"
        )
        self._lat_rows(
            "recordTradeClosed", closed, None, events.closed, note="open precedes, untimed"
        )
        self._tput_row("trade events (open+close)", mixed, None, events.mixed)
        self.raw["trades"] = {
            "opened": asdict(opened),
            "closed": asdict(closed),
            "throughput": asdict(mixed),
        }


async def main_phase(run: Run, backend: str) -> None:
    """Fresh database and server; the floor and every selected main figure."""
    only = run.options.only
    db = await run.factory.create(backend, "main")
    run_cli(["migrate"], server_env(db.url))
    server = await run.start_server(db, "main")
    figures = Figures(run, backend, server)
    endpoint = run.endpoint(server)
    log(f"{backend}: seeding {run.sizes.clients} clients through the API")
    started = time.perf_counter()
    await seed_api.platform(endpoint)
    clients = seed_api.client_ids("c", run.sizes.clients)
    await seed_api.clients(endpoint, clients)
    seed_s = time.perf_counter() - started
    await figures.floor(endpoint)
    if "check" in only:
        await figures.check_signal(endpoint, clients)
    if "exposure" in only:
        await figures.exposure(endpoint, clients)
    if "global" in only:
        await figures.global_exposure(endpoint)
    if "trades" in only:
        await figures.trades(endpoint, clients)
    rss = server.rss_mb()
    served = await server.requests_served()
    run.rows.append(
        Row(
            backend,
            "server RSS after main load",
            rss,
            "MB",
            note=_memory_note(server, served, run.sizes.clients),
        )
    )
    run.raw.setdefault(backend, {})["main"] = {
        **figures.raw,
        "seed_seconds": seed_s,
        "rss_mb": rss,
    }
    server.stop()


async def _api_json(endpoint: workloads.Endpoint, query: str, variables: dict[str, Any]) -> Any:
    conn = await Connection.open(endpoint.host, endpoint.port)
    try:
        return (await conn.post_json(endpoint.admin.encode(query, variables)))["data"]
    finally:
        await conn.close()


async def _verify_history(
    endpoint: workloads.Endpoint, plan: seed_bulk.HistoryPlan, base_open: int
) -> None:
    """The bulk-written aggregates read back through the API as the service would show them."""
    client = plan.client_id(plan.clients // 2)
    data = await _api_json(endpoint, workloads.EXPOSURE, {"clientId": client})
    exposure = data["exposure"]
    expected_equity = seed_bulk.decimal_text(plan.balance)
    if (
        exposure["openPositionsCount"] != plan.open_positions
        or exposure["equity"] != expected_equity
        or exposure["currentDrawdownPercent"] != "0.00"
    ):
        raise RuntimeError(f"history client {client} reads back wrong: {exposure}")
    data = await _api_json(endpoint, workloads.GLOBAL_EXPOSURE, {})
    total = data["globalExposure"]["totalOpenPositions"]
    if total != plan.clients * plan.open_positions + base_open:
        raise RuntimeError(f"platform open positions read back as {total}")


async def _interleaved(run: Run, pairs: list[tuple[Server, Workload]]) -> list[LatencyResult]:
    """Latency of several servers measured in alternating rounds, so that drift in the
    machine's load hits them alike; per-round p50/p99, medians over the rounds."""
    s = run.sizes
    rounds: list[list[tuple[float, float]]] = [[] for _ in pairs]
    for index in range(s.repeats):
        for slot, (server, workload) in enumerate(pairs):
            result = await latency(
                server.host,
                server.port,
                workload,
                run.seqs,
                warmup=s.warmup if index == 0 else s.warmup // 10,
                count=s.count,
                repeats=1,
            )
            rounds[slot].extend(result.repeats)
    return [
        LatencyResult(
            p50_ms=statistics.median(p50 for p50, _ in per_round),
            p99_ms=statistics.median(p99 for _, p99 in per_round),
            repeats=per_round,
            samples=s.count * s.repeats,
        )
        for per_round in rounds
    ]


async def history_phase(run: Run, backend: str) -> None:
    """checkSignal p50 on a database with a long history against one without, both served
    at once (same core) and measured in alternating rounds."""
    s = run.sizes
    plan = seed_bulk.HistoryPlan(
        clients=s.history_clients,
        closed=s.history_closed // s.history_clients,
        open_positions=1 if s.history_open else 0,
    )
    db = await run.factory.create(backend, "history")
    run_cli(["migrate"], server_env(db.url))
    log(
        f"{backend}: writing history ({plan.clients * plan.closed:,} closed trades, "
        f"{plan.clients * plan.open_positions:,} open positions, {plan.clients:,} clients)"
    )
    started = time.perf_counter()
    if backend == "postgres":
        assert db.pg_dsn is not None
        timings = await seed_bulk.seed_postgres(db.pg_dsn, plan)
    else:
        assert db.sqlite_path is not None
        timings = await asyncio.to_thread(seed_bulk.seed_sqlite, db.sqlite_path, plan)
    seed_s = time.perf_counter() - started
    log(f"{backend}: history written in {seed_s:.1f} s")
    history = await run.start_server(db, "history")
    history_endpoint = run.endpoint(history)
    await seed_api.platform(history_endpoint)
    await _verify_history(history_endpoint, plan, base_open=0)

    empty_db = await run.factory.create(backend, "empty")
    run_cli(["migrate"], server_env(empty_db.url))
    empty = await run.start_server(empty_db, "empty")
    empty_endpoint = run.endpoint(empty)
    await seed_api.platform(empty_endpoint)
    empty_clients = seed_api.client_ids("e", s.clients)
    await seed_api.clients(empty_endpoint, empty_clients, open_every=1)

    log(f"{backend}: checkSignal, history database against an empty one, alternating rounds")
    history_clients = [plan.client_id(n) for n in range(plan.clients)]
    on_history = workloads.check_signal(history_endpoint, "hist", history_clients, release=True)
    on_empty = workloads.check_signal(empty_endpoint, "empty", empty_clients, release=True)
    floor_history, floor_empty = await _interleaved(
        run,
        [(history, workloads.floor(history_endpoint)), (empty, workloads.floor(empty_endpoint))],
    )
    lat_history, lat_empty = await _interleaved(run, [(history, on_history), (empty, on_empty)])
    rss = history.rss_mb()
    served = await history.requests_served()
    run.stop_servers()
    ratio = lat_history.p50_ms / lat_empty.p50_ms
    note = (
        f"{plan.clients * plan.closed:,} closed, {plan.clients * plan.open_positions:,} open, "
        f"{plan.clients:,} clients; empty DB p50 {lat_empty.p50_ms:.2f} ms; "
        f"{on_history.marked}/{on_history.answers} passed; floor p50 "
        f"{floor_history.p50_ms:.2f} / {floor_empty.p50_ms:.2f} ms"
    )
    note = _notes(note, on_history.error_note(), on_empty.error_note())
    run.rows.append(
        Row(
            backend,
            "history: checkSignal p50",
            lat_history.p50_ms,
            "ms",
            ratio,
            target="≤ 1.2 × p50 on empty DB",
            met=at_most(ratio, 1.2),
            note=note,
        )
    )
    run.rows.append(
        Row(
            backend,
            "history: server RSS",
            rss,
            "MB",
            target="≤ 250 MB",
            met=rss <= 250,
            note="after the history checks; " + _memory_note(history, served, plan.clients),
        )
    )
    run.raw.setdefault(backend, {})["history"] = {
        "plan": asdict(plan),
        "seed_seconds": seed_s,
        "seed_timings": timings,
        "floor": {"history": asdict(floor_history), "empty": asdict(floor_empty)},
        "checkSignal": {"history": asdict(lat_history), "empty": asdict(lat_empty)},
        "rss_mb": rss,
    }


async def fanout_phase(run: Run, backend: str) -> None:
    """Fresh database and server; the fan-out rows."""
    s = run.sizes
    db = await run.factory.create(backend, "fanout")
    run_cli(["migrate"], server_env(db.url))
    plan = seed_bulk.HistoryPlan(clients=s.fanout_large, closed=0, open_positions=0, prefix="f")
    log(f"{backend}: fan-out: writing {plan.clients:,} funded clients")
    if backend == "postgres":
        assert db.pg_dsn is not None
        await seed_bulk.seed_postgres(db.pg_dsn, plan)
    else:
        assert db.sqlite_path is not None
        await asyncio.to_thread(seed_bulk.seed_sqlite, db.sqlite_path, plan)
    server = await run.start_server(db, "fanout")
    rows, raw = await fanout.measure(
        backend,
        server,
        run.endpoint(server),
        [plan.client_id(n) for n in range(plan.clients)],
        small=s.fanout_small,
        repeats=s.fanout_repeats,
        log=log,
    )
    run.rows.extend(rows)
    run.raw.setdefault(backend, {})["fanout"] = raw


def snapshot_job_available(env: dict[str, str]) -> bool:
    """Ask the CLI which jobs it knows, without running one."""
    try:
        done = subprocess.run(
            [*riskgate_command(), "run-job", "bench-probe-no-such-job"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "snapshots" in (done.stdout + done.stderr).split("jobs:", 1)[-1]


async def snapshot_phase(run: Run) -> None:
    target = "≤ 30 s, set-based"
    clients = run.sizes.snapshot_clients
    figure = f"snapshots job, {clients:,} active clients"
    db = await run.factory.create("postgres", "snapshots")
    env = server_env(db.url)
    if not snapshot_job_available(env):
        run.rows.append(
            Row("postgres", figure, None, "s", target=target, note="n/a (job not built)")
        )
        return
    run_cli(["migrate"], env)
    plan = seed_bulk.HistoryPlan(clients=clients, closed=0, open_positions=1, prefix="s")
    log(f"postgres: writing {clients:,} active clients")
    assert db.pg_dsn is not None
    await seed_bulk.seed_postgres(db.pg_dsn, plan)
    log("postgres: riskgate run-job snapshots")
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *riskgate_command(),
        "run-job",
        "snapshots",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=run.cpu.pin_server,
    )
    output, _ = await process.communicate()
    elapsed = time.perf_counter() - started
    text = output.decode(errors="replace").strip()
    if process.returncode != 0:
        run.rows.append(
            Row(
                "postgres",
                figure,
                None,
                "s",
                target=target,
                note=f"failed (exit {process.returncode})",
            )
        )
        run.raw["snapshots"] = {"output": text[-2000:]}
        return
    written = await _count_snapshots(db)
    run.rows.append(
        Row(
            "postgres",
            figure,
            elapsed,
            "s",
            target=target,
            met=elapsed <= 30,
            note=f"wall time of the command; {written:,} snapshots written",
        )
    )
    run.raw["snapshots"] = {"seconds": elapsed, "written": written, "output": text[-2000:]}


async def _count_snapshots(db: BenchDatabase) -> int:
    assert db.pg_dsn is not None
    conn = await asyncpg.connect(db.pg_dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM exposure_snapshots"))
    finally:
        await conn.close()


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False, timeout=10
        ).stdout.strip()
    except OSError:
        return ""


def _mint(role: str, sub: str) -> str:
    env = server_env("sqlite+aiosqlite:///:memory:")
    return run_cli(["token", "--role", role, "--sub", sub, "--ttl", "14400"], env).strip()


async def _guarded(run: Run, backend: str, phase: str, work: Awaitable[Any]) -> Any:
    """Run one phase; a failure is reported as a row and the run goes on."""
    try:
        return await work
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise
    except Exception as error:
        log(f"{backend}: {phase} failed: {type(error).__name__}: {error}")
        for server in run.servers:
            tail = server.log_tail(15)
            if tail and not server.alive():
                print(tail)
        run.rows.append(
            Row(backend, f"{phase} phase", None, "", note="failed", details={"error": str(error)})
        )
        run.raw.setdefault("failures", []).append(f"{backend} {phase}: {error!r}")
        return None
    finally:
        run.stop_servers()


async def amain(options: Options) -> int:
    cpu = CpuPlan.detect()
    cpu.pin_client()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{stamp.lower()}_{os.getpid()}"
    factory = DatabaseFactory(run_dir, tag)
    tokens = Tokens(_mint("service", "bench"), _mint("admin", "bench-admin"))
    run = Run(options, run_dir, cpu, factory, tokens)
    backends = list(options.backends)
    if "postgres" in backends and not await postgres_reachable():
        log("PostgreSQL is not reachable: its figures are skipped")
        backends.remove("postgres")
        run.rows.append(Row("postgres", "all figures", None, "", note="n/a (unreachable)"))
    load_start = load_average()
    log(
        f"{'quick' if options.quick else 'full'} run; {cpu.describe()}; "
        f"load average {load_start:.2f}; results in {run_dir}/"
    )
    started = time.perf_counter()
    only = options.only
    try:
        for backend in backends:
            if only & {"floor", *MAIN_FIGURES}:
                await _guarded(run, backend, "main", main_phase(run, backend))
            if "history" in only:
                await _guarded(run, backend, "history", history_phase(run, backend))
            if "fanout" in only:
                await _guarded(run, backend, "fanout", fanout_phase(run, backend))
            if "scaling" in only:
                from bench.scaling import scaling_phase

                await _guarded(run, backend, "scaling", scaling_phase(run, backend))
        if "snapshots" in only and "postgres" in backends:
            await _guarded(run, "postgres", "snapshots", snapshot_phase(run))
    finally:
        run.stop_servers()
        if not options.keep:
            await factory.drop_all()
    elapsed = time.perf_counter() - started
    meta = {
        "started_at": stamp,
        "elapsed_seconds": elapsed,
        "mode": "quick" if options.quick else "full",
        "sizes": asdict(options.sizes),
        "backends": backends,
        "machine": {
            "load_average_start": load_start,
            "load_average_end": load_average(),
            "cpus": os.cpu_count(),
            "pinning": cpu.describe(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "commit": _git("rev-parse", "HEAD"),
        "worktree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "raw": run.raw,
    }
    json_path = RESULTS / f"bench-{stamp}.json"
    write_json(json_path, meta, run.rows)
    print()
    print(render(run.rows))
    print(f"\n{elapsed:.0f} s; JSON: {json_path}", flush=True)
    for note in run.log_notes:
        print(f"server log: {note}")
    busy = [r for r in run.rows if "other processes took" in r.note]
    if busy:
        print(
            f"note: other processes used the server's CPU during {len(busy)} throughput "
            "figure(s); those figures understate the server (see notes)."
        )
    return 0


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    # Also when started with SIGINT ignored (a background job of a script): stop and clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return asyncio.run(amain(options))
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, benchmark databases dropped", file=sys.stderr)
        return 130
