"""Exposure history: hourly snapshot buckets and how long snapshots are kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.errors import BadInput

SNAPSHOT_RETENTION = timedelta(days=90)


def validate_window(since: datetime | None, until: datetime | None) -> None:
    """A history window must not be empty or reversed."""
    if since is not None and until is not None and since >= until:
        raise BadInput("since must be before until", field="since")


def hour_bucket(at: datetime) -> datetime:
    """The start of the hour `at` falls in: the key of the hourly job's snapshots."""
    return at.replace(minute=0, second=0, microsecond=0)


def snapshot_cutoff(now: datetime) -> datetime:
    """Snapshots taken strictly before this instant are older than the retention period."""
    return now - SNAPSHOT_RETENTION
