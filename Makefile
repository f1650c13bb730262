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

.PHONY: help run test lint typecheck pytest bench system-deps clean web web-types web-test screenshots

help:
	@echo "make run    - install, migrate, load demo data into a new SQLite database, serve http://127.0.0.1:$${CRM_PORT:-8000}"
	@echo "make test   - install, start throwaway PostgreSQL, run lint, type checks and every test"
	@echo "make bench  - on throwaway PostgreSQL: the request mix at 8-512 clients over 200,000 customers, the API over 1,000,000 customers and 5,000,000 interactions, the nightly jobs over 10,000,000 orders"
	@echo "make web    - build the web UI into src/crm/static (make run does it when the sources changed)"
	@echo "make screenshots - run the UI tests and refresh docs/screenshots/ from them"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The project and its locked dependencies (dev tools included), reinstalled when the lock changes.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

# ---------------------------------------------------------------- web UI (web/ → src/crm/static/)
WEB_INDEX := src/crm/static/index.html
WEB_STAMP := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json \
	web/package-lock.json web/vite.config.ts web/tsconfig.json

$(WEB_STAMP): web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20.19 or newer (with npm) to build the web UI"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Rebuilt when the build is missing or older than any of its sources.
$(WEB_INDEX): $(WEB_SOURCES) $(WEB_STAMP)
	cd web && npm run build --silent
	@touch $@

web: $(WEB_INDEX)

# The UI's API types come from the API's own OpenAPI document: regenerated before the UI is
# type-checked, so an API change the UI does not follow fails `make test` (commit the result).
web-types: $(VENV)/.installed $(WEB_STAMP)
	cd web && npm run openapi --silent

web-test: web-types
	cd web && npm run typecheck --silent
	cd web && npm test --silent

run: $(VENV)/.installed web
	@mkdir -p var
	$(BIN)/crm db upgrade
	$(BIN)/crm demo load --if-empty
	$(BIN)/crm serve

# What the suite needs from Debian: PostgreSQL's server binaries (it starts a throwaway cluster),
# Redis, and Chromium with a CJK font for the UI tests. As root, what is missing is installed
# with one apt-get update and one apt-get install; otherwise the command to run is printed.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	dpkg-query -W -f='$${Status}' fonts-wqy-microhei 2>/dev/null | grep -q "ok installed" || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing — run: sudo apt-get install$$missing"; \
	    exit 1; \
	  fi; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# The UI tests (tests/e2e) need the build; here a missing build or browser fails them instead of skipping.
# The tests run in PYTEST_WORKERS processes (pytest-xdist), each with its own PostgreSQL, Redis and
# temporary files; the browser tests, which share one server and one Chromium, stay on one of them.
PYTEST_WORKERS ?= 2
pytest: $(VENV)/.installed system-deps web
	CRM_E2E_REQUIRED=1 $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

test: lint typecheck web-test pytest

# Refresh the README's screenshots (docs/screenshots/) from a run of the UI tests.
screenshots: $(VENV)/.installed system-deps web
	CRM_E2E_REQUIRED=1 CRM_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/e2e -q

bench: $(VENV)/.installed system-deps
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "bench.load needs wrk: sudo apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.customers
	$(BIN)/python -m bench.interactions
	$(BIN)/python -m bench.nightly

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache web/node_modules src/crm/static
