"""Optional: sample the server with py-spy during load and summarize where time goes."""

from __future__ import annotations

import asyncio
import functools
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    if local.exists():
        return str(local)
    return shutil.which("py-spy")


class Sampler:
    """`py-spy record` in raw (collapsed-stack) format, attached to a running process,
    sampling whichever thread holds the GIL (so waits and the idle loop are left out)."""

    def __init__(self, pid: int, seconds: float, output: Path, rate: int = 250) -> None:
        self.pid = pid
        self.seconds = seconds
        self.output = output
        self.rate = rate
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        binary = py_spy()
        if binary is None:
            raise RuntimeError("py-spy is not installed (pip install py-spy)")
        self._process = await asyncio.create_subprocess_exec(
            binary,
            "record",
            "--pid",
            str(self.pid),
            "--duration",
            str(max(1, round(self.seconds))),
            "--rate",
            str(self.rate),
            "--format",
            "raw",
            "--nonblocking",
            # Only the thread holding the GIL: Python work, not threads parked in waits.
            "--gil",
            "--output",
            str(self.output),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def wait(self) -> None:
        assert self._process is not None
        _, err = await self._process.communicate()
        if self._process.returncode != 0:
            raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")


@functools.cache
def _is_project_file(path: str) -> bool:
    return (Path.cwd() / path).is_file()


def _short(frame: str) -> tuple[str, bool]:
    """A readable frame name, and whether it is the project's own code (py-spy already
    shortens paths to the package; the project's files resolve from the repository root)."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), False
    path = match["file"]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})", _is_project_file(path)


def summarize(raw: Path, top: int = 15) -> str:
    """Top functions by own samples and by samples with the function on the stack."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        named = [_short(f) for f in stack.split(";") if f]
        if not named:
            continue
        frames = [name for name, _ in named]
        total += count
        own[frames[-1]] += count
        # The CLI and app entry frames are on every stack and say nothing.
        for name in {n for n, is_own in named if is_own and not n.startswith("<module>")}:
            inclusive[name] += count
        leaf = frames[-1]
        package = leaf.rsplit("(", 1)[-1].split("/", 1)[0].rstrip(")")
        modules[package] += count
    if total == 0:
        return "  (no samples)"

    def table(title: str, counter: Counter[str]) -> list[str]:
        rows = [f"  {title}"]
        for name, count in counter.most_common(top):
            rows.append(f"    {count / total * 100:5.1f}%  {name}")
        return rows

    lines = [f"  {total} samples"]
    lines += table("own time (leaf frame):", own)
    lines += table("own time by package or top-level folder:", modules)
    lines += table("project functions on the stack (inclusive):", inclusive)
    return "\n".join(lines)
