# Two entry points for a fresh machine: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo serve test bench lint clean

$(BIN)/licensing: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/licensing
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: $(BIN)/licensing
	$(BIN)/licensing demo --db demo.db

serve: $(BIN)/licensing  # Graph v1.0 and CloudEvents over the demo store, on 127.0.0.1:8000 (after `make demo`)
	$(BIN)/licensing serve --db demo.db

test: $(VENV)/.dev
	$(BIN)/lint-imports  # the import contracts of pyproject.toml: a broken one fails the build
	$(BIN)/pytest

bench: $(VENV)/.dev
	$(BIN)/python -m bench

lint: $(VENV)/.dev
	$(BIN)/ruff check events processor projections tests bench
	$(BIN)/mypy events processor projections
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm
