"""Latency at one connection and throughput at many, with the load client's own cost."""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.http import Connection, HttpError

# (worker, sequence number) -> one pre-encoded request
RequestFactory = Callable[[int, int], bytes]
# (worker, sequence number) -> an untimed request sent before the timed one, or None
Prepare = Callable[[int, int], bytes | None]
# (worker, sequence number, response body) -> an untimed follow-up request, or None
FollowUp = Callable[[int, int, bytes], bytes | None]


# Error answers are counted and left out of the figures; past this share the figure is void.
MAX_ERROR_SHARE = 0.02


@dataclass
class Workload:
    """What one figure sends, and a tally of how the server answered."""

    name: str
    request: RequestFactory
    prepare: Prepare | None = None
    follow_up: FollowUp | None = None
    marker: bytes | None = None  # counted in each answer (e.g. passing checks)
    answers: int = 0
    marked: int = 0
    errors: int = 0
    first_error: str = ""

    def check(self, status: int, body: bytes, *, step: str = "") -> bool:
        """True for a good answer; an error answer is tallied (too many end the figure)."""
        if status == 200 and b'"errors"' not in body:
            if not step:
                self.answers += 1
                if self.marker is not None and self.marker in body:
                    self.marked += 1
            return True
        self.errors += 1
        if not self.first_error:
            self.first_error = (
                f"{step or 'request'}: HTTP {status}: {body[:300].decode(errors='replace')}"
            )
        if self.errors > max(5, MAX_ERROR_SHARE * (self.answers + self.errors)):
            raise HttpError(f"{self.name}: {self.errors} error answers; first {self.first_error}")
        return False

    def error_note(self) -> str:
        if not self.errors:
            return ""
        return f"{self.errors} error answer(s) left out, first: {self.first_error[:160]}"


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class LatencyResult:
    p50_ms: float
    p99_ms: float
    repeats: list[tuple[float, float]] = field(default_factory=list)
    samples: int = 0


@dataclass
class ThroughputResult:
    rps: float
    p50_ms: float
    client_cpu_percent: float
    server_cpu_percent: float
    # Time other processes took on the server's CPU during the windows (None: not pinned).
    foreign_cpu_percent: float | None = None
    repeats: list[float] = field(default_factory=list)
    # Requests completed inside the windows, and a probe (e.g. server RSS) read at the start
    # of the first window and the end of the last, after the warm-up.
    window_requests: int = 0
    probe_start: float | None = None
    probe_end: float | None = None


async def _untimed(conn: Connection, workload: Workload, request: bytes | None, step: str) -> bool:
    if request is None:
        return True
    status, reply = await conn.send(request)
    return workload.check(status, reply, step=step)


async def _one(conn: Connection, workload: Workload, worker: int, seq: int) -> float | None:
    """Send one request; its latency in ms, None for an error answer (prepare and follow-up
    steps are not timed)."""
    if workload.prepare is not None and not await _untimed(
        conn, workload, workload.prepare(worker, seq), "untimed step before"
    ):
        return None
    request = workload.request(worker, seq)
    started = time.perf_counter()
    status, body = await conn.send(request)
    elapsed = (time.perf_counter() - started) * 1000
    ok = workload.check(status, body)
    if ok and workload.follow_up is not None:
        await _untimed(conn, workload, workload.follow_up(worker, seq, body), "untimed step after")
    return elapsed if ok else None


class SequenceSource:
    """Sequence numbers that never repeat within a run, so every id is fresh."""

    def __init__(self) -> None:
        self._next: dict[int, int] = {}

    def take(self, worker: int) -> int:
        value = self._next.get(worker, 0)
        self._next[worker] = value + 1
        return value


async def latency(
    host: str,
    port: int,
    workload: Workload,
    seqs: SequenceSource,
    *,
    warmup: int,
    count: int,
    repeats: int,
) -> LatencyResult:
    """Sequential requests on one keep-alive connection; medians of per-repeat p50 and p99."""
    conn = await Connection.open(host, port)
    try:
        for _ in range(warmup):
            await _one(conn, workload, 0, seqs.take(0))
        per_repeat: list[tuple[float, float]] = []
        for _ in range(repeats):
            values: list[float] = []
            for _ in range(count):
                elapsed = await _one(conn, workload, 0, seqs.take(0))
                if elapsed is not None:
                    values.append(elapsed)
            values.sort()
            per_repeat.append((percentile(values, 0.50), percentile(values, 0.99)))
    finally:
        await conn.close()
    return LatencyResult(
        p50_ms=statistics.median(p50 for p50, _ in per_repeat),
        p99_ms=statistics.median(p99 for _, p99 in per_repeat),
        repeats=per_repeat,
        samples=count * repeats,
    )


async def throughput(
    host: str,
    port: int,
    workload: Workload,
    seqs: SequenceSource,
    server_cpu: Callable[[], float],
    *,
    server_core_busy: Callable[[], float] | None = None,
    probe: Callable[[], float] | None = None,
    connections: int,
    warmup_s: float,
    duration_s: float,
    repeats: int,
) -> ThroughputResult:
    """`connections` workers, each with its own persistent connection and one request in
    flight; completions counted over a window after a warm-up, once per repeat."""
    conns = [await Connection.open(host, port) for _ in range(connections)]
    done = [0] * connections
    window: list[float] = []
    recording = False
    stop = False

    async def worker(index: int) -> None:
        conn = conns[index]
        while not stop:
            elapsed = await _one(conn, workload, index + 1, seqs.take(index + 1))
            if elapsed is None:
                continue
            done[index] += 1
            if recording:
                window.append(elapsed)

    tasks = [asyncio.create_task(worker(i)) for i in range(connections)]
    rates: list[float] = []
    p50s: list[float] = []
    client_cpu: list[float] = []
    server_cpus: list[float] = []
    foreign: list[float] = []
    core_busy = server_core_busy or (lambda: 0.0)
    in_windows = 0
    probe_start = probe_end = None
    try:
        await _sleep_watching(tasks, warmup_s)
        probe_start = probe() if probe else None
        for _ in range(repeats):
            window.clear()
            recording = True
            c0, t0 = sum(done), time.perf_counter()
            u0, s0, b0 = _self_cpu(), server_cpu(), core_busy()
            await _sleep_watching(tasks, duration_s)
            c1, t1 = sum(done), time.perf_counter()
            u1, s1, b1 = _self_cpu(), server_cpu(), core_busy()
            recording = False
            in_windows += c1 - c0
            wall = t1 - t0
            rates.append((c1 - c0) / wall)
            p50s.append(percentile(sorted(window), 0.50))
            client_cpu.append((u1 - u0) / wall * 100)
            server_cpus.append((s1 - s0) / wall * 100)
            foreign.append(max(0.0, (b1 - b0) - (s1 - s0)) / wall * 100)
        probe_end = probe() if probe else None
    finally:
        stop = True
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for conn in conns:
            await conn.close()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return ThroughputResult(
        rps=statistics.median(rates),
        p50_ms=statistics.median(p50s),
        client_cpu_percent=statistics.median(client_cpu),
        server_cpu_percent=statistics.median(server_cpus),
        foreign_cpu_percent=statistics.median(foreign) if server_core_busy else None,
        repeats=rates,
        window_requests=in_windows,
        probe_start=probe_start,
        probe_end=probe_end,
    )


async def _sleep_watching(tasks: list[asyncio.Task[None]], seconds: float) -> None:
    """Sleep, but surface a worker's failure at once instead of after the window."""
    finished, _ = await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_EXCEPTION)
    for task in finished:
        task.result()


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
