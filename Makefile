# Gatehouse: `make run` serves the app with demo data, `make test` runs every test.
# Both install what they need first and skip what is already there. Nothing is downloaded from
# outside the package registries (crates.io, npm, Debian).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
# cargo-leptos takes the first wasm-opt on PATH: the npm binaryen one (Debian's breaks hydration).
export PATH := $(CURDIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)

E2E_PORT ?= 3417
MLFLOW_PORT ?= 3418
# The official MLflow client for the compatibility test (3.18.0's mlflow-skinny is not on the
# registry yet).
MLFLOW_VERSION := 3.17.2
MLFLOW_VENV := .venv-mlflow
OPENLINEAGE_PORT ?= 3419
# The official OpenLineage client for the lineage compatibility test.
OPENLINEAGE_VERSION := 1.54.0
OPENLINEAGE_VENV := .venv-openlineage
# A real S3-protocol server for the artifact store's S3 tests (moto's server, from PyPI).
MOTO_VERSION := 5.2.5
S3_VENV := .venv-s3
OPENAPI_PORT ?= 3424
# A client generated from /api/openapi.json by a common generator, to hold the document to what
# is served.
OPENAPI_CLIENT_VERSION := 0.29.1
OPENAPI_VENV := .venv-openapi

.PHONY: help run test setup setup-test build lint file-lengths empty-docs unit e2e mlflow-client openlineage-client openapi-client bench bench-audit load faults fuzz fuzz-tools fuzz-cmin bench-postgres bench-runs bench-runs-scale bench-layout bench-lineage bench-lineage-page bench-ab bench-fairness bench-promotion bench-artifacts bench-first-load replicas bench-replicas fmt clean

help:
	@echo "make run    build in release mode and serve http://127.0.0.1:3000 with demo data"
	@echo "make test   fmt, clippy (server and wasm), unit + integration tests, Playwright, replicas"
	@echo "make bench  every benchmark, then one table: figure, target, measured, pass/fail"
	@echo "make load   60 s of mixed traffic at 64 connections: req/s, p50/p99 per route, errors, RSS"
	@echo "            (REPLICAS=3: through HAProxy to three servers on one PostgreSQL)"
	@echo "make fuzz   fuzz the OpenLineage, MLflow filter, CSV and policy parsers (FUZZ_SECONDS each)"
	@echo "make fuzz-cmin  minimise the seeds and what fuzzing found into fuzz/seeds, to commit"
	@echo "make replicas  PostgreSQL, 3 servers behind HAProxy, 32 clients, a server SIGKILLed every 10 s"
	@echo "make faults SIGKILL during ingestion 20 times, then integrity, audit and slow-client checks"
	@echo "make bench-audit  audit-trail benchmarks (1M entries: append, verify, Merkle proofs, export)"
	@echo "make bench-runs  tracking API benchmarks (500 runs through HTTP)"
	@echo "make bench-postgres  the runs, audit and lineage benchmarks on PostgreSQL"
	@echo "make bench-replicas  audited writes/s with 1, 2 and 3 servers on PostgreSQL behind HAProxy"
	@echo "make bench-runs-scale  runs/search and get-history at 100,000 runs in one experiment"
	@echo "make bench-layout  lineage layout of 2,000 nodes and 4,000 edges"
	@echo "make bench-lineage  OpenLineage ingest (20,000 events through HTTP)"
	@echo "make bench-lineage-page  the lineage page on the demo, then with 20,000 more nodes"
	@echo "make bench-ab  A/B analysis of 100 metrics x 4 variants"
	@echo "make bench-fairness  fairness report of a 1,000,000-row file, and fairlearn on it"
	@echo "make bench-promotion  promotion policy evaluation with all evidence (demo workspace)"
	@echo "make bench-artifacts  512 MiB through the MLflow client each way, RSS, a 100-file model's digest"
	@echo "make bench-first-load  bytes of JS + wasm + CSS and time to hydrated, per page, in Chromium"

## Toolchain and build tools -------------------------------------------------------------

