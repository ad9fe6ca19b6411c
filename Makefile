# Two commands from a fresh clone:  make reports  |  make test
# Both create .venv if missing, install the package with pinned dependencies and fetch the data.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install data reports council-reports test test-fast lint lab explore kernel pair param-cells browser screenshot \
	register bench constraints clean-reports help

help:
	@echo "make reports  - set up, fetch data, render every notebook into reports/"
	@echo "make council-reports - one council profile per current council (batch)"
	@echo "make test     - set up, fetch data (if reachable), run the whole test suite"
	@echo "make lab      - open JupyterLab on notebooks/ (with your scratch folder, notebooks/scratch/)"
	@echo "make explore  - serve the explorers as dashboards (Voila, code hidden) on http://127.0.0.1:8866/"
	@echo "make lint     - ruff, and the notebook checks (thin, no outputs, typed parameters cells, pairs agree)"
	@echo "make kernel   - register the 'uk-reform-analysis' kernel for an existing JupyterLab or JupyterHub"
	@echo "make pair     - rewrite each notebook's paired .py (jupytext, percent format) from the .ipynb"
	@echo "make param-cells - rewrite each report's parameters cell from its typed model, then re-pair"
	@echo "make browser  - install Chromium and its driver (Debian/Ubuntu, for the browser test)"
	@echo "make screenshot - refresh docs/explore.png with the browser test"
	@echo "make register - regenerate docs/data_register.md from data/catalogue.yml"
	@echo "make bench    - run the benchmarks in benchmarks/"

$(STAMP): pyproject.toml requirements/constraints.txt requirements/reference.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps -r requirements/reference.txt
	@touch $(STAMP)

install: $(STAMP)

data: install
	$(BIN)/python -m analysis data fetch

reports: data
	$(BIN)/python -m analysis run

# One council profile per current council: the manifest is rebuilt from the data each time.
council-reports: data
	$(BIN)/python -m analysis councils --out build/councils.csv
	$(BIN)/python -m analysis run council_profile --batch build/councils.csv $(RUN_ARGS)

# Tests need the data: fetch it if the network or ANALYSIS_DATA_MIRROR allows; otherwise the
# data tests skip with a reason (and fail under CI=true).
test: install lint
	-@$(BIN)/python -m analysis data fetch > /dev/null || echo "note: data not reachable; data tests will skip (set ANALYSIS_DATA_MIRROR)"
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not e2e"

# ruff, then the notebook checks the tests also run (thin notebooks, no outputs, typed parameters cells,
# jupytext pairs that agree). notebooks/scratch/ is yours: never checked, never committed.
lint: install
	$(BIN)/ruff check .
	$(BIN)/python -m analysis.workbench check

lab: install
	@mkdir -p notebooks/scratch
	$(BIN)/jupyter lab --notebook-dir=notebooks

# The explorers as dashboards; EXPLORE_ARGS="value_for_money --port 9000" serves one on another port.
explore: data
	$(BIN)/python -m analysis.explore serve $(EXPLORE_ARGS)

# A named kernel for an existing JupyterLab/JupyterHub: KERNEL_ARGS="--sys-prefix" or "--prefix DIR" to install elsewhere.
kernel: install
	$(BIN)/python -m analysis.workbench kernel $(KERNEL_ARGS)

pair: install
	$(BIN)/python -m analysis.workbench pair

param-cells: install
	$(BIN)/python -m analysis.workbench param-cells
	$(BIN)/python -m analysis.workbench pair

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if command -v chromium > /dev/null 2>&1 && command -v chromedriver > /dev/null 2>&1; then \
		echo "chromium and chromedriver are installed"; \
	elif command -v apt-get > /dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "install Chromium and its WebDriver with your package manager (Debian: apt-get install chromium chromium-driver)"; exit 1; \
	fi

screenshot: data
	ANALYSIS_SCREENSHOT=docs/explore.png $(BIN)/python -m pytest -q tests/e2e/test_explore_browser.py

register: install
	$(BIN)/python -m analysis data register

bench: install
	$(BIN)/python benchmarks/bench_explore.py
	$(BIN)/python benchmarks/bench_montecarlo.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_synth.py

constraints: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v uk-reform-analysis > requirements/constraints.txt

clean-reports:
	rm -rf reports/*/ reports/.partial-* reports/latest
