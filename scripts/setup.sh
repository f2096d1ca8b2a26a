#!/usr/bin/env bash
# Installs what lrwidget needs on a fresh Debian machine, idempotently: a second run installs nothing.
#   scripts/setup.sh --demo      .venv with torch (CPU) and the package with its demo extra (scikit-learn)
#   scripts/setup.sh [--dev]     .venv with torch (CPU) and the package with its dev extra (tests, JupyterLab)
#   scripts/setup.sh --browser   --dev, plus Debian's chromium (browser tests) and the npm packages
#                                (build tools, VS Code's widget manager for the VS Code host test)
# PYTHON picks the interpreter for a new .venv (default python3), TORCH_VERSION the torch wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=dev
for arg in "$@"; do
  case "$arg" in
    --demo) mode=demo ;;
    --dev) mode=dev ;;
    --browser) mode=browser ;;
    -h|--help) sed -n '2,7p' "$0" | cut -c3-; exit 0 ;;
    *) echo "scripts/setup.sh: unknown option '$arg' (accepted: --demo, --dev, --browser)" >&2; exit 2 ;;
  esac
done
extra=dev
[ "$mode" = demo ] && extra=demo

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python

# package.json's "type": "module" reaches every .js file below it, the CommonJS ones inside .venv
# too (JupyterLab runs its yarn.js at each start): Node then prints a line of minified source and a
# stack trace. The nearest package.json decides, so .venv gets its own.
commonjs='{"type": "commonjs"}'
if [ "$(cat .venv/package.json 2>/dev/null)" != "$commonjs" ]; then
  printf '%s\n' "$commonjs" >.venv/package.json
fi
PIP=("$VPY" -m pip install -q --disable-pip-version-check)

# Exit 0 when everything pyproject.toml asks for (the base dependencies and the extra "$1") is
# installed at an accepted version, and lrwidget is installed editable from this checkout.
# Reads metadata only (no imports), so the check takes a fraction of a second. -I: the
# checkout itself (the working directory) must not count as installed.
satisfied() {
  "$VPY" -I - "$PWD" "$1" <<'PY'
import importlib.metadata as md
import importlib.util
import pathlib
import re
import sys

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare venv: pip's own copy
    from pip._vendor.packaging.requirements import Requirement
try:
    import tomllib
except ImportError:  # Python < 3.11
    try:
        import tomli as tomllib
    except ImportError:
        sys.exit(1)  # cannot tell: let pip decide

root, extra = pathlib.Path(sys.argv[1]), sys.argv[2]
project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
for line in project["dependencies"] + project["optional-dependencies"][extra]:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": extra}):
        continue
    try:
        have = md.version(req.name)
    except md.PackageNotFoundError:
        sys.exit(1)
    if not req.specifier.contains(have, prereleases=True):
        sys.exit(1)
init = root / "lrwidget" / "__init__.py"
wanted = re.search(r'^__version__ = "([^"]+)"', init.read_text(), re.M).group(1)
spec = importlib.util.find_spec("lrwidget")
try:
    installed = md.version("lrwidget")
except md.PackageNotFoundError:
    installed = None
ok = (installed == wanted and spec is not None and spec.origin is not None
      and pathlib.Path(spec.origin).resolve() == init.resolve())
sys.exit(0 if ok else 1)
PY
}

# Chromium (apt) and the npm packages download while Python's packages install: a fresh CI
# machine waits for the slower of the two, not for their sum.
apt_pid=""
npm_pid=""
if [ "$mode" = browser ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    apt_log=$(mktemp)
    ( $SUDO apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium ) >"$apt_log" 2>&1 &
    apt_pid=$!
  fi
  # npm ls fails when node_modules lacks a package package.json asks for (an older checkout)
  if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
    npm ci --silent --no-audit --no-fund &
    npm_pid=$!
  fi
fi

# uv installs in parallel and byte-compiles on every core (pip: one file at a time, most of the
# ~1.5 min torch takes on a fresh machine); it is fetched into .venv once. Where it cannot be had,
# pip does the same installs. --compile-bytecode: uv skips it by default, and with
# PYTHONDONTWRITEBYTECODE set (CI machines set it) every process would compile torch again.
have_uv() { [ -x .venv/bin/uv ] || "${PIP[@]}" uv >/dev/null 2>&1; }

# The CPU wheel of torch where pip's find-links (its config or PIP_FIND_LINKS) has one: uv is
# given the file itself, so that no index can offer it a CUDA build of the same version instead.
cpu_wheel() {
  local dirs ver=${TORCH_VERSION:-2.13.0} tag
  tag=$("$VPY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  dirs="${PIP_FIND_LINKS:-} $("$VPY" -m pip config get global.find-links 2>/dev/null || true)"
  for d in $dirs; do
    for f in "${d#file://}"/torch-"$ver"+cpu-"$tag"-*.whl; do
      if [ -f "$f" ]; then echo "$f"; return; fi
    done
  done
}

# torch first, pinned to the CPU wheel: a bare `torch` would pull a CUDA build.
if ! "$VPY" -I -c "import importlib.metadata as m; m.version('torch')" >/dev/null 2>&1; then
  echo "setup: installing torch==${TORCH_VERSION:-2.13.0} (CPU)"
  wheel=$(cpu_wheel)
  if [ -n "$wheel" ] && have_uv; then
    .venv/bin/uv pip install -q --compile-bytecode --python "$VPY" "$wheel"
  else
    "${PIP[@]}" "torch==${TORCH_VERSION:-2.13.0}"
  fi
fi
if ! satisfied "$extra"; then
  echo "setup: installing lrwidget (editable) with its $extra extra"
  # the torch installed above stays: a framework in the extra (lightning, transformers) may
  # otherwise make pip swap it for another build
  pin=$(mktemp); trap 'rm -f "$pin"' EXIT
  "$VPY" -I -c "import importlib.metadata as m; print('torch==' + m.version('torch'))" >"$pin"
  # the extras' ~200 packages: ~30 s with uv on a fresh CI machine, ~2.5 min with pip
  if have_uv; then
    .venv/bin/uv pip install -q --compile-bytecode --python "$VPY" -c "$pin" -e ".[$extra]"
  else
    "${PIP[@]}" -c "$pin" -e ".[$extra]"
  fi
  if ! satisfied "$extra"; then
    echo "scripts/setup.sh: .venv still lacks something pyproject.toml asks for ($extra extra)" >&2
    exit 1
  fi
fi

if [ -n "$apt_pid" ] && ! wait "$apt_pid"; then
  cat "$apt_log" >&2
  echo "scripts/setup.sh: apt-get could not install chromium (the browser tests need it)" >&2
  exit 1
fi
if [ -n "$npm_pid" ] && ! wait "$npm_pid"; then
  echo "scripts/setup.sh: npm ci failed" >&2
  exit 1
fi
