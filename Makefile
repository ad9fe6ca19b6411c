# Two commands from a fresh clone:  make reports  |  make test
# Both create .venv if missing, install the package with pinned dependencies and fetch the data.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install data reports council-reports test test-fast lab register bench constraints clean-reports help

help:
	@echo "make reports  - set up, fetch data, render every notebook into reports/"
	@echo "make council-reports - one council profile per current council (batch)"
	@echo "make test     - set up, fetch data (if reachable), run the whole test suite"
	@echo "make lab      - open JupyterLab on notebooks/ with the package importable"
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
test: install
	-@$(BIN)/python -m analysis data fetch > /dev/null || echo "note: data not reachable; data tests will skip (set ANALYSIS_DATA_MIRROR)"
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not e2e"

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks

register: install
	$(BIN)/python -m analysis data register

bench: install
	$(BIN)/python benchmarks/bench_montecarlo.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_synth.py

constraints: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v uk-reform-analysis > requirements/constraints.txt

clean-reports:
	rm -rf reports/*/ reports/.partial-* reports/latest
