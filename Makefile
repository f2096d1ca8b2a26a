# The README's commands: `make demo`, `make test`, `make lint`. Each installs what it needs first.
.PHONY: demo lab test test-fast lint docs build bench setup

# Jupyter refuses to start as root ("Running as root is not recommended") unless told to; root is
# the default user in containers, where `make lab` must still start. The server listens on
# 127.0.0.1 only and asks for its token either way.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# extra JupyterLab options, e.g. make lab LAB_ARGS="--no-browser --port=8890"
LAB_ARGS ?=

demo:
	scripts/setup.sh --demo
	.venv/bin/python -m lrwidget demo --report lrwidget-report.html

# JupyterLab saves the notebooks it opens: it opens copies in lab/ (ignored by git), so the
# committed notebooks/ stay as generated. A copy already there is kept (your edits are yours);
# delete lab/ for fresh ones.
lab:
	scripts/setup.sh
	mkdir -p lab
	for nb in notebooks/*.ipynb; do test -e "lab/$${nb#notebooks/}" || cp "$$nb" lab/; done
	.venv/bin/python -m jupyterlab --ServerApp.ip=127.0.0.1 $(ALLOW_ROOT) $(LAB_ARGS) lab/quickstart.ipynb

# Two pytest workers (pytest-xdist), one per core of a small CI machine; the xdist groups of
# tests/conftest.py keep torchrun jobs and timed tests one at a time, and the browser tests on one
# worker (one JupyterLab, one Chromium). TEST_WORKERS=0: in series. --durations: CI's log
# names the 30 slowest tests. compileall first: where PYTHONDONTWRITEBYTECODE is set (CI machines
# set it) each of the ~130 Python processes the suite starts (jobs, torchrun ranks, kernels) would
# compile lrwidget's modules anew (0.1-0.2 CPU-s each).
TEST_WORKERS ?= 2
test:
	scripts/setup.sh --browser
	.venv/bin/python -m compileall -q -j 0 lrwidget tests
	CI=$${CI:-true} .venv/bin/python -m pytest -q -n $(TEST_WORKERS) --durations=30

# the pure tests: no browser, no other process, no training framework, nothing slow (markers:
# pyproject.toml); make test runs them all
test-fast:
	.venv/bin/python -m pytest -q -m "not browser and not process and not framework and not slow"

# ruff (lint and format), mypy (strict on the pure modules), biome (js/) and the docs site.
# setup.sh installs ruff, mypy and mkdocs (the dev extra) into a .venv that lacks them; npm ci
# brings biome when missing.
lint:
	scripts/setup.sh
	test -x node_modules/.bin/biome || npm ci --silent --no-audit --no-fund
	.venv/bin/python -m ruff check .
	.venv/bin/python -m ruff format --check .
	.venv/bin/python -m mypy
	npm run --silent lint
	$(MAKE) --no-print-directory docs

# the site (mkdocs.yml) into site/, ignored by git; --strict: a broken link, #anchor or API
# reference fails it (never --quiet: it hides the warnings from --strict too). Material's banner
# about MkDocs 2 would print at every build.
docs:
	NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict

setup:
	scripts/setup.sh

build:
	npm run build

bench:
	.venv/bin/python benchmarks/overhead.py
	.venv/bin/python benchmarks/stream.py
	.venv/bin/python benchmarks/draw.py
