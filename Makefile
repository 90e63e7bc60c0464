# The two commands of the README, plus the checks CI runs. Each target installs what it needs
# into ./.venv first (once, and again whenever pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test check bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Start the server on SQLite (./ringlet.db) with the demo account; prints how to log in.
demo: $(VENV)/.installed
	$(BIN)/ringlet serve --demo

tests/sdk/js/node_modules/.installed: tests/sdk/js/package-lock.json
	npm ci --prefix tests/sdk/js --no-audit --no-fund
	touch $@

# The whole test suite, end to end, on SQLite and PostgreSQL (127.0.0.1:5432, database test),
# with RingCentral's official Python and JavaScript SDKs as clients.
test: $(VENV)/.installed tests/sdk/js/node_modules/.installed
	$(BIN)/python -m pytest

# Linter and type checker.
check: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python -m bench
