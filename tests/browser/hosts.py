"""A host's server for the browser tests (VS Code-like host, marimo, Voilà): started in its own
process group on 127.0.0.1 with fresh home and config dirs, stopped by that group's id (the server
and every kernel it started), and checked gone."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import time
import urllib.error
import urllib.request

from tests.browser.conftest import REPO


def fresh_env(root: pathlib.Path) -> dict:
    """The environment of a server that reads no user config: HOME, XDG and Jupyter dirs under
    ``root``; this checkout first on the path; one thread per kernel (the machine is shared)."""
    env = dict(os.environ)
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    for k in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        env[k] = str(root / k.lower())
    for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR"):
        env[k] = str(root / k.lower())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"
    return env


class ServerProcess:
    """``cmd`` running until ``ready_url`` answers (any HTTP status counts: the server is up)."""

    def __init__(self, cmd, env: dict, cwd: pathlib.Path, log_path: pathlib.Path, ready_url: str):
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [str(c) for c in cmd],
            env=env,
            cwd=str(cwd),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the server and its kernels, no one else
        )
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(ready_url, timeout=2)
                break
            except urllib.error.HTTPError:
                break
            except Exception as e:
                if self.proc.poll() is not None or time.time() - t0 > 90:
                    self.stop()
                    raise RuntimeError(f"{cmd[0]} did not start:\n{self.log()[-3000:]}") from e
                time.sleep(0.25)
        self.startup_s = time.time() - t0

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        # members that exited but are not reaped yet (zombies) do not count
        for p in pathlib.Path("/proc").glob("[0-9]*"):
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == self.proc.pid and fields[0] != "Z":
                return True
        return False

    def stop(self) -> None:
        """SIGTERM to the group (servers shut their kernels down), SIGKILL what is left."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
        t0 = time.time()
        while self._group_alive() and time.time() - t0 < 10:
            time.sleep(0.2)
        if self._group_alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.wait(5)
        self._log.close()
        if self._group_alive():
            raise RuntimeError(f"processes of group {self.proc.pid} survived SIGKILL")
