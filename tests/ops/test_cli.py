"""The command line: help and defaults, --version, run-job's list, token subjects the server
accepts, a busy port refused before anything else happens, `make run PORT=...`."""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from domain.access import Caller
from domain.values import Role
from jobs.tasks import JOBS
from riskgate.auth import TokenVerifier
from riskgate.cli import _parser, main
from tests.support.settings import TEST_SECRET, make_settings

ROOT = Path(__file__).resolve().parents[2]
RISKGATE = Path(sys.executable).with_name("riskgate")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_option_has_help_and_shows_its_default() -> None:
    parser = _parser()
    commands = _subcommands(parser)
    assert set(commands) == {"serve", "migrate", "demo", "worker", "run-job", "token"}
    for name, command in commands.items():
        text = command.format_help()
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.dest} has no help"
            if action.option_strings and not action.required:
                assert f"(default: {action.default})" in text, f"{name} {action.dest}"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"riskgate \S+\n", capsys.readouterr().out)


def test_run_job_lists_its_jobs_and_refuses_others(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run-job", "--help"])
    assert exit_.value.code == 0
    shown = re.sub(r"-\s+", "-", capsys.readouterr().out)  # help wraps after hyphens
    with pytest.raises(SystemExit) as exit_:
        main(["run-job", "no-such-job"])
    assert exit_.value.code == 2
    refused = capsys.readouterr().err
    for job in JOBS:
        assert job in shown
        assert repr(job) in refused


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the source tree
    monkeypatch.setenv("RISKGATE_JWT_SECRET", TEST_SECRET)


@pytest.mark.parametrize(
    ("role", "sub"),
    [("client", "alice"), ("client", "desk.7@acme:eu-1"), ("service", "approval service")],
)
def test_token_is_one_the_server_accepts(
    secret: None, capsys: pytest.CaptureFixture[str], role: str, sub: str
) -> None:
    assert main(["token", "--role", role, "--sub", sub, "--ttl", "60"]) == 0
    token = capsys.readouterr().out.strip()
    verifier = TokenVerifier(make_settings("sqlite+aiosqlite://"))
    caller, _ = verifier.verify(token)
    assert caller == Caller(sub, Role(role))


@pytest.mark.parametrize(
    ("role", "sub", "ttl"),
    [
        ("client", "bad id", "60"),
        ("client", "-starts-with-dash", "60"),
        ("client", "x" * 65, "60"),
        ("admin", "", "60"),
        ("admin", "x" * 129, "60"),
        ("admin", "ops", "0"),
    ],
)
def test_token_refuses_what_the_server_would_refuse(
    secret: None, capsys: pytest.CaptureFixture[str], role: str, sub: str, ttl: str
) -> None:
    assert main(["token", "--role", role, f"--sub={sub}", "--ttl", ttl]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith("riskgate: ") and out.err.count("\n") == 1


def test_busy_port_is_refused_before_seeding_or_tokens(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGATE_")}
    env["RISKGATE_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [RISKGATE, "serve", "--demo", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
    assert done.returncode == 2
    assert done.stdout == ""  # no "Demo data seeded", no tokens
    assert done.stderr == (
        f"riskgate: port {port} on 127.0.0.1 is already in use; stop what listens there or "
        "pick another port with --port (make run PORT=...)\n"
    )
    assert not database.exists()


def test_make_run_takes_port_and_host() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")}
    shown = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "HOST=0.0.0.0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    ).stdout
    assert "riskgate serve --demo --host 0.0.0.0 --port 8123" in shown
    default = subprocess.run(
        ["make", "-n", "run"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    ).stdout
    assert "riskgate serve --demo --host 127.0.0.1 --port 8000" in default