setup:
	rustup show active-toolchain >/dev/null
	rustup target add wasm32-unknown-unknown >/dev/null
	@if ! cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"; then \
		echo "installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 15 minutes on 2 cores)"; \
		cargo install cargo-leptos --locked --version $(CARGO_LEPTOS_VERSION); \
	fi
	@if ! wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)$$"; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) to match Cargo.lock"; \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --locked \
		  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; \
	fi
	@if [ ! -x node_modules/.bin/wasm-opt ]; then npm ci --no-audit --no-fund; fi

setup-test: setup
	@if ! command -v chromium >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@# The integration tests start a throwaway PostgreSQL cluster of their own (initdb in a
	@# temp dir); only the programs are needed, no service is started here.
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	fi
	@# The load balancer of the replica rehearsal (`make replicas`).
	@if ! command -v haproxy >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; \
	fi
	@if [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/@axe-core/playwright ] || [ ! -d end2end/node_modules/oidc-provider ]; then (cd end2end && npm ci --no-audit --no-fund); fi
	@if ! $(MLFLOW_VENV)/bin/python -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$(MLFLOW_VERSION)')" 2>/dev/null; then \
		python3 -m venv $(MLFLOW_VENV) && $(MLFLOW_VENV)/bin/pip install -q --disable-pip-version-check mlflow==$(MLFLOW_VERSION); \
	fi
	@if ! $(OPENLINEAGE_VENV)/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('openlineage-python') != '$(OPENLINEAGE_VERSION)')" 2>/dev/null; then \
		python3 -m venv $(OPENLINEAGE_VENV) && $(OPENLINEAGE_VENV)/bin/pip install -q --disable-pip-version-check openlineage-python==$(OPENLINEAGE_VERSION); \
	fi
	@if ! $(S3_VENV)/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$(MOTO_VERSION)')" 2>/dev/null; then \
		python3 -m venv $(S3_VENV) && $(S3_VENV)/bin/pip install -q --disable-pip-version-check "moto[server]==$(MOTO_VERSION)"; \
	fi
	@if ! $(OPENAPI_VENV)/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('openapi-python-client') != '$(OPENAPI_CLIENT_VERSION)')" 2>/dev/null; then \
		python3 -m venv $(OPENAPI_VENV) && $(OPENAPI_VENV)/bin/pip install -q --disable-pip-version-check openapi-python-client==$(OPENAPI_CLIENT_VERSION); \
	fi

# What the release build reads. A `make build` with none of it changed since the last successful
# build does nothing: cargo-leptos would otherwise bind and optimise the wasm and compress the
# site again even when cargo has nothing to compile.
BUILD_INPUTS = Cargo.toml Cargo.lock rust-toolchain.toml package.json package-lock.json \
	$(shell find app server frontend style public -type f -not -path '*/tests/*' -not -path '*/benches/*')
BUILD_STAMP := target/.release-build

build: setup
	@if [ ! -x target/release/server ] || [ ! -f target/release/hash.txt ] || [ ! -d target/site/pkg ]; then rm -f $(BUILD_STAMP); fi
	@$(MAKE) --no-print-directory $(BUILD_STAMP)

# --precompress: brotli and gzip copies of everything under target/site, served in place of
# compressing on the fly. The wasm holds the islands only (see app/src/lib.rs).
$(BUILD_STAMP): $(BUILD_INPUTS)
	cargo leptos build --release --precompress
	@touch $@

## The two commands ----------------------------------------------------------------------

run: build
	./target/release/server serve --demo

test: setup-test lint unit build e2e mlflow-client openlineage-client openapi-client replicas

## Test stages ---------------------------------------------------------------------------

fmt:
	cargo fmt --all

# Files sized for reading: no source file over MAX_FILE_LINES lines (unit tests live in a
# `tests.rs` beside their module and count too). A file that grows past it is split along its
# seams (see ARCHITECTURE.md).
MAX_FILE_LINES := 400

file-lengths:
	@status=0; \
	for f in $$(find app/src server/src server/benches frontend/src -name '*.rs' | sort); do \
		n=$$(wc -l < $$f); \
		if [ $$n -gt $(MAX_FILE_LINES) ]; then \
			echo "$$f: $$n lines, over $(MAX_FILE_LINES): split it along its seams"; status=1; fi; \
	done; \
	exit $$status

# Functions sized for reading: clippy's too_many_lines at 80 lines (clippy.toml); only test
# modules may carry an allow. missing_docs on every crate.
CLIPPY_GUARDS := -W clippy::too_many_lines -W missing_docs

