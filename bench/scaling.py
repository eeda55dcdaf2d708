"""The exposure-scaling figure: does reading one client's exposure stay flat as its own trade
history, and the database around it, grow?

Per backend, two databases written set-based (`seed_bulk`), each client holding one open
position at the mark:
  small DB  one client with a short history;
  large DB  the same short-history client, one client with a long history, and a population
            of other clients with histories of their own.
Both are served at once and `exposure` is measured in alternating rounds for the long-history
client and the short-history client in the large database, and the short-history client in
the small one. The ratios are the figures: long against short history in the same database,
and the short history in the large database against the small one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from bench import seed_api, seed_bulk, workloads
from bench.report import Row
from bench.server import run_cli, server_env

if TYPE_CHECKING:
    from bench.databases import BenchDatabase
    from bench.run import Run


@dataclass(frozen=True, slots=True)
class ScalingSizes:
    long_closed: int  # closed trades of the long-history client
    short_closed: int  # closed trades of the short-history client
    others: int  # other clients in the large database
    others_closed: int  # closed trades of each other client


QUICK = ScalingSizes(long_closed=20_000, short_closed=10, others=1_000, others_closed=20)
FULL = ScalingSizes(long_closed=100_000, short_closed=10, others=2_000, others_closed=100)

# No prefix starts another (seed_bulk's rule for several plans in one database).
SHORT_PREFIX, LONG_PREFIX, OTHERS_PREFIX = "short", "long", "other"


async def _bulk(db: BenchDatabase, plan: seed_bulk.HistoryPlan) -> None:
    if db.backend == "postgres":
        assert db.pg_dsn is not None
        await seed_bulk.seed_postgres(db.pg_dsn, plan)
    else:
        assert db.sqlite_path is not None
        await asyncio.to_thread(seed_bulk.seed_sqlite, db.sqlite_path, plan)


async def _database(
    run: Run, backend: str, phase: str, plans: list[seed_bulk.HistoryPlan]
) -> BenchDatabase:
    db = await run.factory.create(backend, phase)
    run_cli(["migrate"], server_env(db.url))
    for plan in plans:
        await _bulk(db, plan)
    return db


async def scaling_phase(run: Run, backend: str) -> None:
    """exposure p50 by history length and database size, in alternating rounds."""
    # bench.main imports this module when the figure is asked for; by then it is loaded.
    from bench.phases import _interleaved, _verify_history
    from bench.run import _notes, log

    sizes = QUICK if run.options.quick else FULL
    short = seed_bulk.HistoryPlan(1, sizes.short_closed, 1, prefix=SHORT_PREFIX)
    long = seed_bulk.HistoryPlan(1, sizes.long_closed, 1, prefix=LONG_PREFIX)
    others = seed_bulk.HistoryPlan(sizes.others, sizes.others_closed, 1, prefix=OTHERS_PREFIX)
    stored = long.closed + short.closed + others.clients * others.closed
    log(
        f"{backend}: exposure scaling, writing {stored:,} closed trades "
        f"({long.closed:,} for one client, {others.clients:,} others with {others.closed:,} each)"
    )
    started = time.perf_counter()
    small_db = await _database(run, backend, "scaling_small", [short])
    large_db = await _database(run, backend, "scaling_large", [others, long, short])
    seed_s = time.perf_counter() - started

    small = await run.start_server(small_db, "scaling_small")
    large = await run.start_server(large_db, "scaling_large")
    on_small, on_large = run.endpoint(small), run.endpoint(large)
    for endpoint in (on_small, on_large):
        await seed_api.platform(endpoint)
    # The bulk-written aggregates read back through the API before anything is measured.
    await _verify_history(on_small, short, base_open=0)
    await _verify_history(on_large, long, base_open=others.clients + short.clients)
    await _verify_history(on_large, others, base_open=long.clients + short.clients)

    log(f"{backend}: exposure, long against short history, alternating rounds")
    cases = [
        (large, workloads.exposure(on_large, [long.client_id(0)])),
        (large, workloads.exposure(on_large, [short.client_id(0)])),
        (small, workloads.exposure(on_small, [short.client_id(0)])),
    ]
    lat_long, lat_short, lat_small_db = await _interleaved(run, cases)
    run.stop_servers()

    errors = _notes(*(workload.error_note() for _, workload in cases))
    run.rows.append(
        Row(
            backend,
            f"exposure scaling: exposure p50, {long.closed:,} closed trades",
            lat_long.p50_ms,
            "ms",
            lat_long.p50_ms / lat_short.p50_ms,
            note=_notes(
                f"ratio to a {short.closed}-trade client in the same database "
                f"(p50 {lat_short.p50_ms:.2f} ms, p99 {lat_long.p99_ms:.2f} against "
                f"{lat_short.p99_ms:.2f} ms)",
                errors,
            ),
        )
    )
    run.rows.append(
        Row(
            backend,
            "exposure scaling: exposure p50, short history, large database",
            lat_short.p50_ms,
            "ms",
            lat_short.p50_ms / lat_small_db.p50_ms,
            note=f"ratio to the same client alone in a database (p50 {lat_small_db.p50_ms:.2f} ms);"
            f" {stored:,} closed trades, {others.clients + 2:,} clients",
        )
    )
    run.raw.setdefault(backend, {})["scaling"] = {
        "sizes": asdict(sizes),
        "seed_seconds": seed_s,
        "exposure": {
            "long_history": asdict(lat_long),
            "short_history": asdict(lat_short),
            "short_history_small_db": asdict(lat_small_db),
        },
    }
