# make demo: install what running needs from uv.lock into .venv, run the baseline scenario
# make test: install with the dev extra from uv.lock into .venv and run the tests, ruff and mypy
# make lock: refresh uv.lock to the newest versions that pyproject.toml allows (then commit it)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PYTHON ?= $(shell command -v python3.12 || command -v python3)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint lock clean chromium install-run install-dev

# uv itself, pinned with hashes in requirements/uv.txt, in a small venv of its own
$(UV): requirements/uv.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null || { \
	  echo "error: greatgame needs Python 3.12 or newer; found '$(PYTHON)' ($$($(PYTHON) --version 2>&1))."; \
	  echo "       Install Python 3.12 (pyenv: 'pyenv install 3.12') or run: make PYTHON=/path/to/python3.12 ..."; \
	  exit 1; }
	@echo "make: creating $(TOOLS) (uv, pinned in requirements/uv.txt)"
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/uv.txt
	@touch $@

install-run: $(UV)
	@echo "make: creating or updating $(VENV) from uv.lock (runtime packages only)"
	@$(UV) sync --locked --no-dev --python $(PYTHON)

install-dev: $(UV)
	@echo "make: creating or updating $(VENV) from uv.lock (with the dev extra)"
	@$(UV) sync --locked --extra dev --python $(PYTHON)

demo: install-run
	@echo "make: running baseline (20 runs) into results/baseline_2022"
	$(VENV)/bin/greatgame run scenarios/baseline_2022.yaml --seed 1 --replicates 20 --out results/baseline_2022 --force

test: install-dev chromium
	@echo "make: running the tests"
	$(PY) -m pytest
	@echo "make: running ruff"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@echo "make: running mypy"
	$(VENV)/bin/mypy

lock: $(UV)
	$(UV) lock --upgrade --python $(PYTHON)

# headless Chromium and its WebDriver for the browser tests (tests/test_report.py,
# tests/test_dashboard.py); Debian's packages, as root only
chromium:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing Debian's chromium and chromium-driver"; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; \
	  else echo "note: chromium or chromedriver not installed; the browser tests will be skipped"; fi; }

clean:
	rm -rf $(VENV) $(TOOLS) results .pytest_cache .mypy_cache
