"""The worker's schedule, its serializer, and `riskgate run-job` without Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from jobs.worker import WorkerSettings, deserialize, redis_settings, serialize
from tests.support.settings import TEST_SECRET

RISKGATE = str(Path(sys.executable).with_name("riskgate"))


def test_schedule_hourly_snapshots_quarter_hourly_breakers_weekly_cleanup() -> None:
    schedule = {job.name: job for job in WorkerSettings.cron_jobs}
    assert schedule["cron:snapshots"].minute == 0
    assert schedule["cron:breakers"].minute == {7, 22, 37, 52}
    weekly = schedule["cron:cleanup-snapshots"]
    assert (weekly.weekday, weekly.hour, weekly.minute) == ("sun", 3, 30)
    assert len(schedule["cron:purge-reservations"].minute) == 6
    assert all(job.unique for job in WorkerSettings.cron_jobs)
    assert {f.name for f in WorkerSettings.functions} == {
        "snapshots",
        "breakers",
        "cleanup-snapshots",
        "purge-reservations",
    }


def test_jobs_travel_as_json_not_pickle() -> None:
    job = {"t": 1, "f": "snapshots", "a": [], "k": {}, "et": 1}
    assert serialize(job).startswith(b"{")
    assert deserialize(serialize(job)) == job
    assert deserialize(serialize({"r": Decimal("1.50")})) == {"r": "1.50"}
    with pytest.raises(ValueError):
        deserialize(b"\x80\x04\x95")  # a pickle is refused, never executed


def test_redis_outages_are_retried_not_fatal() -> None:
    settings = redis_settings("redis://127.0.0.1:6379/0")
    assert settings.retry is not None and settings.retry_on_timeout
    assert settings.conn_retries >= 1000


def _run_job(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGATE_")} | {
        "RISKGATE_DATABASE_URL": database_url,
        "RISKGATE_JWT_SECRET": TEST_SECRET,
    }
    return subprocess.run(
        [RISKGATE, "run-job", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "name", ["snapshots", "breakers", "cleanup-snapshots", "purge-reservations"]
)
def test_run_job_runs_each_job_once_without_redis(clean_database: str, name: str) -> None:
    done = _run_job(clean_database, name)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["job"] == name and "seconds" in result


def test_run_job_refuses_an_unknown_name(clean_database: str) -> None:
    done = _run_job(clean_database, "compact-everything")
    assert done.returncode == 2
    assert "compact-everything" in done.stderr
    for job in ("snapshots", "breakers", "cleanup-snapshots", "purge-reservations"):
        assert job in done.stderr
