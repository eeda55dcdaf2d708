"""Pure risk rules and values: no I/O, no framework imports."""
