"""Configuration errors: one clear line naming the setting and what it expects, no traceback,
never the value of a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskgate.settings import ConfigError, load_settings

RISKGATE = str(Path(sys.executable).with_name("riskgate"))
SECRET = "short-secret-value-xyz"  # 22 bytes: too short
PASSWORD = "pw-never-shown-42"

# (environment, the setting named, a word of what is expected, a value never echoed)
BAD_CONFIGS: dict[str, tuple[dict[str, str], str, str, str | None]] = {
    "short production secret": (
        {"RISKGATE_ENV": "production", "RISKGATE_JWT_SECRET": SECRET},
        "RISKGATE_JWT_SECRET",
        "32 bytes",
        SECRET,
    ),
    "short development secret": (
        {"RISKGATE_JWT_SECRET": SECRET},
        "RISKGATE_JWT_SECRET",
        "32 bytes",
        SECRET,
    ),
    "production without a secret": (
        {"RISKGATE_ENV": "production"},
        "RISKGATE_JWT_SECRET",
        "32 bytes",
        None,
    ),
    "postgres:// URL": (
        {"RISKGATE_DATABASE_URL": f"postgres://riskgate:{PASSWORD}@db.example/riskgate"},
        "RISKGATE_DATABASE_URL",
        "postgresql+asyncpg://",
        PASSWORD,
    ),
    "postgresql:// URL": (
        {"RISKGATE_DATABASE_URL": f"postgresql://riskgate:{PASSWORD}@db.example/riskgate"},
        "RISKGATE_DATABASE_URL",
        "postgresql+asyncpg://",
        PASSWORD,
    ),
    "psycopg URL": (
        {"RISKGATE_DATABASE_URL": f"postgresql+psycopg://u:{PASSWORD}@db.example/riskgate"},
        "RISKGATE_DATABASE_URL",
        "postgresql+asyncpg://",
        PASSWORD,
    ),
    "unknown environment": ({"RISKGATE_ENV": "staging"}, "RISKGATE_ENV", "production", None),
    "RS256 without a key": (
        {"RISKGATE_JWT_ALGORITHM": "RS256"},
        "RISKGATE_JWT_PUBLIC_KEY",
        "PEM",
        None,
    ),
    "RS256 with a bad key": (
        {"RISKGATE_JWT_ALGORITHM": "RS256", "RISKGATE_JWT_PUBLIC_KEY": f"not-a-key-{PASSWORD}"},
        "RISKGATE_JWT_PUBLIC_KEY",
        "PEM",
        PASSWORD,
    ),
    "a number that is not": (
        {"RISKGATE_RESERVATION_TTL_SECONDS": "soon"},
        "RISKGATE_RESERVATION_TTL_SECONDS",
        "integer",
        None,
    ),
    "an unknown log level": (
        {"RISKGATE_LOG_LEVEL": "chatty"},
        "RISKGATE_LOG_LEVEL",
        "INFO",
        None,
    ),
}


def clean_environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGATE_")}
    env.update(extra)
    return env


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_settings_errors_are_one_line_naming_the_setting(
    case: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env, setting, expected, secret = BAD_CONFIGS[case]
    monkeypatch.chdir(tmp_path)  # no .env file
    for name in [n for n in os.environ if n.startswith("RISKGATE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert "\n" not in message, message
    assert setting in message and expected in message, message
    if secret:
        assert secret not in message, message


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_the_cli_prints_one_line_and_exits_2(case: str, tmp_path: Path) -> None:
    env, setting, expected, secret = BAD_CONFIGS[case]
    # Database URLs used to fail deep in the migration; the rest where a token is minted.
    is_url = setting == "RISKGATE_DATABASE_URL"
    command = ["migrate"] if is_url else ["token", "--role", "admin", "--sub", "ops"]
    done = subprocess.run(
        [RISKGATE, *command],
        env=clean_environment(env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert done.stdout == "", output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, output
    assert setting in lines[0] and expected in lines[0], output
    assert "Traceback" not in output
    if secret:
        assert secret not in output, output


def test_a_good_configuration_still_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("RISKGATE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RISKGATE_ENV", "production")
    monkeypatch.setenv("RISKGATE_JWT_SECRET", "x" * 32)
    monkeypatch.setenv("RISKGATE_DATABASE_URL", "postgresql+asyncpg://u:p@db.example/riskgate")
    settings = load_settings()
    assert settings.env == "production"
    assert settings.body_timeout_seconds > 0
