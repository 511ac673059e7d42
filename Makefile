# CV Engine — the commands a developer needs. `make run` starts everything; `make test` proves it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test test-services test-embedded faults lint fmt bench eval ai-service install install-dev migrate clean

# Embedded mode: SQLite, filesystem broker, local storage, outbox e-mail, offline extraction. No keys, no services.
run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_stack --port $(PORT)

test: install-dev
	scripts/system-deps.sh
	scripts/services.sh
	$(MAKE) lint
	$(MAKE) test-services
	$(MAKE) test-embedded

# PostgreSQL + Redis + SeaweedFS (S3): the production shape.
test-services:
	CVENGINE_TEST_PROFILE=services $(VENV)/bin/pytest $(PYTEST_ARGS)

# SQLite + local storage: the embedded shape stays honest.
test-embedded:
	CVENGINE_TEST_PROFILE=embedded $(VENV)/bin/pytest -m sqlite $(PYTEST_ARGS)

# The fault suite alone (workers killed, Redis/S3/SMTP/LLM outages); `make test` runs it too, in test-services.
faults: install-dev
	scripts/services.sh
	CVENGINE_TEST_PROFILE=services $(VENV)/bin/pytest -m faults $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install-dev
	scripts/services.sh
	$(PY) -m bench $(BENCH)

eval: install-dev
	$(PY) -m core.extraction.eval

ai-service: install
	$(PY) -m uvicorn ai_service.app:app --host $${AI_HOST:-127.0.0.1} --port $${AI_PORT:-8001}

migrate: install
	$(PY) manage.py migrate

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	"$$(scripts/python312.sh)" -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
