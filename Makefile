# Two commands matter: `make run` and `make test`. Everything else is a step they use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help run test lint typecheck pytest bench system-deps clean

help:
	@echo "make run    - install, migrate, load demo data once, serve http://127.0.0.1:$${CRM_PORT:-8000}"
	@echo "make test   - install, start throwaway PostgreSQL, run lint, type checks and every test"
	@echo "make bench  - load 1,000,000 customers into a throwaway PostgreSQL and measure the API"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The project and its locked dependencies (dev tools included), reinstalled when the lock changes.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

run: $(VENV)/.installed
	@mkdir -p var
	$(BIN)/crm db upgrade
	$(BIN)/crm demo load --if-empty
	@echo "演示账号 / demo login: admin / crm-demo-2026!  (other roles: manager.east, sales.east1, service.agent1, analyst — same password)"
	$(BIN)/crm serve

# PostgreSQL's server binaries are needed by the suite, which starts its own throwaway cluster.
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing PostgreSQL (Debian package postgresql)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "PostgreSQL server binaries are missing: install Debian's 'postgresql' package (sudo apt-get install postgresql)"; \
	    exit 1; \
	  fi; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed
	$(BIN)/mypy

pytest: $(VENV)/.installed system-deps
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(VENV)/.installed system-deps
	$(BIN)/python -m bench.customers

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
