# Event Sourcery — developer commands. `make test` and `make demo` work on a fresh machine
# with only Python 3.10+ and make: the first run creates .venv and installs everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINT_PATHS := src tests examples bench

.PHONY: install lint format test test-fast demo bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

test: lint
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage report

test-fast: install
	$(BIN)/pytest -x -q $(PYTEST_ARGS)

demo: install
	$(BIN)/python -m examples.bank

bench: install
	$(BIN)/python -m bench.run

docs: install
	$(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .coverage .mypy_cache .pytest_cache .ruff_cache site
