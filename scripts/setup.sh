#!/usr/bin/env bash
# Installs everything lrwidget's demo and tests need on a fresh Debian machine, idempotently.
#   scripts/setup.sh          Python venv (.venv) with torch (CPU), the package and its dev extras
#   scripts/setup.sh --browser  also Debian's chromium (for the browser tests) and the npm build tools
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
# torch first, pinned to the CPU wheel that lies on this kind of machine: a bare `torch` would pull a CUDA build.
if ! $VPY -c "import torch" 2>/dev/null; then
  $VPY -m pip install -q --disable-pip-version-check "torch==${TORCH_VERSION:-2.13.0}"
fi
if ! $VPY -c "import lrwidget, jupyterlab, playwright, sklearn" 2>/dev/null; then
  $VPY -m pip install -q --disable-pip-version-check -e ".[dev]"
fi
if [ "${1:-}" = "--browser" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -d node_modules ]; then
    npm ci --silent --no-audit --no-fund
  fi
fi
