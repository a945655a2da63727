# Two set-up commands (see README): `make demo` and `make test`.
# Each creates .venv with python3 and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Our own tools are pinned in constraints/dev.txt (make and CI only; services never see it).
DEV_CONSTRAINTS := constraints/dev.txt
# `make test-floors`: a separate venv with every dependency at its declared minimum.
FLOORS := .venv-floors
.PHONY: redis-server test-floors demo test lint typecheck unit dist bench-deps bench bench-resilience bench-async bench-import compat clean


$(STAMP): pyproject.toml $(DEV_CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(DEV_CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m nilecare_clients demo

lint: $(STAMP)
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

# tests/, examples/ and bench/ are checked per directory (several have their own conftest.py).
typecheck: $(STAMP)
	$(BIN)/mypy src
	MYPY=$(BIN)/mypy .ci/typecheck_tests.sh

unit: $(STAMP) redis-server
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The shared cache tier's tests start a real redis-server on loopback: install it when missing.
redis-server:
	@if command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ]; then :; \
	elif command -v apt-get >/dev/null; then \
	  echo "redis-server: apt-get install redis-server"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }; \
	else echo "redis-server: missing and no apt-get: the shared cache tier tests will fail"; fi

test: lint typecheck unit

# Proves pyproject.toml's floors: installs every dependency (core and the testing, prometheus,
# otel and aiohttp extras) at exactly its declared minimum (.ci/floors.py) and runs the suite.
# tests/packaging is left out: it builds clean venvs that resolve the newest releases anyway.
test-floors:
	rm -rf $(FLOORS)
	$(PYTHON) -m venv $(FLOORS)
	$(PYTHON) .ci/floors.py > $(FLOORS)/constraints.txt
	$(FLOORS)/bin/python -m pip install --quiet -c $(FLOORS)/constraints.txt -e '.[dev]'
	$(FLOORS)/bin/python -m pip list --format=freeze > $(FLOORS)/installed.txt
	$(FLOORS)/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/packaging

dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# Benchmarks are not tests: they measure, print a table and write bench/results/.
# bench-deps installs what only the benchmarks use, so that the bench scripts install nothing:
# Debian's nginx (the loopback server; needs root and apt-get, otherwise the bench falls back to
# its own asyncio server and its report says so) and matplotlib (the chart) into .venv.
bench-deps: $(STAMP)
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "bench-deps: apt-get install nginx"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq nginx >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nginx; }; \
	else echo "bench-deps: nginx missing and not installable here (needs root and apt-get)"; fi
	@$(BIN)/python -c 'import matplotlib' 2>/dev/null || $(BIN)/python -m pip install --quiet matplotlib

bench: bench-deps redis-server
	$(BIN)/python bench/run.py
	$(BIN)/python bench/redis_tier.py

bench-resilience: $(STAMP)
	$(BIN)/python bench/resilience.py

bench-async: bench-deps
	$(BIN)/python bench/async_transports.py

# Row 6 of `make bench` alone: import time vs httpx, with and without the extras (a minute).
bench-import: $(STAMP)
	$(BIN)/python bench/imports.py

# Proves the clients, and the `today` fakes, against the original Clinical and Facility services
# (not part of `test`, which replays the recorded table against the fakes only):
# needs NILECARE_SOURCE (a git directory of mohfadul/nilecare); without it, says so and exits 0.
compat: $(STAMP)
	PYTHON=$(BIN)/python tests/compat/run_compat.sh

clean:
	rm -rf $(VENV) $(FLOORS) dist build .mypy_cache .ruff_cache .pytest_cache
