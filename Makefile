# trailforensics: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DATASET := demo-dataset

.PHONY: demo test bench bench-scale lint docs sample clean smoke smoke-min

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,sigma,spark]'
	touch $(STAMP)

TF := $(VENV)/bin/trailforensics

# The main job on the sample incident (sample_logs/README.md tells the story).
# `verify` exits non-zero on purpose: the attacker deleted a log file.
demo: $(STAMP)
	rm -rf $(DEMO_DATASET)
	$(TF) ingest sample_logs -d $(DEMO_DATASET)
	$(TF) summary -d $(DEMO_DATASET) --top 5
	$(TF) timeline -d $(DEMO_DATASET) --access-key AKIA5DKW7QHNMV2XRP4L --since 2026-03-10T02:00:00Z --until 2026-03-10T03:00:00Z
	$(TF) hunt -d $(DEMO_DATASET) --min-severity high
	-$(TF) verify sample_logs --public-keys sample_logs/_verification/public-keys.json -d $(DEMO_DATASET)
	$(TF) trails -d $(DEMO_DATASET) --view findings
	$(TF) report -d $(DEMO_DATASET) -o $(DEMO_DATASET)/case-report.html --title "Metrolio incident (sample)"
	@echo "incident report: $(abspath $(DEMO_DATASET)/case-report.html)"

test: $(STAMP)
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(PY) -m trailforensics.bench

# 10 M events (generated once into .bench): time and peak RSS per command, DuckDB-native baseline.
bench-scale: $(STAMP)
	$(PY) -m trailforensics.bench --scale

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

docs: $(STAMP)
	$(PY) -m trailforensics.docs

# Rebuild sample_logs/ from its storyline (tools/sample/, not part of the package). Log files and the
# README come out byte-for-byte the same; digest signatures change (the signing key is ephemeral).
sample: $(STAMP)
	$(PY) -m tools.sample sample_logs

clean:
	rm -rf $(VENV) .venv-min $(DEMO_DATASET) .bench .pytest_cache .mypy_cache .ruff_cache

# The smoke test of .ci/run on this checkout's venv, and with the declared minimum of every dependency.
smoke: $(STAMP)
	.ci/smoke $(TF)

smoke-min:
	rm -rf .venv-min && $(PYTHON) -m venv .venv-min
	.venv-min/bin/python -m pip install --quiet --upgrade pip
	.venv-min/bin/python -m pip install --quiet --only-binary :all: $$($(PYTHON) .ci/min_versions.py pyproject.toml)
	.venv-min/bin/python -m pip install --quiet --no-deps .
	.ci/smoke .venv-min/bin/trailforensics
