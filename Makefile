# Two set-up commands (see README): `make demo` and `make test`.
# Each creates .venv with python3 and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: redis-server demo test lint typecheck unit dist bench bench-resilience bench-async compat clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m nilecare_clients demo

lint: $(STAMP)
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP) redis-server
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The shared cache tier's tests start a real redis-server on loopback: install it when missing.
redis-server:
	@command -v redis-server >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server; }

test: lint typecheck unit

dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# Benchmarks are not tests: they measure, print a table and write bench/results/.
# `bench` installs nginx (apt-get) and matplotlib when missing; see bench/results/latest.md.
bench: $(STAMP) redis-server
	$(BIN)/python bench/run.py
	$(BIN)/python bench/redis_tier.py

bench-resilience: $(STAMP)
	$(BIN)/python bench/resilience.py

bench-async: $(STAMP)
	$(BIN)/python bench/async_transports.py

# Proves the clients against the original Clinical and Facility services (not part of `test`):
# needs NILECARE_SOURCE (a git directory of mohfadul/nilecare); without it, says so and exits 0.
compat: $(STAMP)
	PYTHON=$(BIN)/python tests/compat/run_compat.sh

clean:
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache .pytest_cache
