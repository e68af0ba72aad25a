# make demo: install into .venv, run the baseline scenario, write results/baseline_2022/
# make test: install with the dev extra into .venv and run the tests (and ruff)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.12 || command -v python3)
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint clean chromium

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null || { \
	  echo "error: greatgame needs Python 3.12 or newer; found '$(PYTHON)' ($$($(PYTHON) --version 2>&1))."; \
	  echo "       Install Python 3.12 (pyenv: 'pyenv install 3.12') or run: make PYTHON=/path/to/python3.12 ..."; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(VENV)/bin/greatgame run scenarios/baseline_2022.yaml --seed 1 --replicates 20 --out results/baseline_2022 --force

test: $(STAMP) chromium
	$(PY) -m pytest
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# headless Chromium for the report test (tests/test_report.py); Debian's package, as root only
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "note: chromium not installed; the report's browser test will be skipped"; fi; }

clean:
	rm -rf $(VENV) results .pytest_cache
