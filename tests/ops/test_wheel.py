"""The built wheel, installed into a fresh virtual environment, migrates a new database and
serves to a ready /readyz: migrations and GraphiQL's files ship inside the package."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Left out of the copy the wheel is built from: environments, caches, local databases.
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "bench-results",
    "*.db",
    "*.db-*",
    ".env",
)


def _run(
    *args: str | Path,
    timeout: float = 300,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; the libraries it needs come from this
    environment's site-packages through a .pth file, so nothing is downloaded for them."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", source)
    (wheel,) = (work / "dist").glob("riskgate-*.whl")
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one (pip --python), which needs no pip.
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel)
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    libraries = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(site) / "riskgate_test_libraries.pth").write_text("\n".join(sorted(libraries)) + "\n")
    return venv


def _env(database: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("RISKGATE_") and k != "PYTHONPATH"
    }
    env["RISKGATE_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    env["RISKGATE_LOG_FORMAT"] = "json"
    return env


@pytest.fixture
def server(installed: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    database = tmp_path / "fresh.db"
    migrated = _run(installed / "bin" / "riskgate", "migrate", env=_env(database), cwd=tmp_path)
    assert re.search(r"database migrated from empty to \w+", migrated), migrated
    again = _run(installed / "bin" / "riskgate", "migrate", env=_env(database), cwd=tmp_path)
    assert "newest revision" in again
    process = subprocess.Popen(
        [installed / "bin" / "riskgate", "serve", "--no-migrate", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(database),
        cwd=tmp_path,
    )
    try:
        url = ""
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"on (http://[\d.]+:\d+)/graphql", line)
            if found:
                url = found.group(1)
                break
        assert url, "the server never said where it listens"
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_the_installed_package_is_the_wheel(installed: Path) -> None:
    where = _run(
        installed / "bin" / "python",
        "-c",
        "import db.migrations, riskgate.assets; "
        "print(db.migrations.__file__); print(riskgate.assets.GRAPHIQL_DIR)",
        cwd=installed,  # not the source tree, which `python -c` would put first on the path
        env=_env(installed / "unused.db"),
    )
    for path in where.split():
        assert path.startswith(str(installed)), where
    version = _run(installed / "bin" / "riskgate", "--version", cwd=installed)
    assert re.fullmatch(r"riskgate \d+\.\d+\.\d+\S*\n", version), version


def test_wheel_migrates_and_serves_ready(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = server
    deadline = time.monotonic() + 60  # a bound on waiting, not a speed requirement
    status = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            status = httpx.get(f"{url}/readyz", headers={"X-Request-ID": "wheel-1"}).status_code
        except httpx.TransportError:
            status = 0
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200, "the installed server never became ready"
    page = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
    assert "./graphiql/graphiql.min.js" in page.text
    assert httpx.get(f"{url}/graphiql/graphiql.min.js").status_code == 200
    assert "riskgate_http_requests_total" in httpx.get(f"{url}/metrics").text
