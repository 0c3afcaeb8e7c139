# 心育 Xinyu — two commands on a fresh machine:
#   make run    install, migrate, build the demo district (SQLite), serve http://127.0.0.1:8000
#   make test   install test tools (and Debian's chromium + PostgreSQL where missing), run every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
STUDENTS ?= 20000

.PHONY: run test install install-dev assets messages migrate demo serve lint typecheck test-keys test-sqlite test-postgres bench bench-screening bench-care bench-answer bench-pages system-deps system-test-deps clean

run: install system-deps assets messages migrate demo serve

# DEBUG is off unless turned on: the development targets turn it on (their prerequisites,
# migrate included, inherit it), so a fresh machine gets a generated field key in var/.
run serve demo: export XINYU_DEBUG := 1

test: install-dev assets messages system-test-deps lint typecheck test-keys
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Front-end assets come from the npm registry; copied into a git-ignored static folder.
assets: node_modules/.installed
	mkdir -p xinyu/web/static/vendor
	cp node_modules/echarts/dist/echarts.min.js xinyu/web/static/vendor/

messages: $(VENV)/.runtime
	$(PY) scripts/compile_messages.py

migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput -v0

demo: $(VENV)/.runtime
	$(PY) manage.py demo --students $(STUDENTS)

serve: $(VENV)/.runtime
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Debian packages: Pango and a CJK font for PDF reports; for tests also Chromium and PostgreSQL.
system-deps:
	scripts/ensure-system-deps.sh

system-test-deps:
	scripts/ensure-system-deps.sh --test

# ruff, and the floors of docs/ARCHITECTURE.md (import-linter contracts in pyproject.toml).
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy xinyu

# The two suites run side by side (one core each; the output of each is shown when it ends).
# They share the development key files of var/, made here first so neither races the other.
test-keys: $(VENV)/.dev
	XINYU_DEBUG=1 DJANGO_SETTINGS_MODULE=xinyu.settings $(PY) -c "import django; django.setup(); \
	from xinyu import crypto; from xinyu.kernel import backup; crypto.configured_keys(); backup.configured_keys()"

test-sqlite: $(VENV)/.dev
	DJANGO_ALLOW_ASYNC_UNSAFE=1 $(VENV)/bin/pytest -p no:cacheprovider

test-postgres: $(VENV)/.dev
	scripts/with-postgres.sh env DJANGO_ALLOW_ASYNC_UNSAFE=1 $(VENV)/bin/pytest -p no:cacheprovider

bench: $(VENV)/.dev
	$(PY) bench/bench_import.py --write docs/PERFORMANCE.md
	$(PY) bench/bench_screening.py --write docs/PERFORMANCE.md
	$(PY) bench/bench_care.py --write docs/PERFORMANCE.md
	$(PY) bench/bench_answer.py --write docs/PERFORMANCE.md
	$(PY) bench/bench_pages.py --write docs/PERFORMANCE.md

# Bulk scoring, 200 students answering over HTTP (gunicorn), campaign pages: about 4 minutes.
bench-screening: $(VENV)/.dev
	$(PY) bench/bench_screening.py --write docs/PERFORMANCE.md

# The escalation job over 5,000 overdue warnings in a district of 40 schools: about 15 seconds.
bench-care: $(VENV)/.dev
	$(PY) bench/bench_care.py --write docs/PERFORMANCE.md

# The student's answer path as a browser walks it, 50 students at once against gunicorn
# (2 sync workers): server CPU per questionnaire, throughput, p95; about 2 minutes.
bench-answer: $(VENV)/.dev
	$(PY) bench/bench_answer.py --write docs/PERFORMANCE.md

# Every persona's pages, two links deep from the home page and its menu, in a 150,000-student
# district and a 3,000-student one (query counts compared): about 10 minutes.
bench-pages: $(VENV)/.dev
	$(PY) bench/bench_pages.py --write docs/PERFORMANCE.md

clean:
	rm -rf $(VENV) node_modules var staticfiles xinyu/web/static/vendor
