# Everyday commands. Each one runs scripts/bootstrap.sh first, which installs what is missing
# (Debian packages, PostgreSQL/Redis started, .venv, database) and is quick when nothing is.
CITY ?= liege
PYTEST_ARGS ?=
BENCH_ARGS ?=
PYTHON := .venv/bin/python
MANAGE := $(PYTHON) manage.py
# Without it manage.py, Celery and WSGI take the production settings, which need a secret.
# The tests pin theirs (pyproject's --ds), whatever this says.
export DJANGO_SETTINGS_MODULE ?= config.settings.development

.NOTPARALLEL:
.PHONY: help setup run test lint bench loadtest demo-data migrate messages

help:
	@echo "make run        install, migrate, load the demo city (CITY=$(CITY)), serve on http://127.0.0.1:8000"
	@echo "make test       install, then the test suite (PYTEST_ARGS='-k locate -x' to narrow it)"
	@echo "make lint       ruff check ."
	@echo "make bench      benchmarks (benchmarks/run.py; BENCH_ARGS=--quick for a short run)"
	@echo "make loadtest   submissions and public reads on gunicorn, 60 s (benchmarks/loadtest/run.py)"
	@echo "make demo-data  migrate and load the demo city without serving (CITY=liege|paris)"
	@echo "make setup      only install (scripts/bootstrap.sh)"

setup:
	@bash scripts/bootstrap.sh

migrate: setup
	$(MANAGE) migrate --noinput

# --ignore: compilemessages would otherwise recompile every catalogue it finds under .venv.
messages: setup
	$(MANAGE) compilemessages --ignore=.venv --ignore=var

demo-data: migrate
	$(MANAGE) load_demo --city $(CITY)

run: migrate messages demo-data
	@bash scripts/run.sh

test: setup
	$(PYTHON) -m pytest $(PYTEST_ARGS)

lint: setup
	$(PYTHON) -m ruff check .

bench: setup
	$(PYTHON) benchmarks/run.py $(BENCH_ARGS)

loadtest: setup
	$(PYTHON) benchmarks/loadtest/run.py
