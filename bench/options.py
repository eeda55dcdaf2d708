"""Command-line options and the sizes of a quick and a full run."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

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
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="The performance figures on a real server, SQLite and PostgreSQL side by side.",
    )
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
