# The two commands of the README: `make demo` and `make test`. Each installs what it needs first.
.PHONY: demo lab test test-fast build bench setup

# Jupyter refuses to start as root ("Running as root is not recommended") unless told to; root is
# the default user in containers, where `make lab` must still start. The server listens on
# 127.0.0.1 only and asks for its token either way.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# extra JupyterLab options, e.g. make lab LAB_ARGS="--no-browser --port=8890"
LAB_ARGS ?=

demo:
	scripts/setup.sh --demo
	.venv/bin/python -m lrwidget demo --report lrwidget-report.html

lab:
	scripts/setup.sh
	.venv/bin/python -m jupyterlab --ServerApp.ip=127.0.0.1 $(ALLOW_ROOT) $(LAB_ARGS) notebooks/quickstart.ipynb

test:
	scripts/setup.sh --browser
	CI=$${CI:-true} .venv/bin/python -m pytest -q

test-fast:
	.venv/bin/python -m pytest -q -m "not browser"

setup:
	scripts/setup.sh

build:
	npm run build

bench:
	.venv/bin/python benchmarks/overhead.py
	.venv/bin/python benchmarks/stream.py
	.venv/bin/python benchmarks/draw.py
