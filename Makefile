# Two entry points: `make run` and `make test`. Each builds its own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

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

run: $(STAMP_RUN)
	$(BIN)/smx run

test: $(STAMP_TEST)
	$(BIN)/ruff check bot knowledge tests bench
	$(BIN)/pytest

lint: $(STAMP_TEST)
	$(BIN)/ruff check bot knowledge tests bench
	$(BIN)/ruff format --check bot knowledge tests bench

clean:
	rm -rf $(VENV)
