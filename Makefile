# The README's commands. `make run` installs the runtime dependencies only; the dev extras
# (test, lint and type-check tools) are installed by the targets that need them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
HUB_PORT ?= 8000

.PHONY: run test messages check lint typecheck contracts migrations-check setup bench clean

# Debian ships venv's ensurepip apart (python3-venv): installed here when root or a password-free
# sudo allows it, named otherwise. A failed creation leaves no half-made .venv for the next run.
$(BIN)/python:
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
		echo "$(PYTHON) cannot make a virtualenv: installing Debian's python3-venv"; \
		if [ "$$(id -u)" = 0 ]; then sudo=; else sudo="sudo -n"; fi; \
		{ $$sudo apt-get update -qq && $$sudo apt-get install -y -qq python3-venv >/dev/null; } || { \
			echo "could not install it: run 'apt-get install python3-venv' as root"; exit 1; }; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(DEV): pyproject.toml $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(DEV)

setup: $(DEV)

# The compiled catalogues (.mo) are committed, so a machine without GNU gettext still runs and
# tests the hub; with it, they are rebuilt from the .po files first.
messages: $(RUNTIME)
	@if command -v msgfmt >/dev/null; then \
		DJANGO_SETTINGS_MODULE=tests.settings $(MANAGE) compilemessages --ignore '.venv/*' >/dev/null; \
	else echo "msgfmt not found (Debian: gettext): using the committed .mo files"; fi

run: $(RUNTIME) messages
	$(BIN)/python scripts/ensure_env.py
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo
	@echo "  Hub:        http://127.0.0.1:$(HUB_PORT)/"
	@echo "  API docs:   http://127.0.0.1:$(HUB_PORT)/api/docs/"
	@echo "  Demo login: demo@hub.example / demo-hub-2026 (you enrol a TOTP app at first login)"
	@echo "  Ctrl-C stops the web server, the Celery worker, Celery beat and the TIC reader."
	@echo
	HUB_PORT=$(HUB_PORT) $(BIN)/python scripts/devrun.py -f Procfile.dev start

test: $(DEV) messages
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV)
	$(BIN)/mypy hub grdf_access smartoa flexready tic

contracts: $(DEV)
	$(BIN)/lint-imports

migrations-check: $(DEV)
	DJANGO_SETTINGS_MODULE=tests.settings $(MANAGE) makemigrations --check --dry-run

check: lint typecheck contracts migrations-check test

bench: $(DEV)
	$(BIN)/python bench/series_ingest.py

clean:
	rm -rf $(VENV) var
