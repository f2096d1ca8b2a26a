"""The set-up a new user meets: ``make lab`` starts (also as root), the built wheel and sdist
carry the licence and the one version number.

``make lab`` is started for real, with the Makefile's own command line (``LAB_ARGS`` adds a free
port, a token and fresh directories), and stopped by its process group. Without ``make`` or
JupyterLab the test skips, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from importlib.util import find_spec

import pytest

import lrwidget

REPO = pathlib.Path(__file__).resolve().parents[1]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need(what: str, ok: bool, hint: str) -> None:
    if ok:
        return
    if _in_ci():
        pytest.fail(f"{what} is missing under CI: {hint}", pytrace=False)
    pytest.skip(f"{what} not available ({hint})")


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _group_members(pgid: int):
    """Live (not zombie) processes of process group ``pgid``; reaped zombies are gone."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
            return ["?"]
        except ProcessLookupError:
            return []
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = pathlib.Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d))
    return out


def _stop_group(proc: subprocess.Popen) -> list:
    """Stop ``proc``'s process group (make and the server it started); returns what is left."""
    pgid = proc.pid  # start_new_session: the group is ours alone
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            proc.poll()
            if proc.returncode is not None and not _group_members(pgid):
                return []
            time.sleep(0.1)
    proc.poll()
    return _group_members(pgid)


