# Two entry points on a fresh machine (Python 3.11+, git, make):
#   make demo        runs sfops's main job against the local emulator
#   make demo-shell  afterwards: a shell with `sfops` on PATH, on the demo's org (emulator restarted)
#   make test        runs the whole test suite
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo demo-shell test lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(PY) scripts/demo.py

demo-shell: $(VENV)/.installed
	$(PY) scripts/demo_shell.py

test: lint
	$(PY) -m pytest -q -rs -p no:cacheprovider

# The static checks: style, types ([tool.mypy]; the emulator's remaining errors may only go down),
# layering ([tool.importlinter]: docs/architecture.md's arrows on the real import graph), and the one
# code format (`ruff format` fixes it).
lint: $(VENV)/.installed
	$(PY) -m ruff check sfops tests scripts benchmarks
	$(PY) -m ruff format --check sfops tests scripts benchmarks
	$(PY) -m mypy
	$(PY) scripts/mypy_emulator.py
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
