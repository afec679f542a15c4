# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup serve bench bench-http relevance clean

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

# The whole test suite, on SQLite and on PostgreSQL
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_index.py

bench-http: $(STAMP)
	$(BIN)/python -m benchmarks.bench_http

relevance: $(STAMP)
	$(BIN)/python benchmarks/relevance.py

clean:
	rm -rf var
