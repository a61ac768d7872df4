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

.PHONY: lab test setup browser-deps unit notebooks browser course-test outputs course student lecture \
        bench-notebooks lint clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "memlib needs Python 3.10 or newer"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (memlib)" >/dev/null
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab --port=$(PORT) notebooks/

# the student copies (solutions stubbed) and the lecture-mode copies (demo cells, fast budget, big fonts)
student: setup
	$(BIN)/jupyter lab --port=$(PORT) student/

lecture: setup
	$(BIN)/jupyter lab --port=$(PORT) lecture/

browser-deps:
	@bash tools/ensure_chromium.sh

test: setup browser-deps
	$(TEST_ENV) $(PY) -m pytest tests notebooks $(NBVAL)

unit: setup
	$(TEST_ENV) $(PY) -m pytest tests -m "not browser and not slow"

notebooks: setup
	$(TEST_ENV) $(PY) -m pytest notebooks $(NBVAL)

browser: setup browser-deps
	$(TEST_ENV) $(PY) -m pytest tests/browser -m browser

course-test: setup
	$(TEST_ENV) $(PY) -m pytest tests/test_course.py tests/test_check.py

# Re-run every notebook in place in full mode (what learners read), tidy the stored outputs,
# then regenerate the student and lecture copies (they carry the same outputs).
outputs: setup
	TQDM_DISABLE=1 $(PY) tools/run_notebooks.py notebooks/*.ipynb
	$(MAKE) course

course: setup
	$(PY) -m memlib course student-notebooks --out student
	$(PY) -m memlib course lecture --out lecture

bench-notebooks: setup
	TQDM_DISABLE=1 $(PY) benchmarks/notebooks.py

lint: setup
	$(BIN)/ruff check memlib tests tools benchmarks

clean:
	rm -rf $(VENV) build *.egg-info test-reports
