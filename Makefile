# Kopilka: `make run` (development server), `make test` (lint + SQLite + PostgreSQL), `make bench`.
# Needs only Python >= 3.11, make, git and (for test/bench) the PostgreSQL server binaries.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-pyproject
PYTEST_ARGS ?=
ADDR ?= 127.0.0.1:8000

.PHONY: run test lint format bench venv clean-venv

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed (the stamp is newer otherwise).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/kopilka migrate --noinput
	$(BIN)/kopilka demo --if-absent
	$(BIN)/kopilka runserver $(ADDR)

test: $(STAMP)
	$(BIN)/python tools/run_tests.py -- $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests tools bench
	$(BIN)/ruff format --check src tests tools bench

format: $(STAMP)
	$(BIN)/ruff check --fix src tests tools bench
	$(BIN)/ruff format src tests tools bench

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

clean-venv:
	rm -rf $(VENV)
