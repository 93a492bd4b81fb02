# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Quiet installs: a newcomer's console shows problems, not pip's progress (nor, in a container
# running as root, its advice about virtual environments: this is one).
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check --root-user-action=ignore

.PHONY: run test bench bench-replay fuzz backup restore migrate seed messages clean cluster cluster-down cluster-test

CATALOGUES := $(wildcard locale/*/LC_MESSAGES/django.po)
COMPILED := $(CATALOGUES:.po=.mo)

$(BIN)/python:
	@$(PYTHON) -c "import sys; assert sys.version_info[:2] == (3, 11), sys.version" || { echo "Python 3.11 is required"; exit 1; }
	@echo "Creating $(VENV) and installing the dependencies (a minute or two)..."
	@$(PYTHON) -m venv $(VENV)
	@$(PIP_INSTALL) --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	@$(PIP_INSTALL) -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	@$(PIP_INSTALL) -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

# Translations are compiled in the build, never committed. Django's compilemessages needs
# GNU gettext's msgfmt; a machine without it compiles the same catalogues with Babel.
%.mo: %.po | $(VENV)/.runtime
	@if command -v msgfmt >/dev/null; then \
		DEBUG=1 $(BIN)/python manage.py compilemessages --locale $(word 1,$(subst /, ,$(patsubst locale/%,%,$<))) --ignore .venv; \
	else \
		$(BIN)/pybabel compile -i $< -o $@; \
	fi

messages: $(COMPILED)

# Without CELERY_BROKER_URL the web server and a worker with beat share kombu's filesystem
# transport, so the scheduled sweeps run on a laptop with no broker installed.
run: $(VENV)/.runtime $(COMPILED)
	@DEBUG=$${DEBUG:-1} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-filesystem://} ./scripts/run.sh $(PORT)

# Structure limits (scripts/complexity.py): no function in app code over cyclomatic complexity
# 15, no Python file outside migrations over 500 lines.
test: $(VENV)/.dev $(COMPILED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python scripts/complexity.py
	$(BIN)/pytest

# Benchmarks against a local PostgreSQL (BENCH_PG, default postgres://postgres@127.0.0.1:5432);
# needs wrk (apt-get install -y wrk). Prints ratios against baselines measured in the same run.
bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

# The production topology on this machine (README, Deploying): nginx, two gunicorn nodes,
# PgBouncer, a PostgreSQL primary and streaming replica, Redis, Celery workers on two queues.
cluster: $(VENV)/.runtime
	./scripts/cluster.sh up

cluster-down:
	./scripts/cluster.sh down

# Brings the cluster up, drives a bounded vote load through nginx, checks it, takes it down
# (10 minutes at most; holds the QUORUM_BENCH_LOCK file lock while it runs). Prints the timings.
cluster-test: $(VENV)/.dev
	QUORUM_CLUSTER_TEST=1 $(BIN)/pytest tests/system/test_cluster.py -m cluster -s -q -p no:cacheprovider

# The X poll's 958,086 ballots through the real API at 32 connections, each from its own account,
# checked against a recount and the audit trail (20-40 minutes; BENCH_REPLAY_BALLOTS=N for less).
bench-replay: $(VENV)/.dev
	$(BIN)/python -m bench.replay

# Schemathesis against the served API as visitor, member and secretary (bounded budget).
fuzz: $(VENV)/.dev
	./scripts/fuzz.sh

# A consistent copy of the database (pg_dump, or SQLite's online backup) into backups/.
backup: $(VENV)/.runtime
	./scripts/backup.sh

# make restore FILE=backups/quorum-YYYYmmddTHHMMSSZ.dump
restore: $(VENV)/.runtime
	./scripts/restore.sh "$(FILE)"

migrate: $(VENV)/.runtime
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput

seed: migrate
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo

clean:
	rm -rf $(VENV) .celery staticfiles .mypy_cache .pytest_cache .ruff_cache
