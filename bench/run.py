"""One benchmark run: its log, tokens, servers and the figures it measures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import profiling, workloads
from bench.databases import BenchDatabase, DatabaseFactory
from bench.measure import (
    LatencyResult,
    SequenceSource,
    ThroughputResult,
    Workload,
    latency,
    throughput,
)
from bench.options import Options, Sizes
from bench.report import Row, at_least, at_most
from bench.server import (
    CpuPlan,
    Server,
    cpu_busy_seconds,
    server_env,
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
