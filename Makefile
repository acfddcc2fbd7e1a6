# Two commands do all set-up on a fresh machine with only Python 3.11+:
#   make run    the app (opens on the bundled demo dataset)
#   make test   the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/automl-studio gui $(ARGS)

test: $(STAMP)
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check engine gui tests benchmarks
	$(BIN)/lint-imports

screenshots: $(STAMP)
	$(BIN)/python packaging/screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
