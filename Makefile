# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint setup serve bench bench-http bench-console bench-compliance bench-workers relevance clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Sets everything up on a fresh machine and serves the demo on http://127.0.0.1:$(PORT) (make demo PORT=8080)
demo: $(STAMP)
	$(BIN)/kb migrate
	$(BIN)/kb demo --if-empty
	@echo "控制台 console: http://127.0.0.1:$(PORT)/  — log in as office, operator, hs-maintainer or hs-reviewer; password demo-12345"
	$(BIN)/kb serve --port $(PORT)

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

bench-compliance: $(STAMP)
	$(BIN)/python -m benchmarks.bench_compliance

bench-workers: $(STAMP)
	$(BIN)/python -m benchmarks.bench_workers

bench-console: $(STAMP)
	$(BIN)/python -m benchmarks.bench_console

relevance: $(STAMP)
	$(BIN)/python benchmarks/relevance.py

clean:
	rm -rf var
