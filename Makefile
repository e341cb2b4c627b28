# 好品山东 platform. `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench serve setup system-deps demo clean help worker

help:
	@echo "make run    set up and start the demo province on http://$(HOST):$(PORT) (SQLite under var/)"
	@echo "make test   set up and run the whole test suite (SQLite; HAOPIN_DATABASE_URL for PostgreSQL)"
	@echo "make lint   ruff and mypy"
	@echo "make bench  benchmarks; results printed as ratios, see docs/BENCHMARKS.md"
	@echo "make serve  production server (granian) with HAOPIN_* settings"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11+ / Python 3.11+ is required"; exit 1; }
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) system-deps

# System packages: a CJK font and HarfBuzz's subsetter for PDFs, Chromium for browser tests.
system-deps:
	@bash scripts/system-deps.sh

run: setup
	HAOPIN_DEBUG=1 $(MANAGE) migrate --noinput -v0
	HAOPIN_DEBUG=1 $(MANAGE) seed_demo --if-empty
	@HAOPIN_DEBUG=1 $(MANAGE) demo_accounts
	HAOPIN_DEBUG=1 $(MANAGE) runserver $(HOST):$(PORT)

test: setup
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check haopin bench tests
	$(VENV)/bin/ruff format --check haopin bench tests
	$(VENV)/bin/mypy haopin

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

serve: setup
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) collectstatic --noinput -v0
	$(VENV)/bin/granian --interface wsgi --host $(HOST) --port $(PORT) --workers $${HAOPIN_WORKERS:-2} haopin.config.wsgi:application

worker: setup
	$(MANAGE) db_worker

clean:
	rm -rf $(VENV) var/static
