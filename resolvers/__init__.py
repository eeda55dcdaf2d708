"""Use cases: authorize the caller, load, apply domain rules, persist, publish."""
