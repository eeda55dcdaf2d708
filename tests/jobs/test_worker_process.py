"""`riskgate worker` as a process: it rides out a Redis outage and serves jobs after it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from arq.connections import create_pool

from db.migrations import upgrade_to_head
from jobs.worker import deserialize, redis_settings, serialize
from tests.support.databases import unavailable
from tests.support.servers import RedisProcess
from tests.support.settings import TEST_SECRET

RISKGATE = str(Path(sys.executable).with_name("riskgate"))

pytestmark = pytest.mark.redis


def _spawn_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [RISKGATE, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent
        )


async def test_the_worker_survives_a_redis_outage(tmp_path: Path) -> None:
    redis = RedisProcess(tmp_path)
    try:
        await redis.start()
    except (OSError, RuntimeError) as error:
        unavailable("Redis (redis-server)", error)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}"
    await upgrade_to_head(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGATE_")} | {
        "RISKGATE_DATABASE_URL": database_url,
        "RISKGATE_REDIS_URL": redis.url,
        "RISKGATE_JWT_SECRET": TEST_SECRET,
    }
    log = tmp_path / "worker.log"
    worker = _spawn_worker(env, log)
    try:
        await asyncio.sleep(2)
        assert worker.poll() is None, log.read_text()
        redis.stop()
        await asyncio.sleep(4)
        assert worker.poll() is None, log.read_text()  # still running without Redis
        await redis.start()
        pool = await create_pool(
            redis_settings(redis.url),
            job_serializer=serialize,
            job_deserializer=deserialize,
            default_queue_name="riskgate:jobs",
        )
        try:
            job = await pool.enqueue_job("purge-reservations")
            assert job is not None
            assert await job.result(timeout=30) == {"purged": 0, "seconds": pytest.approx(0, abs=5)}
        finally:
            await pool.aclose()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
        redis.stop()
