# trailforensics: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DATASET := demo-dataset

.PHONY: demo test bench lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,sigma]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DATASET)
	$(VENV)/bin/trailforensics ingest sample_logs -d $(DEMO_DATASET)
	$(VENV)/bin/trailforensics summary -d $(DEMO_DATASET)
	$(VENV)/bin/trailforensics timeline -d $(DEMO_DATASET) --access-key AKIA5DKW7QHNMV2XRP4L --limit 40
	$(VENV)/bin/trailforensics hunt -d $(DEMO_DATASET) --min-severity medium
	-$(VENV)/bin/trailforensics verify sample_logs --public-keys sample_logs/_verification/public-keys.json

test: $(STAMP)
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(PY) -m trailforensics.bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

docs: $(STAMP)
	$(PY) -m trailforensics.docs

clean:
	rm -rf $(VENV) $(DEMO_DATASET) .bench .pytest_cache .mypy_cache .ruff_cache