def test_make_lab_starts_also_as_root(tmp_path):
    make = shutil.which("make")
    _need("make", make is not None, "apt-get install make")
    _need("jupyterlab", find_spec("jupyterlab") is not None, "scripts/setup.sh")
    port, token = _free_port(), secrets.token_hex(8)
    env = dict(os.environ)
    for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        env[k] = str(tmp_path / k.lower())
    env["OMP_NUM_THREADS"] = "1"  # the machine is shared
    lab_args = (
        f"--no-browser --port={port} --ServerApp.port_retries=0 "
        f"--IdentityProvider.token={token} --LabApp.workspaces_dir={tmp_path}/ws "
        f"--LabApp.user_settings_dir={tmp_path}/settings"
    )
    log_path = tmp_path / "lab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [make, "-s", "-C", str(REPO), "lab", f"LAB_ARGS={lab_args}"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    status, t0 = None, time.monotonic()
    try:
        while status is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2
                ) as r:
                    status = json.loads(r.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None:
                    pytest.fail(
                        f"make lab ended ({proc.returncode}) without serving:\n"
                        f"{log_path.read_text()[-3000:]}",
                        pytrace=False,
                    )
                if time.monotonic() - t0 > 90:
                    pytest.fail(
                        f"make lab did not answer in 90 s:\n{log_path.read_text()[-3000:]}",
                        pytrace=False,
                    )
                time.sleep(0.25)
        started = time.monotonic() - t0
        # the token is required: the server is not open to anyone on the machine
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sessions", timeout=5)
        assert e.value.code == 403
        # a page load: it used to print Node's stack trace (package.json's "type": "module")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=30) as r:
            assert r.status == 200
        time.sleep(1)
    finally:
        left = _stop_group(proc)
    assert "started" in status
    assert not left, f"processes left after stopping make lab: {left}"
    log = log_path.read_text()
    assert f"http://127.0.0.1:{port}/lab" in log, log[-3000:]
    assert "Node.js v" not in log and max(map(len, log.splitlines())) < 2000, log[-3000:]
    # JupyterLab serves (and autosaves) the copies in lab/, never the committed notebooks/
    assert f"Serving notebooks from local directory: {REPO / 'lab'}" in log, log[-3000:]
    assert (REPO / "lab" / "quickstart.ipynb").is_file()
    assert started < 60, f"make lab took {started:.1f} s to answer"


# ------------------------------------------------------------------ .venv under package.json
def _checkout_with_venv(root: pathlib.Path) -> pathlib.Path:
    """A copy of what setup.sh reads, with a fresh .venv that sees this interpreter's packages.

    The .venv's only site-packages entry is a .pth naming the copy's root and the site-packages
    this interpreter reads: setup.sh finds everything installed (torch, the dev extra, lrwidget
    from the copy's root) and installs nothing, so no test writes into the real .venv.
    """
    for rel in ("scripts/setup.sh", "pyproject.toml", "package.json", "lrwidget/__init__.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    venv = root / ".venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    site = next(venv.glob("lib/python3*/site-packages"))
    shared = [p for p in sys.path if p.endswith("site-packages")]
    (site / "shared.pth").write_text("\n".join([str(root), *shared]) + "\n")
    return venv


def test_setup_gives_the_venv_a_commonjs_package_json_so_node_runs_jupyterlabs_scripts(tmp_path):
    node = shutil.which("node")
    _need("node", node is not None, "apt-get install nodejs")
    venv = _checkout_with_venv(tmp_path)
    # what JupyterLab's yarn.js does at each start: a CommonJS require, in a file inside .venv
    script = venv / "lib" / "cjs.js"
    script.write_text('const util = require("util"); console.log(typeof util.format);\n')

    def run_node():
        return subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)

    before = run_node()  # under the repo's "type": "module": the error make lab used to print
    assert before.returncode != 0 and "require" in before.stderr, before

    env = {**os.environ, "PIP_NO_INDEX": "1"}  # nothing may be downloaded, whatever happens
    for _ in range(2):  # idempotent: the second run finds the file as it should be
        done = subprocess.run(
            ["bash", str(tmp_path / "scripts/setup.sh")],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "installing" not in done.stdout, done.stdout
        assert json.loads((venv / "package.json").read_text()) == {"type": "commonjs"}
    after = run_node()
    assert after.returncode == 0 and after.stdout.strip() == "function", after


# ------------------------------------------------------------------ wheel, sdist, version
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(wheel, sdist) built from this checkout by hatchling, the build backend pyproject names."""
    _need("hatchling", find_spec("hatchling") is not None, "pip install -e .[dev]")
    from hatchling.builders.sdist import SdistBuilder
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("dist")
    wheel = next(WheelBuilder(str(REPO)).build(directory=str(out), versions=["standard"]))
    sdist = next(SdistBuilder(str(REPO)).build(directory=str(out), versions=["standard"]))
    return pathlib.Path(wheel), pathlib.Path(sdist)


def _wheel_metadata(wheel: pathlib.Path):
    with zipfile.ZipFile(wheel) as z:
        info = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        return z.read(info).decode(), z.namelist(), z


def test_the_licence_is_mit_and_ships_in_wheel_and_sdist(built):
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the lrwidget authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    wheel, sdist = built
    meta, names, _ = _wheel_metadata(wheel)
    assert re.search(r"^License-Expression: MIT$", meta, re.M), meta[:800]
    assert re.search(r"^License-File: LICENSE$", meta, re.M), meta[:800]
    lic = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert lic, names
    with zipfile.ZipFile(wheel) as z:
        assert z.read(lic[0]).decode() == text
    with tarfile.open(sdist) as t:
        members = {m.name.split("/", 1)[1] for m in t.getmembers() if "/" in m.name}
    assert "LICENSE" in members, sorted(members)


def test_one_version_number(built):
    v = lrwidget.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", v)
    # pyproject takes it from lrwidget/__init__.py instead of writing it again
    pyproject = (REPO / "pyproject.toml").read_text()
    assert not re.search(r"^version\s*=", pyproject, re.M)
    assert re.search(r'^dynamic\s*=\s*\[\s*"version"\s*\]', pyproject, re.M)
    wheel, sdist = built
    meta, _, _ = _wheel_metadata(wheel)
    assert re.search(rf"^Version: {re.escape(v)}$", meta, re.M)
    assert wheel.name.startswith(f"lrwidget-{v}-") and sdist.name == f"lrwidget-{v}.tar.gz"
    # the front end's package.json is private (never published), but must not disagree
    assert json.loads((REPO / "package.json").read_text())["version"] == v
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["version"] == v and lock["packages"][""]["version"] == v


def test_the_demo_extra_is_declared(built):
    meta, _, _ = _wheel_metadata(built[0])
    assert re.search(r"^Provides-Extra: demo$", meta, re.M)
    assert re.search(r"^Requires-Dist: scikit-learn\S*; extra == .demo.$", meta, re.M), meta
