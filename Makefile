# Agora: `make run` serves the API with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest migrate seed worker export-schema check-config clean client-deps client-tests

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make run HOST=0.0.0.0 PORT=8001`. Plain `=`: only the command line overrides them, not a
# HOST or PORT that the shell happens to export. A taken port stops it before migrate and seed.
HOST = 127.0.0.1
PORT = 8000
# Email links (and local file URLs) point at the server `make run` starts, unless APP_URL is set.
APP_URL ?= http://$(HOST):$(PORT)

run: $(STAMP)
	@$(BIN)/python -m server check-port --host $(HOST) --port $(PORT)
	$(BIN)/python -m server migrate
	$(BIN)/python -m server seed
	APP_URL=$(APP_URL) $(BIN)/python -m server serve --host $(HOST) --port $(PORT)

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

migrate: $(STAMP)
	$(BIN)/python -m server migrate

worker: $(STAMP)
	$(BIN)/python -m server worker

seed: $(STAMP)
	$(BIN)/python -m server seed

export-schema: $(STAMP)
	$(BIN)/python -m server export-schema > schema.graphql

check-config: $(STAMP)
	$(BIN)/python -m server check-config

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache .import_linter_cache tests/clients/node_modules

# The JavaScript clients of tests/clients (Apollo Client, urql, graphql-ws, graphql-sse,
# graphql-request, relay-runtime) at the versions its package-lock.json pins; Node >= 20.
# `make client-tests` runs them against a real server (.ci/run does in its second pass).
client-deps: tests/clients/node_modules/.package-lock.json

tests/clients/node_modules/.package-lock.json: tests/clients/package.json tests/clients/package-lock.json
	npm ci --prefix tests/clients --no-audit --no-fund

client-tests: $(STAMP) client-deps
	CLIENT_TESTS=1 $(BIN)/pytest -q tests/e2e/test_js_clients.py

# `make bench`: a throwaway PostgreSQL database (agora_bench on 127.0.0.1:5432), seeded with
# `seed --scale $(BENCH_SCALE)`; our server, PostGraphile (Node, from bench/postgraphile), the
# N+1 baseline and the asyncpg floor loaded with wrk; results in bench/results/. BENCH_ARGS
# passes more options (see bench/run.py).
BENCH_SCALE ?= 10000
BENCH_ARGS ?=
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: bench bench-deps

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench-deps: $(BENCH_STAMP)

bench: bench-deps
	$(BIN)/python -m bench.run --scale $(BENCH_SCALE) $(BENCH_ARGS)

# `make bench-subscriptions`: one server (PostgreSQL database agora_bench_realtime, Redis at
# $(BENCH_REDIS_URL)), 1,000 graphql-transport-ws subscribers to postPublished in this
# process, events published with publishPost; latency p50/p99, each client's sequence (none
# lost, duplicated or reordered), server RSS and CPU, clean shutdown. BENCH_SUBSCRIPTIONS_ARGS
# passes more options: --subscribers N, --viewers distinct, --selection viewer, --replicas 2,
# --events N (see bench/subscriptions.py and the README).
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/15
BENCH_SUBSCRIPTIONS_ARGS ?=

.PHONY: bench-subscriptions

bench-subscriptions: bench-deps
	$(BIN)/python -m bench.subscriptions --redis-url $(BENCH_REDIS_URL) $(BENCH_SUBSCRIPTIONS_ARGS)