# Docs that say more than the name: a one-line `/// Id.` above `id` is refused.
empty-docs:
	python3 .ci/empty_docs.py app/src server/src frontend/src

lint: file-lengths empty-docs
	cargo fmt --all -- --check
	cargo clippy -p app --features ssr --all-targets -- -D warnings $(CLIPPY_GUARDS)
	cargo clippy -p server --all-targets -- -D warnings $(CLIPPY_GUARDS)
	cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings $(CLIPPY_GUARDS)
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings $(CLIPPY_GUARDS)

unit:
	cargo test -p app --features ssr
	cargo test -p server
	@# The integration tests again, on a throwaway PostgreSQL cluster the tests start themselves.
	GATEHOUSE_TEST_DATABASE=postgres cargo test -p server --test it

e2e:
	bash end2end/run.sh $(E2E_PORT)

mlflow-client:
	bash end2end/mlflow/run.sh $(CURDIR)/$(MLFLOW_VENV)/bin/python $(MLFLOW_PORT)

openlineage-client:
	bash end2end/openlineage/run.sh $(CURDIR)/$(OPENLINEAGE_VENV)/bin/python $(OPENLINEAGE_PORT)

openapi-client:
	bash end2end/openapi/run.sh $(CURDIR)/$(OPENAPI_VENV)/bin $(OPENAPI_PORT)

# Every benchmark of steps 1-6; each records its figures in target/bench-table.tsv, printed
# as one table at the end (and kept as target/bench-table.md). Fails when a figure misses its
# target.
bench:
	mkdir -p target && rm -f target/bench-table.tsv
	for b in audit runs runs_scale lineage lineage_page layout ab fairness promotion; do cargo bench -p server --bench $$b; done
	$(MAKE) bench-artifacts
	$(MAKE) bench-first-load
	@echo
	@awk -F'\t' 'BEGIN { printf "%-62s %-18s %-22s %s\n", "figure", "target", "measured", "result"; \
		printf "%-62s %-18s %-22s %s\n", "------", "------", "--------", "------" } \
		{ printf "%-62s %-18s %-22s %s\n", $$1, $$2, $$3, $$4 }' target/bench-table.tsv
	@{ echo "| figure | target | measured | result |"; echo "|---|---|---|---|"; \
		awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $$1, $$2, $$3, $$4 }' target/bench-table.tsv; } > target/bench-table.md
	@echo; echo "$$(nproc) cores, $$(awk '/MemTotal/ { printf "%.0f GiB", $$2 / 1048576 }' /proc/meminfo), $$(rustc --version)"
	@! grep -q 'FAIL$$' target/bench-table.tsv

bench-audit:
	cargo bench -p server --bench audit

# The runs (500 runs), audit (append and verify) and lineage ingest benchmarks again on a
# throwaway PostgreSQL cluster they start themselves; their figures are named "PostgreSQL: …"
# in target/bench-table.tsv, beside SQLite's.
bench-postgres:
	mkdir -p target
	for b in runs runs_scale audit lineage lineage_page; do GATEHOUSE_BENCH_DATABASE=postgres cargo bench -p server --bench $$b; done

# Cold first loads in Chromium (demo workspace): bytes of JS + wasm + CSS on the wire per page
# and the time to hydrated; targets 300 KB a page, 150 KB for the sign-in page.
bench-first-load: build
	bash end2end/bench/first_load.sh 3423

# 60 s of mixed traffic at 64 connections (wrk, from Debian) against the release server with the
# demo workspace; prints req/s and p50/p99 per route, errors and the server's peak RSS.
# With REPLICAS=N: the same traffic through HAProxy to N servers on one PostgreSQL.
REPLICAS ?= 0
load: build
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@if [ "$(REPLICAS)" -gt 0 ]; then command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; }; fi
	LOAD_REPLICAS=$(REPLICAS) bash end2end/load/run.sh 3440 60

