# The two commands of the README: `make demo` and `make test`. Each installs what it needs first.
.PHONY: demo lab test test-fast build bench setup

demo:
	scripts/setup.sh
	.venv/bin/python -m lrwidget demo --report lrwidget-report.html

lab:
	scripts/setup.sh
	.venv/bin/python -m jupyterlab --ServerApp.ip=127.0.0.1 notebooks/quickstart.ipynb

test:
	scripts/setup.sh --browser
	CI=$${CI:-true} .venv/bin/python -m pytest -q

test-fast:
	.venv/bin/python -m pytest -q -m "not browser"

build:
	npm run build

bench:
	.venv/bin/python benchmarks/overhead.py
	.venv/bin/python benchmarks/stream.py
	.venv/bin/python benchmarks/draw.py
