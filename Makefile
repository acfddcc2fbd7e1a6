# Two commands do all set-up on a fresh machine with only Python 3.11+:
#   make run    the app (opens on the bundled demo dataset)
#   make test   the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The suite is long (~85 min of work on 2 cores): it runs on two workers (pytest-xdist, one test
# file at a time per worker, tests/conftest.py) and names its slowest tests at the end.
PYTEST_ARGS ?= -n 2 --dist loadgroup --durations=30

.PHONY: run test lint typecheck bench bench-summary screenshots review-screenshots bundle clean

# mypy resolves automl_studio.engine/gui through a tree of links (the editable install maps
# the folders with an import hook mypy cannot follow).
MYPY_TREE := build/mypy/automl_studio

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/automl-studio gui --demo $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check engine gui tests benchmarks packaging
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory typecheck
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check engine gui tests benchmarks packaging
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory typecheck

typecheck: $(STAMP)
	@mkdir -p $(MYPY_TREE)
	@for d in engine gui resources; do ln -sfn ../../../$$d $(MYPY_TREE)/$$d; done
	MYPYPATH=build/mypy $(BIN)/mypy -p automl_studio.engine -p automl_studio.gui

# BENCHMARKS.md's summary table, rebuilt from benchmarks/results/*.json (runs no benchmark).
bench-summary:
	$(PYTHON) benchmarks/summary.py

# Under Xvfb (a real X server and window manager-less desktop) when installed, else offscreen.
screenshots: $(STAMP)
	@if command -v xvfb-run >/dev/null 2>&1; then run='xvfb-run -a -s "-screen 0 1600x1000x24 -dpi 96"'; \
	else run='env QT_QPA_PLATFORM=offscreen'; fi; \
	eval $$run $(BIN)/python packaging/screenshots.py && eval $$run $(BIN)/python packaging/editor_screenshots.py

# Every screen at 1024×700 and at 2560×1440 (scale 2), for a layout review: build/review-screenshots/.
review-screenshots: $(STAMP)
	xvfb-run -a -s "-screen 0 2600x1500x24 -dpi 96" $(BIN)/python packaging/review_screenshots.py build/review-screenshots/1024x700 1024 700
	QT_SCALE_FACTOR=2 xvfb-run -a -s "-screen 0 2600x1500x24 -dpi 96" $(BIN)/python packaging/review_screenshots.py build/review-screenshots/2560x1440 1280 720

# A one-folder desktop bundle, dist/automl-studio/ (automl-studio-gui, automl-studio): PyInstaller
# is installed into .venv here, for this target only (it is no dependency of the app).
bundle: $(STAMP)
	$(BIN)/python -m pip install --quiet "pyinstaller>=6.10"
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/automl-studio.spec

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
