"""The performance benchmark: `python -m bench` (or `make bench`, `make bench-quick`)."""
