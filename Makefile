# Two entry points for a fresh machine: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

CHROMIUM := /usr/bin/chromium

.PHONY: demo serve kafka-demo test bench lint clean chromium

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

# The "Running on Kafka" walk-through: dev broker (dev extra), topics, worker, projector, publish, wait, export;
# everything it starts is stopped again.
kafka-demo: $(VENV)/.dev
	$(BIN)/python -m processor.kafka.walkthrough examples/quickstart.jsonl --tenant contoso --db kafka-demo.db

test: $(VENV)/.dev chromium
	$(BIN)/lint-imports  # the import contracts of pyproject.toml: a broken one fails the build
	$(BIN)/pytest

# The dashboard's browser test drives Debian's Chromium (Playwright, no browser download): installed here as root.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
		else \
			echo "make test needs $(CHROMIUM): install Debian's chromium and chromium-driver packages (as root: apt-get install -y chromium chromium-driver)" >&2; \
			exit 1; \
		fi; \
	fi

bench: $(VENV)/.dev
	$(BIN)/python -m bench

lint: $(VENV)/.dev
	$(BIN)/ruff check events processor projections tests bench
	$(BIN)/mypy events processor projections
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm kafka-demo.db kafka-demo.db-wal kafka-demo.db-shm
