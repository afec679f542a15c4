# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint setup serve bench bench-http relevance clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Sets everything up on a fresh machine and serves the demo on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/kb migrate
	$(BIN)/kb demo --if-empty
	$(BIN)/kb serve --port 8000

# The whole test suite, on SQLite and on PostgreSQL, then the linters
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(MAKE) lint

# The edit-test loop: SQLite only, no real processes (the `slow` mark), then the linters
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -k "not postgresql" $(PYTEST_ARGS)
	$(MAKE) lint

# Import layers (setup.cfg), ruff and mypy (pyproject.toml)
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check kb service scoring_hooks tests benchmarks migrations wsgi.py
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_index.py

bench-http: $(STAMP)
	$(BIN)/python -m benchmarks.bench_http

relevance: $(STAMP)
	$(BIN)/python benchmarks/relevance.py

clean:
	rm -rf var
