# riskgate: `make run` starts the service with demo data on SQLite; `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint schema bench bench-quick clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# `make run PORT=8001 HOST=0.0.0.0` serves elsewhere (set on the command line, not from the
# environment, where HOST often names the machine).
HOST = 127.0.0.1
PORT = 8000

run: $(STAMP)
	$(BIN)/riskgate serve --demo --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

# Rewrite the checked-in SDL from the code (the suite fails while they differ).
schema: $(STAMP)
	$(BIN)/python -m schema.export > schema/schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
