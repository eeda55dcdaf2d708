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

import asyncio
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bench.databases import DatabaseFactory, postgres_reachable
from bench.options import MAIN_FIGURES, RESULTS, Options, parse_args
from bench.phases import fanout_phase, history_phase, main_phase, snapshot_phase
from bench.report import Row, render, write_json
from bench.run import Run, Tokens, log
from bench.server import (
    CpuPlan,
    load_average,
    run_cli,
    server_env,
)


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
