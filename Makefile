# Entry points: `make demo` runs the whole workflow on a local AWS emulator, `make test` runs the
# test suite. Both set up what they need (virtual environment, Terraform toolchain) on first use:
# `make demo` only what the demo needs (requirements-demo.txt), `make test` and the other
# development targets the test and lint tools on top (requirements-dev.txt). A marker file in
# .venv records each set, so each is installed once (and again when its requirements change).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TOOLCHAIN := .toolchain
CHECKOV   := $(TOOLCHAIN)/checkov-venv/bin/checkov

# Terraform: a real `terraform` on PATH wins; otherwise the launcher that tools/toolchain.py
# writes over the embedded Terraform. The AWS provider always comes from the local mirror.
export TF_CLI_CONFIG_FILE := $(CURDIR)/$(TOOLCHAIN)/terraform.rc
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH):$(CURDIR)/$(TOOLCHAIN)/bin
export TF_IN_AUTOMATION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup demo-setup demo demo-stop test test-lane-python test-lane-terraform test-fast lint fmt lambda lambda-check checkov clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(TOOLCHAIN)/terraform.rc ## virtual environment (demo, test and lint tools) + Terraform toolchain

demo-setup: $(VENV)/.demo-installed $(TOOLCHAIN)/terraform.rc ## what `make demo` needs, nothing more

# --no-compile: Python compiles what the demo imports on first use, not all of botocore and awscli.
# The project itself with its emulator extra, resolved together with the pins it must agree with.
$(VENV)/.demo-installed: requirements-demo.txt requirements-lambda.txt pyproject.toml
	@echo "==> Installing the demo's Python packages into $(VENV) (once; about 30 s)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --no-compile -r requirements-demo.txt -e '.[emulator]'
	@touch $@

$(VENV)/.installed: $(VENV)/.demo-installed requirements-dev.txt
	@echo "==> Installing the test and lint tools into $(VENV) (once)"
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

$(TOOLCHAIN)/terraform.rc: tools/toolchain.py $(VENV)/.demo-installed
	@echo "==> Setting up the Terraform toolchain in $(TOOLCHAIN): Terraform and the AWS provider (once)"
	$(PY) tools/toolchain.py --root $(TOOLCHAIN) > /dev/null

# checkov gets a virtual environment of its own: its pinned dependencies clash with moto's.
$(CHECKOV):
	$(PYTHON) -m venv $(TOOLCHAIN)/checkov-venv
	$(TOOLCHAIN)/checkov-venv/bin/pip install -q checkov==3.3.30

# The demo's packages are installed without bytecode (--no-compile, above): the first run compiles
# what it imports and keeps it in .venv, even where PYTHONDONTWRITEBYTECODE is set, so that the
# next runs start without compiling botocore and moto again (about 1.5 s each).
demo: demo-setup ## deploy and run the whole workflow on a local AWS emulator
	PYTHONDONTWRITEBYTECODE= $(PY) -m smtune.demo $(DEMO_ARGS)

demo-stop: ## stop the emulator that `make demo` leaves running
	@$(PY) -m smtune.demo --stop

# moto keeps its state and settings per process, and the suites below start servers and patch
# moto in-process: each suite runs in a process of its own. The Terraform suite and the rest
# run side by side (two lanes, for two cores).
SUITES_PYTHON := tests/unit tests/tools tests/cli tests/emulator tests/workflow tests/demo

RESULTS := .test-results
PYTEST  := $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test: setup $(CHECKOV) ## run the whole test suite
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-lane-python test-lane-terraform
	@$(PY) tools/test_summary.py $(RESULTS)

# The IAM mutation runs (one workflow run per policy statement) balance the other lane.
IAM_MUTATIONS := tests/workflow/test_iam_mutations.py

test-lane-python:
	@set -e; for suite in $(SUITES_PYTHON); do \
	  echo "== $$suite"; $(PYTEST) --ignore=$(IAM_MUTATIONS) --junitxml=$(RESULTS)/$$(basename $$suite).xml $$suite; done

# The fault-injection runs (tests/faults) and the IAM mutation runs follow the Terraform suite
# in its lane.
test-lane-terraform:
	@set -e; echo "== tests/terraform"; $(PYTEST) --junitxml=$(RESULTS)/terraform.xml tests/terraform; \
	  echo "== tests/faults"; $(PYTEST) --junitxml=$(RESULTS)/faults.xml tests/faults; \
	  echo "== $(IAM_MUTATIONS)"; $(PYTEST) --junitxml=$(RESULTS)/iam-mutations.xml $(IAM_MUTATIONS)

test-fast: setup ## the unit tests only (no Terraform, no emulator)
	$(PYTEST) tests/unit tests/tools

# The same checks as .pre-commit-config.yaml.
lint: setup ## ruff, terraform fmt, the README's inputs tables and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	terraform fmt -check -recursive
	$(PY) tools/tfdocs.py --check
	$(VENV)/bin/mypy

fmt: setup ## format Python and Terraform
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	terraform fmt -recursive

lambda: setup ## rebuild the Lambda packages (both architectures)
	$(PY) lambda_src/build.py --arch x86_64
	$(PY) lambda_src/build.py --arch arm64

lambda-check: setup ## fail if a committed Lambda package differs from a fresh build
	$(PY) lambda_src/build.py --arch x86_64 --check
	$(PY) lambda_src/build.py --arch arm64 --check

# PLAN=plan.json (terraform show -json of a saved plan) scans that plan instead; the skips and
# their reasons are read from this repository's .tf files.
checkov: $(CHECKOV) ## static security checks of the Terraform, or of PLAN=plan.json (the test suite runs both)
ifdef PLAN
	BC_SKIP_MAPPING=TRUE $(CHECKOV) -f $(PLAN) --framework terraform_plan --quiet --compact --skip-download \
	  --repo-root-for-plan-enrichment $(CURDIR)
else
	BC_SKIP_MAPPING=TRUE $(CHECKOV) -d . --framework terraform --quiet --compact --skip-download \
	  --skip-path .toolchain --skip-path .venv
endif

clean: ## remove the virtual environment, the toolchain and demo state
	rm -rf $(VENV) $(TOOLCHAIN) .demo .pytest_cache $(RESULTS)
