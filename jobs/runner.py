"""`riskgate run-job NAME`: one job, once, in this process, without Redis for the job."""

from __future__ import annotations

import json
import logging

from jobs.tasks import JOBS, run_job
from jobs.worker import BusFactory, JobConfig, open_deps

log = logging.getLogger("riskgate.jobs")


async def run_job_once(config: JobConfig, name: str, open_bus: BusFactory) -> int:
    """Run the named job; prints its result as JSON. Exit code 0 on success, 1 on failure,
    2 for an unknown name."""
    if name not in JOBS:
        print(f"unknown job {name!r}; jobs: {', '.join(JOBS)}")
        return 2
    publisher = open_bus()
    await publisher.start()
    deps, db = open_deps(config, publisher)
    try:
        result = await run_job(name, deps)
    except Exception:
        return 1
    finally:
        await publisher.close()
        await db.dispose()
    print(json.dumps({"job": name, **result}, default=str))
    return 0
