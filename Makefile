# idbellen — `make help` lists the targets. Everything installs itself into .venv/ on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.lock pyproject.toml | sha256sum | cut -c1-12)
export PYTHONPATH := $(CURDIR)/lambdas:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install demo test test-fast lint fmt typecheck lint-flows fuzz bench build serve lock clean system-deps widget-deps

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements/dev.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found (set PYTHON=/path/to/python3.12)"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.lock
	touch $@

install: $(STAMP) ## create .venv/ from the hash-pinned lock (run by every other target)

lock: ## re-pin requirements/dev.lock and lambdas/requirements.txt (needs network to PyPI)
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python $(PYTHON) --python-platform linux -o requirements/dev.lock -q
	$(PYTHON) -m uv pip compile requirements/runtime.in --generate-hashes --python $(PYTHON) --python-platform aarch64-manylinux_2_28 -o lambdas/requirements.txt -q

demo: $(STAMP) ## run one whole ID call on the embedded dev stack (no AWS account needed)
	$(PY) -m devstack.demo

test: $(STAMP) ## lint + the whole test suite (unit, integration, e2e, browser, template, bench smoke)
	$(MAKE) lint
	$(MAKE) lint-flows
	$(PY) -m pytest -q -p no:cacheprovider tests

test-fast: $(STAMP) ## unit + integration + e2e only (no browser)
	$(PY) -m pytest -q -p no:cacheprovider tests/unit tests/integration tests/e2e

lint-flows: $(STAMP) ## lint the Amazon Connect flows in contact_flows/ (structure + our rules)
	$(PY) -m contact_flows.lint

lint: $(STAMP) ## ruff lint + format check
	$(VENV)/bin/ruff check lambdas devstack tests bench
	$(VENV)/bin/ruff format --check lambdas devstack tests bench

fmt: $(STAMP) ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix lambdas devstack tests bench
	$(VENV)/bin/ruff format lambdas devstack tests bench

typecheck: $(STAMP) ## mypy --strict on the Lambda package
	$(VENV)/bin/mypy

clean: ## remove the venv and build output
	rm -rf $(VENV) .aws-sam build .pytest_cache
