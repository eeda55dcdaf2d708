"""Exposure history: hourly snapshot buckets and how long snapshots are kept."""

from __future__ import annotations

from datetime import datetime, timedelta

SNAPSHOT_RETENTION = timedelta(days=90)


def hour_bucket(at: datetime) -> datetime:
    """The start of the hour `at` falls in: the key of the hourly job's snapshots."""
    return at.replace(minute=0, second=0, microsecond=0)


def snapshot_cutoff(now: datetime) -> datetime:
    """Snapshots taken strictly before this instant are older than the retention period."""
    return now - SNAPSHOT_RETENTION
