# The two commands a newcomer needs: `make run` and `make test`.
# PYTHON is the interpreter the virtualenv is made from; VENV is where it goes. Both can be
# overridden, e.g. `make install PYTHON=/usr/bin/python3 VENV=.venv-floor`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Written only once the virtualenv works (python and pip both run), so a half-made one left by a
# failed `python -m venv` is never taken for a good one.
READY := $(VENV)/.ready
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint check install install-dev serve clean bench-sandbox bench-slow-clients

# The Python is checked before anything is created: the version the README names, and the venv
# and ensurepip modules that Debian and Ubuntu ship separately (python3-venv), without which
# `python3 -m venv` fails half-way ("ensurepip is not available") and leaves a broken directory.
define check_python
command -v "$(PYTHON)" >/dev/null 2>&1 || { \
  echo "make: cannot find the Python '$(PYTHON)'. Kube Journeys needs Python 3.11 or newer:" >&2; \
  echo "  install one (Debian/Ubuntu: sudo apt install python3 python3-venv) or name it: make run PYTHON=/path/to/python3" >&2; \
  exit 1; }; \
found=$$("$(PYTHON)" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) || found=""; \
if [ -z "$$found" ]; then \
  echo "make: '$(PYTHON)' does not run as a Python interpreter. Kube Journeys needs Python 3.11 or newer:" >&2; \
  echo "  name a working one, e.g. make run PYTHON=/usr/bin/python3" >&2; \
  exit 1; fi; \
"$(PYTHON)" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
  echo "make: '$(PYTHON)' is Python $$found; Kube Journeys needs Python 3.11 or newer." >&2; \
  echo "  Install a newer one and name it, e.g. make run PYTHON=python3.11" >&2; \
  exit 1; }; \
"$(PYTHON)" -c 'import venv, ensurepip' 2>/dev/null || { \
  minor=$$(echo "$$found" | cut -d. -f1,2); \
  echo "make: '$(PYTHON)' (Python $$found) cannot create a virtualenv: its venv/ensurepip modules are missing." >&2; \
  echo "  On Debian or Ubuntu install them with: sudo apt install python3-venv   (or python$$minor-venv)" >&2; \
  echo "  then run make again. Nothing was created." >&2; \
  exit 1; }
endef

# A virtualenv that already works (made by an earlier `make`) is kept; anything else at $(VENV)
# that pyvenv.cfg marks as a virtualenv (a half-made one) is replaced; any other directory there
# is left alone and refused, since it is not ours to delete.
$(READY):
	@case "$(VENV)" in ""|.|./|..|../|/) echo "make: VENV='$(VENV)' cannot hold a virtualenv; use e.g. VENV=.venv" >&2; exit 1;; esac
	@$(check_python)
	@if [ -e "$(VENV)" ] && [ ! -f "$(VENV)/pyvenv.cfg" ]; then \
	  echo "make: $(VENV) exists but is not a virtualenv; move it away or choose another VENV=" >&2; exit 1; fi
	@if [ -x "$(BIN)/python" ] && "$(BIN)/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	    && "$(BIN)/python" -m pip --version >/dev/null 2>&1; then \
	  echo "Using the existing virtualenv $(VENV) ($$("$(BIN)/python" --version))"; \
	else \
	  if [ -e "$(VENV)" ]; then echo "Replacing $(VENV): a virtualenv without a working pip or Python 3.11+"; rm -rf "$(VENV)"; fi; \
	  echo "Creating $(VENV) with $(PYTHON) ($$("$(PYTHON)" --version 2>&1))"; \
	  "$(PYTHON)" -m venv "$(VENV)" || { rm -rf "$(VENV)"; \
	    echo "make: '$(PYTHON) -m venv $(VENV)' failed (see above); the unfinished $(VENV) was removed." >&2; \
	    echo "  If it says ensurepip is not available, on Debian or Ubuntu: sudo apt install python3-venv" >&2; exit 1; }; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	@touch $@

# Each stamp file is rebuilt only when its requirements change, so a second `make run` is quick.
$(VENV)/.installed: requirements.txt | $(READY)
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(READY)
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

# Only a virtualenv is removed from $(VENV), whatever VENV names.
clean:
	@if [ -f "$(VENV)/pyvenv.cfg" ]; then echo "rm -rf $(VENV)"; rm -rf "$(VENV)"; fi
	rm -rf staticfiles .pytest_cache .ruff_cache
