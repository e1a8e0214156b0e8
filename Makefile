# idbellen — `make help` lists the targets. Everything installs itself into .venv/ on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.lock | sha256sum | cut -c1-12)
export PYTHONPATH := $(CURDIR)/lambdas:$(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install demo test mutate mutate-fast test-fast lint fmt typecheck lint-flows fuzz bench build serve lock clean system-deps widget-deps widget-build report report-demo

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements/dev.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found (set PYTHON=/path/to/python3.12)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.lock
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) ## create .venv/ from the hash-pinned lock (run by every other target)

lock: ## re-pin requirements/dev.lock and lambdas/requirements.txt (needs network to PyPI)
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python $(PYTHON) --python-platform linux -o requirements/dev.lock -q
	$(PYTHON) -m uv pip compile requirements/runtime.in --generate-hashes --python $(PYTHON) --python-platform aarch64-manylinux_2_28 -o lambdas/requirements.txt -q

demo: $(STAMP) ## whole ID calls for two municipalities on the embedded dev stack (no AWS account needed)
	$(PY) -m devstack.demo

test: $(STAMP) system-deps widget-build ## lint, mypy, flow lint + every test suite (unit, integration, e2e, flows, IaC, privacy, browser, bench smoke)
	$(MAKE) lint
	$(MAKE) typecheck
	$(MAKE) lint-flows
	$(PY) -m pytest -q -p no:cacheprovider tests
	$(MAKE) mutate-fast

mutate: $(STAMP) ## mutation testing of the privacy rules (mutmut; survivors killed or in tests/privacy/equivalent_mutants.txt; GROUPS="redaction binding")
	env -u PYTHONPATH $(PY) -m tests.privacy.mutate $(GROUPS)

mutate-fast: $(STAMP) ## the redaction and binding groups of make mutate only (make test runs these)
	env -u PYTHONPATH $(PY) -m tests.privacy.mutate --fast

test-fast: $(STAMP) ## unit + integration + e2e only (no browser)
	$(PY) -m pytest -q -p no:cacheprovider tests/unit tests/integration tests/e2e

lint-flows: $(STAMP) ## lint the Amazon Connect flows in contact_flows/ (structure + our rules)
	$(PY) -m contact_flows.lint

lint: $(STAMP) ## ruff lint + format check
	$(VENV)/bin/ruff check lambdas devstack contact_flows iac tests bench idbellen_report
	$(VENV)/bin/ruff format --check lambdas devstack contact_flows iac tests bench idbellen_report

fmt: $(STAMP) ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix lambdas devstack contact_flows iac tests bench idbellen_report
	$(VENV)/bin/ruff format lambdas devstack contact_flows iac tests bench idbellen_report

typecheck: $(STAMP) ## mypy --strict on the Lambda package and the report
	$(VENV)/bin/mypy

# -- widget (agent panel + citizen page) and the browser tests --------------------------------------
WIDGET_NPM_STAMP := widget/node_modules/.installed-$(shell cat widget/package-lock.json | sha256sum | cut -c1-12)
WIDGET_SRC := $(shell find widget/src -name '*.ts') widget/build.mjs widget/tsconfig.json

$(WIDGET_NPM_STAMP): widget/package.json widget/package-lock.json
	@command -v npm >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }
	cd widget && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

widget/dist/csp.json: $(WIDGET_NPM_STAMP) $(WIDGET_SRC)
	cd widget && npx --no-install tsc --noEmit -p tsconfig.json && node build.mjs

widget-deps: $(WIDGET_NPM_STAMP) ## npm ci the widget's pinned packages (widget/package-lock.json)

widget-build: widget/dist/csp.json ## typecheck the widget against the SDKs' TypeScript definitions and build widget/dist/

/usr/bin/chromium:
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

system-deps: /usr/bin/chromium ## Debian's Chromium for the browser tests (apt-get only when it is missing)

serve: $(STAMP) widget-build ## the whole system on http://127.0.0.1:8080 to click through (PORT=8080)
	$(PY) -m devstack.serve --port $(or $(PORT),8080)

report: $(STAMP) ## evaluation report from CloudWatch: TENANT=<id> FROM=YYYY-MM [TO=YYYY-MM] [ARGS="--pdf ..."] -> build/report/
	@test -n "$(TENANT)" -a -n "$(FROM)" || { echo "usage: make report TENANT=<tenant id> FROM=YYYY-MM [TO=YYYY-MM] [ARGS='--pdf --min-count 5']"; exit 2; }
	$(PY) -m idbellen_report --tenant $(TENANT) --from $(FROM) $(if $(TO),--to $(TO)) $(ARGS)

report-demo: $(STAMP) ## a month of dev-stack traffic for two tenants, then their reports in build/report/ (MONTH=YYYY-MM)
	$(PY) -m devstack.report_demo $(if $(MONTH),--month $(MONTH))

fuzz: $(STAMP) ## thousands of hostile events per handler (HYPOTHESIS_PROFILE=fuzz), then the full guess hit-rate measurement
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -p no:cacheprovider tests/fuzz
	$(PY) bench/abuse_hit_rate.py --sessions 1000 --digits 8 --minutes 60

bench: $(STAMP) ## budgets vs the dev stack: bench/results.json, RESULTS.md, latency.png (bench/README.md)
	$(PY) -m bench.run

# --- deployment (iac/): aws-sam-cli in its own venv, from its own hash-pinned lock ---------------
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cat requirements/sam.lock | sha256sum | cut -c1-12)
SAM := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=eu-central-1 PATH=$(CURDIR)/$(SAM_VENV)/bin:$$PATH $(CURDIR)/$(SAM_VENV)/bin/sam

$(SAM_STAMP): requirements/sam.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found (set PYTHON=/path/to/python3.12)"; exit 1; }
	rm -rf $(SAM_VENV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/sam.lock
	touch $@

.PHONY: sam-venv validate-iac iac-flows
sam-venv: $(SAM_STAMP) ## create .venv-sam/ (aws-sam-cli) from requirements/sam.lock

iac-flows: $(STAMP) ## fold contact_flows/*.json into iac/template.yaml and iac/tenant.yaml (AWS::Connect::ContactFlow resources)
	$(PY) -m iac.flows

validate-iac: $(STAMP) $(SAM_STAMP) ## cfn-lint + sam validate --lint (offline) + cfn-lint of the SAM-transformed template and of iac/tenant.yaml
	$(PY) -m iac.flows --check
	$(VENV)/bin/cfn-lint --regions eu-central-1 --include-checks I -- iac/template.yaml
	$(VENV)/bin/cfn-lint --regions eu-central-1 --include-checks I -- iac/tenant.yaml
	cd iac && $(SAM) validate --lint --region eu-central-1 --template-file tenant.yaml
	cd iac && $(SAM) validate --lint --region eu-central-1
	mkdir -p build/iac
	$(SAM_VENV)/bin/python iac/translate.py iac/template.yaml > build/iac/template.transformed.json
	$(VENV)/bin/cfn-lint --regions eu-central-1 --include-checks I -- build/iac/template.transformed.json

build: $(STAMP) $(SAM_STAMP) ## sam build (arm64 wheels from PyPI, no Docker) + the Lambda zip in build/, with its size
	$(PY) -m iac.flows --check
	rm -rf .aws-sam/build
	cd iac && $(SAM) build --template-file template.yaml --build-dir ../.aws-sam/build --region eu-central-1
	mkdir -p build
	$(PY) -m iac.artifact .aws-sam/build build/idbellen-lambdas.zip

clean: ## remove the venv and build output
	rm -rf $(VENV) .aws-sam build .pytest_cache
