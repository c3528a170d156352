# Two entry points: `make run` and `make test`. Each builds its own virtual environment.
# `make bench` runs every benchmark in bench/ at the sizes issue 13 names, 8 to 10 minutes (by hand, never
# in CI); docs/BENCHMARKS.md says what each prints.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_BENCH := $(VENV)/.installed-bench

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

$(STAMP_BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@ $(STAMP_TEST) $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/smx run

test: $(STAMP_TEST)
	$(BIN)/ruff check bot knowledge tests bench
	$(BIN)/pytest

lint: $(STAMP_TEST)
	$(BIN)/ruff check bot knowledge tests bench
	$(BIN)/ruff format --check bot knowledge tests bench

bench: $(STAMP_BENCH)
	$(BIN)/python bench/bench_cli.py 7 --imports
	$(BIN)/python bench/bench_ack.py closed --mix read
	$(BIN)/python bench/bench_ack.py closed --mix note --backend both
	$(BIN)/python bench/bench_ack.py open --rate 300 --count 1500
	$(BIN)/python bench/bench_ack.py sweep --csv docs/bench-sweep.csv
	$(BIN)/python bench/plot_sweep.py docs/bench-sweep.csv docs/bench-ack-latency.png "smx and the anchors, read mix, open loop ($(shell nproc) CPUs, make bench, $(shell date +%F))"
	$(BIN)/python bench/bench_notes.py search
	$(BIN)/python bench/bench_digest.py
	$(BIN)/python bench/bench_store.py
	$(BIN)/python bench/bench_phrasing.py
	$(BIN)/python bench/bench_charts.py

clean:
	rm -rf $(VENV)
