# The two set-up commands: `make demo` and `make test`. Each creates .venv and installs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0

.PHONY: demo test bench experiments clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/seqrecipes demo

# One pytest worker per core, each test file on one worker (its module fixtures are built once).
test: $(VENV)/.installed
	$(PY) -m pytest -q -n auto --dist loadfile tests

# The CPU benchmarks; benchmarks/*_gpu.py run on a GPU machine with Keras on JAX (see their docstrings).
bench: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench-ngram,bench-gpt,bench-word2vec,bench-translation]'
	for f in $(filter-out %_gpu.py,$(wildcard benchmarks/*.py)); do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
