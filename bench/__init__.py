"""The SPEC §8 benchmark: `python -m bench` (or `make bench`, `make bench-quick`)."""
