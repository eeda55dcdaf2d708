"""Run a real `riskgate serve` process pinned to its own core, and watch it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.http import Connection

JWT_SECRET = "bench-secret-0123456789abcdef-0123456789abcdef"


@dataclass(frozen=True, slots=True)
class CpuPlan:
    """Which core the server gets and which the load client keeps (None: not pinned)."""

    server: int | None
    client: int | None

    @classmethod
    def detect(cls) -> CpuPlan:
        if not hasattr(os, "sched_getaffinity"):
            return cls(None, None)
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return cls(None, None)
        return cls(cpus[0], cpus[1])

    def pin_server(self) -> None:
        """For a child process about to run server code (a preexec_fn)."""
        if self.server is not None:
            os.sched_setaffinity(0, {self.server})

    def pin_client(self) -> None:
        if self.client is not None:
            os.sched_setaffinity(0, {self.client})

    def describe(self) -> str:
        if self.server is None:
            return "not pinned (fewer than 2 usable CPUs)"
        return f"server on CPU {self.server}, load client on CPU {self.client}"


def riskgate_command() -> list[str]:
    script = Path(sys.executable).with_name("riskgate")
    if script.exists():
        return [str(script)]
    found = shutil.which("riskgate")
    return [found] if found else [sys.executable, "-m", "riskgate.cli"]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGATE_")}
    env.update(
        RISKGATE_DATABASE_URL=database_url,
        RISKGATE_JWT_SECRET=JWT_SECRET,
        RISKGATE_LOG_LEVEL="WARNING",
        RISKGATE_ENV="development",
        RISKGATE_TRADING_DAY_TIMEZONE="UTC",
        RISKGATE_TRADING_DAY_START_HOUR="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], *, timeout: float = 600) -> str:
    """Run a `riskgate` subcommand to completion; its stdout, or an error with its output."""
    done = subprocess.run(
        [*riskgate_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"riskgate {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_busy_seconds(cpu: int) -> float:
    """Non-idle time of one CPU since boot (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as handle:
        for line in handle:
            if line.startswith(f"cpu{cpu} "):
                ticks = [int(v) for v in line.split()[1:]]
                busy = sum(ticks[:3]) + sum(ticks[5:8])
                return busy / os.sysconf("SC_CLK_TCK")
    raise RuntimeError(f"no cpu{cpu} in /proc/stat")


def load_average() -> float:
    return os.getloadavg()[0]


def _proc_stat_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One `riskgate serve` process on a loopback port; stopped by `stop` (idempotent)."""

    host = "127.0.0.1"

    def __init__(self, env: dict[str, str], cpu: int | None, log_path: Path) -> None:
        self.env = env
        self.cpu = cpu
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.rss_at_start_mb = 0.0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _pin(self) -> None:
        if self.cpu is not None:
            os.sched_setaffinity(0, {self.cpu})

    def _spawn(self) -> subprocess.Popen[bytes]:
        args = [*riskgate_command(), "serve", "--host", self.host, "--port", str(self.port)]
        args.append("--no-migrate")
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                args,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=self._pin,
                start_new_session=True,
            )

    async def start(self, ready_within: float = 60.0) -> None:
        self.process = self._spawn()
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.log_tail()}")
            if await self._healthy():
                self.rss_at_start_mb = self.rss_mb()
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"server not ready after {ready_within:.0f} s:\n{self.log_tail()}")

    async def _healthy(self) -> bool:
        request = f"GET /healthz HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        try:
            conn = await Connection.open(self.host, self.port)
        except OSError:
            return False
        try:
            status, _ = await conn.send(request)
            return status == 200
        except (OSError, asyncio.IncompleteReadError):
            return False
        finally:
            await conn.close()

    async def requests_served(self) -> int | None:
        """HTTP requests the server counted (from /metrics), None if it does not say."""
        request = f"GET /metrics HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        conn = await Connection.open(self.host, self.port)
        try:
            status, body = await conn.send(request)
        finally:
            await conn.close()
        if status != 200:
            return None
        total = 0
        for line in body.decode(errors="replace").splitlines():
            if line.startswith("riskgate_http_requests_total"):
                total += int(float(line.rsplit(" ", 1)[1]))
        return total

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_problems(self) -> list[str]:
        """Warning and error lines the server logged (tracebacks folded into their line)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if " WARNING " in line or " ERROR " in line]

    def rss_mb(self) -> float:
        with open(f"/proc/{self.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS for the server")

    def cpu_seconds(self) -> float:
        return _proc_stat_cpu(self.pid)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
