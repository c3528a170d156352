# Two entry points: `make run` and `make test`. Each builds its own virtual environment.
# `make bench` runs every benchmark in bench/ with modest sizes (by hand, never in CI).
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

bench: $(STAMP_TEST)
	$(BIN)/python bench/bench_cli.py 3
	$(BIN)/python bench/bench_ack.py closed --mix read
	$(BIN)/python bench/bench_ack.py closed --mix note --backend both
	$(BIN)/python bench/bench_ack.py open --rate 300 --count 2400
	$(BIN)/python bench/bench_ack.py sweep
	$(BIN)/python bench/bench_notes.py --notes 20000 --queries 300
	$(BIN)/python bench/bench_digest.py --notes 100000 --channels 1000 --teams 100
	$(BIN)/python bench/bench_store.py

clean:
	rm -rf $(VENV)
