# Two commands on a fresh machine: `make run` and `make test`. Both set themselves up first.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed-stamp
CONFIG ?= pipeline/configs/taxi.yaml

# TFX 1.16 needs Python 3.10: the first of python3.10 on PATH or pyenv's 3.10s that really runs
# (a pyenv shim can be on PATH without its version being active).
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d "$$(pyenv root 2>/dev/null)"/versions/3.10.*/bin/python 2>/dev/null | sort -V -r); do \
  if "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then command -v "$$p"; break; fi; done)

.PHONY: setup system run test test-fast lint format schema-infer clean

setup: $(STAMP)

# Re-installs only when setup.py or the lock file changes.
$(STAMP): setup.py pyproject.toml requirements.lock
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "tfxp needs Python 3.10 (TFX 1.16 supports < 3.11). Install it, e.g. 'pyenv install 3.10', or put python3.10 on PATH." >&2; \
	  exit 1; fi
	@echo "Setting up $(VENV) with $(PYTHON310)"
	@[ -x $(VENV)/bin/python ] || $(PYTHON310) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tfxp run --backfill --config $(CONFIG)

# Debian packages the tests use: a real browser for the report pages, Graphviz's `dot` for
# lineage pictures. Installed when missing (as root, or through sudo); nothing else is.
system:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing (Debian packages the tests use)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "tfxp's tests need$$missing: run 'apt-get install$$missing' as root" >&2; exit 1; fi; \
	  $$SUDO apt-get install -y --no-install-recommends $$missing >/dev/null \
	    || { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y --no-install-recommends $$missing >/dev/null; }; \
	fi

# Tests run on one worker per core (at most 4), each test beside those sharing its fixtures.
PYTEST := $(VENV)/bin/python -m pytest -n auto --maxprocesses=4 --dist loadgroup --no-loadscope-reorder

# Lint and format checks first (seconds), then every test: CI runs exactly this.
test: system lint
	$(PYTEST) tests --durations=25

# The unit tests alone (about a minute): the end-to-end ones are marked slow.
test-fast: $(STAMP)
	$(PYTEST) tests -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

schema-infer: $(STAMP)
	$(VENV)/bin/tfxp schema infer --config $(CONFIG)

clean:
	rm -rf outputs
