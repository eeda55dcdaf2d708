"""The phases of a run: the main figures, history, fan-out and the snapshot job."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from dataclasses import asdict
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench import fanout, seed_api, seed_bulk, workloads
from bench.databases import BenchDatabase
from bench.http import Connection
from bench.measure import (
    LatencyResult,
    Workload,
    latency,
)
from bench.report import Row, at_most
from bench.run import Figures, Run, _memory_note, _notes, log
from bench.server import (
    Server,
    riskgate_command,
    run_cli,
    server_env,
)


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
