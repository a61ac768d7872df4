# memlib: two commands from a fresh clone (see README):
#   make lab    set up and open the suite in JupyterLab
#   make test   set up and run every test (unit tests, nbval over the notebooks, browser test)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888

# what the tests run under: the fast budget, no progress-bar timings, one thread
TEST_ENV := MEMLIB_FAST=1 TQDM_DISABLE=1 OMP_NUM_THREADS=1 MPLBACKEND=Agg
NBVAL    := --nbval --nbval-current-env --nbval-cell-timeout=600 --nbval-sanitize-with tools/nbval_sanitize.cfg

.PHONY: lab test setup browser-deps unit notebooks outputs lint clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "memlib needs Python 3.10 or newer"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (memlib)" >/dev/null
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) notebooks/

browser-deps:
	@bash tools/ensure_chromium.sh

test: setup browser-deps
	$(TEST_ENV) $(PY) -m pytest tests notebooks $(NBVAL)

unit: setup
	$(TEST_ENV) $(PY) -m pytest tests -m "not browser"

notebooks: setup
	$(TEST_ENV) $(PY) -m pytest notebooks $(NBVAL)

# Re-run every notebook in place in full mode (what learners read) and tidy the stored outputs.
outputs: setup
	TQDM_DISABLE=1 $(PY) tools/run_notebooks.py notebooks/*.ipynb

lint: setup
	$(BIN)/ruff check memlib tests tools benchmarks

clean:
	rm -rf $(VENV) build *.egg-info test-reports
