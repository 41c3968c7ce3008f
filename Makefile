# Two commands: `make run` and `make test`. Every step is skipped when done.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
RASA_VENV := .venv-rasa
MINWON := $(VENV)/bin/minwon
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE := 1
# An unpacked offline bundle (make bundle) holds wheels/OFFLINE: pip then installs only from the
# bundle's wheels and never asks a registry. MINWON_WHEELS=DIR does the same with another folder.
MINWON_WHEELS ?= $(if $(wildcard wheels/OFFLINE),$(CURDIR)/wheels)
ifneq ($(MINWON_WHEELS),)
PIP_MAIN := --no-index --find-links $(MINWON_WHEELS)/main
PIP_RASA := --no-index --find-links $(MINWON_WHEELS)/rasa
endif

.PHONY: help run test test-slow bootstrap envs model index train lint bench audit fuzz system-deps node-deps clean bundle offline-check

help:
	@echo "make run    - set everything up and start the chatbot (prints the demo URL)"
	@echo "make test   - set everything up and run the whole test suite"
	@echo "make test-slow - the replica, scale-out and upgrade checks (several minutes each)"
	@echo "make train | index | lint | bench | audit | fuzz | clean"
	@echo "make bundle - dist/minwon-offline-<version>-linux-x86_64.tar.gz for a server with no network"
	@echo "make offline-check - install that bundle inside a loopback-only network namespace and ask a question"

$(VENV)/.installed: pyproject.toml constraints.txt
	@echo "[setup] main env ($(VENV), Python 3.11)"
	@test -x $(VENV)/bin/python || "$$(scripts/find-python.sh 3.11)" -m venv $(VENV)
	$(VENV)/bin/pip install -q $(PIP_MAIN) --upgrade pip
	$(VENV)/bin/pip install -q $(PIP_MAIN) torch==2.13.0
	$(VENV)/bin/pip install -q $(PIP_MAIN) -c constraints.txt -e '.[dev]'
	@touch $@

$(RASA_VENV)/.installed: bot/requirements.txt bot/constraints.txt
	@echo "[setup] Rasa env ($(RASA_VENV), Python 3.10) - the first time takes several minutes"
	@test -x $(RASA_VENV)/bin/python || "$$(scripts/find-python.sh 3.10)" -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q $(PIP_RASA) --upgrade pip 'setuptools<71' wheel
	$(RASA_VENV)/bin/pip install -q $(PIP_RASA) -c bot/constraints.txt -r bot/requirements.txt
	@touch $@

envs: $(VENV)/.installed $(RASA_VENV)/.installed

model: $(VENV)/.installed
	@$(MINWON) model build

index: model
	@$(MINWON) index build

train: envs
	@$(MINWON) train

bootstrap: index train

run: bootstrap
	@$(MINWON) run

system-deps:
	@scripts/ensure-system-deps.sh

# Test-only JavaScript (socket.io-client 3.x, axe-core), pinned by package-lock.json.
tests/e2e/node/node_modules/.installed: tests/e2e/node/package.json tests/e2e/node/package-lock.json
	cd tests/e2e/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: tests/e2e/node/node_modules/.installed

test: bootstrap system-deps node-deps lint
	$(VENV)/bin/python -m pytest -q -ra -m "not slow" --ignore=tests/bot tests
	PYTHONPATH=bot:. $(RASA_VENV)/bin/python -m pytest -q -ra -p no:cacheprovider tests/bot

# The checks that start stacks of their own (Rasa and api replicas, the previous release for the upgrade):
# each several minutes, so kept out of `make test` and run before a release.
test-slow: bootstrap system-deps node-deps
	$(VENV)/bin/python -m pytest -q -ra -m slow --ignore=tests/bot tests

ESLINT := tests/e2e/node/node_modules/.bin/eslint -c tests/e2e/node/eslint.config.mjs

# Python: ruff (lint + format) and mypy --strict on api/ faq/ bot/actions evaluation/; JavaScript: ESLint.
lint: $(VENV)/.installed node-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(ESLINT) widget/src api/console/static

# Known vulnerabilities in both Python envs and the test tools' npm packages. Needs the network (PyPI's and
# npm's advisory databases): run it where the build is made, not on the air-gapped server. api/README.md
# ("Reading make audit") says what to do with a finding.
audit: $(VENV)/.installed $(RASA_VENV)/.installed node-deps
	$(VENV)/bin/pip-audit --progress-spinner off --skip-editable --desc on
	$(VENV)/bin/pip-audit --progress-spinner off --desc on --path $(RASA_VENV)/lib/python3.10/site-packages
	cd tests/e2e/node && npm audit

bench: bootstrap
	$(VENV)/bin/python evaluation/bench_latency.py

# schemathesis over the OpenAPI schema (residents' API and the console's JSON API, logged in): no 5xx.
fuzz: $(VENV)/.installed
	$(VENV)/bin/python evaluation/fuzz_api.py

# Needs registry access and a finished `make bootstrap node-deps`; see README "County IT".
bundle: bootstrap node-deps
	@scripts/bundle.sh

# Root only (ip netns). Uses the newest dist/ bundle; run `make bundle` first.
offline-check:
	@scripts/offline-check.sh

clean:
	rm -rf $(VENV) $(RASA_VENV) var bot/models bot/.rasa tests/e2e/node/node_modules