# Coverage-guided fuzzing (cargo-fuzz, libFuzzer, on stable without a sanitizer) of the
# OpenLineage parser, the MLflow filter grammar, the CSV ingestion and the policy parser, each
# for FUZZ_SECONDS. It starts from the committed seeds (fuzz/seeds/<target>) and grows a working
# corpus in fuzz/corpus/<target>, which git ignores; `make fuzz-cmin` folds what it found back
# into a minimal seed set worth committing. A crash fails and leaves its input in
# fuzz/artifacts/<target>: fix it and commit the input under fuzz/regressions/<target>, which
# `make test` replays (app/tests/fuzz_replay.rs).
# Then schemathesis (PyPI) sends generated requests for every operation of /api/openapi.json.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := openlineage_event mlflow_filter csv_ingest promotion_policy
CARGO_FUZZ_VERSION := 0.13.2
SCHEMATHESIS_VERSION := 4.32.5
fuzz-tools:
	@cargo fuzz --version 2>/dev/null | grep -q $(CARGO_FUZZ_VERSION) || cargo install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION)

fuzz: build fuzz-tools
	@.venv-fuzz/bin/st --version 2>/dev/null | grep -q $(SCHEMATHESIS_VERSION) || \
		{ python3 -m venv .venv-fuzz && .venv-fuzz/bin/pip install -q --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION); }
	cd fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$t; \
		cargo fuzz run -s none -O $$t corpus/$$t seeds/$$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 2>&1 \
			| grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+== ERROR|thread .* panicked)" ; \
		test $${PIPESTATUS[0]} -eq 0 || { echo "fuzz target $$t failed: see fuzz/artifacts/$$t"; exit 1; }; \
	done
	bash end2end/schemathesis/run.sh $(CURDIR)/.venv-fuzz/bin 3422 50

# The smallest set of inputs that covers what the seeds and the working corpus cover together,
# written back to fuzz/seeds/<target> for committing.
fuzz-cmin: fuzz-tools
	cd fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$t && cp seeds/$$t/* corpus/$$t/ && \
		cargo fuzz cmin -s none -O $$t corpus/$$t 2>&1 | tail -n 2 && \
		rm -rf seeds/$$t && mkdir -p seeds/$$t && cp corpus/$$t/* seeds/$$t/ || exit 1; \
	done

# PostgreSQL, moto's S3 server, three release servers and HAProxy (Debian's) in front: 32
# clients (official MLflow and OpenLineage clients, A/B results, promotions) write through the
# balancer for 60 s while a server is SIGKILLed and restarted every 10 s; then every
# acknowledged write is looked for, the audit chain verified and each 5xx accounted for.
REPLICAS_PORT ?= 3425
replicas: build
	@command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; }
	bash end2end/replicas/run.sh $(CURDIR)/$(MLFLOW_VENV)/bin/python $(CURDIR)/$(OPENLINEAGE_VENV)/bin/python $(REPLICAS_PORT) 60

# Audited writes per second with 1, 2 and 3 servers on one PostgreSQL behind HAProxy, and the
# audit chain's own ceiling (one lock around a durable commit, pgbench).
bench-replicas: build
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; }
	bash end2end/replicas/scale.sh 3450 15

# SIGKILL during ingestion, 20 times: acknowledged writes kept, nothing half-written, the audit
# chain and SQLite's integrity check pass; then slow clients beside normal writers.
faults: build
	bash end2end/faults/run.sh 3421 20

bench-fairness:
	cargo bench -p server --bench fairness
	test -x .venv-stats/bin/python || python3 -m venv .venv-stats
	.venv-stats/bin/pip install -q -r app/fixtures/fairness/requirements.txt
	.venv-stats/bin/python app/fixtures/fairness/bench_fairlearn.py target/fairness-1m.csv

bench-ab:
	cargo bench -p server --bench ab

bench-promotion:
	cargo bench -p server --bench promotion

bench-runs:
	cargo bench -p server --bench runs

bench-runs-scale:
	cargo bench -p server --bench runs_scale

bench-layout:
	cargo bench -p server --bench layout

bench-lineage:
	cargo bench -p server --bench lineage

bench-lineage-page:
	cargo bench -p server --bench lineage_page

# 512 MiB through the official MLflow client each way against a release server (RSS sampled),
# and the digest of a 100-file model.
bench-artifacts: build
	bash end2end/bench/artifacts.sh $(CURDIR)/$(MLFLOW_VENV)/bin/python 3422

clean:
	cargo clean
