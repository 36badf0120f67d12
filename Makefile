# The two commands of the README: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed

.PHONY: run test check lint typecheck contracts migrations-check setup bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/ensure_env.py
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo
	@echo "  Hub:        http://127.0.0.1:8000/"
	@echo "  API docs:   http://127.0.0.1:8000/api/docs/"
	@echo "  Demo login: demo@hub.example / demo-hub-2026 (you enrol a TOTP app at first login)"
	@echo "  Ctrl-C stops the web server, the worker and beat."
	@echo
	$(BIN)/honcho -f Procfile.dev start

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy hub grdf_access smartoa flexready tic

contracts: $(STAMP)
	$(BIN)/lint-imports

migrations-check: $(STAMP)
	DJANGO_SETTINGS_MODULE=tests.settings $(MANAGE) makemigrations --check --dry-run

check: lint typecheck contracts migrations-check test

bench: $(STAMP)
	$(BIN)/python bench/series_ingest.py

clean:
	rm -rf $(VENV) var
