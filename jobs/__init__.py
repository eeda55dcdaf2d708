"""Periodic jobs (arq): snapshots, breaker evaluation, retention, reservation purge."""
