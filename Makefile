# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint check install install-dev serve clean bench-sandbox bench-slow-clients

# Each stamp file is rebuilt only when its requirements change, so a second `make run` is quick.
$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Kube Journeys needs Python 3.11 or newer (found %d.%d)." % sys.version_info[:2]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	@mkdir -p staticfiles
	$(BIN)/python manage.py migrate --no-input --verbosity 0
	$(BIN)/python manage.py load_journeys
	@echo "Kube Journeys is at http://$(HOST):$(PORT)/ (stop it with Ctrl+C)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

check: install-dev
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py load_journeys --check

test: lint check
	$(BIN)/pytest

bench-sandbox: install-dev
	$(BIN)/python -m bench.sandbox_bench

# Slow clients (trickled heads and bodies) against gunicorn's sync worker and the portal's.
bench-slow-clients: install-dev
	$(BIN)/python -m bench.slow_clients

# Rebuilds the PostgreSQL database kube_journeys_bench (BENCH_DB_NAME) and load-tests gunicorn on 127.0.0.1
# (see BENCHMARKS.md); Redis database 14 (BENCH_REDIS_DB) is flushed.
.PHONY: bench bench-capacity
bench: install
	$(BIN)/python -m bench.web_bench

# How many learners pacing like a class this machine serves with p99 <= 200 ms (about 15 minutes).
bench-capacity: install
	$(BIN)/python -m bench.capacity

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
