"""``python -m lrwidget``: bad input refused before the run, clean --help, --version, the demo.

The in-process tests call ``main(argv)`` (argparse's errors are ``SystemExit`` there, anything
else would propagate as the traceback a user would see); the subprocess tests run the real
interpreter from a fresh temporary directory, with the repository on ``PYTHONPATH``.
"""

from __future__ import annotations

import ctypes
import os
import pathlib
import re
import subprocess
import sys

import pytest

import lrwidget
from lrwidget.__main__ import main
from lrwidget.pure import suggest

REPO = pathlib.Path(__file__).resolve().parents[1]
DEMO_EXTRA_HINT = 'pip install "lrwidget[demo]"'


def _python(code_or_args, cwd, timeout=120, preexec_fn=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"  # the machine is shared
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else list(code_or_args)
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def _exit(argv, capsys):
    """(exit code, stdout, stderr) of main(argv), which must end by SystemExit."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    out, err = capsys.readouterr()
    return e.value.code, out, err


# ------------------------------------------------------------------ --end-lr / --num-iter
@pytest.mark.parametrize("value", ["abc", "-1", "0", "inf", "nan", "1e-9", "1e-5", ""])
def test_a_bad_end_lr_is_a_usage_error_naming_the_option(value, capsys):
    code, out, err = _exit(["demo", "--end-lr", value, "--num-iter", "5"], capsys)
    assert code == 2
    assert "error: argument --end-lr:" in err, err
    assert "Traceback" not in err
    assert out == ""  # refused before the run: no summary


@pytest.mark.parametrize("value", ["1", "0", "-3", "2.5", "x"])
def test_a_bad_num_iter_is_a_usage_error_naming_the_option(value, capsys):
    code, out, err = _exit(["demo", "--num-iter", value], capsys)
    assert code == 2
    assert "error: argument --num-iter:" in err, err
    assert out == ""


def test_a_bad_end_lr_from_the_shell_has_no_traceback(tmp_path):
    r = _python(["-m", "lrwidget", "demo", "--end-lr", "abc"], tmp_path)
    assert r.returncode == 2, r.stderr
    assert "python -m lrwidget demo: error: argument --end-lr:" in r.stderr
    assert "'abc'" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


# ------------------------------------------------------------------ --report
def test_a_report_in_a_missing_directory_is_refused_before_the_run(tmp_path, capsys):
    code, out, err = _exit(
        ["demo", "--num-iter", "5", "--report", str(tmp_path / "nowhere" / "r.html")], capsys
    )
    assert code == 2
    assert "error: argument --report:" in err and "does not exist" in err, err
    assert out == ""
    assert not (tmp_path / "nowhere").exists()


def test_a_report_path_that_is_a_directory_is_refused_before_the_run(tmp_path, capsys):
    code, out, err = _exit(["demo", "--num-iter", "5", "--report", str(tmp_path)], capsys)
    assert code == 2
    assert "error: argument --report:" in err and "is a directory" in err, err
    assert out == ""


def test_a_report_below_a_file_is_refused_before_the_run(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    code, out, err = _exit(
        ["demo", "--num-iter", "5", "--report", str(tmp_path / "f" / "r.html")], capsys
    )
    assert code == 2 and "error: argument --report:" in err, err
    assert out == "" and (tmp_path / "f").read_text() == "x"


def _without_dac_override():
    """preexec_fn: drop the capabilities that let root write anywhere (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH) from the bounding set, so the child, even as root, meets file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drops a Linux capability")
def test_a_report_in_a_read_only_directory_is_refused_before_the_run(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = _python(
            ["-m", "lrwidget", "demo", "--num-iter", "5", "--report", str(ro / "r.html")],
            tmp_path,
            preexec_fn=_without_dac_override,
        )
    finally:
        ro.chmod(0o755)
    assert r.returncode == 2, r.stderr
    assert "error: argument --report:" in r.stderr and "not writable" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert list(ro.iterdir()) == []


def test_an_existing_report_file_is_kept_until_the_run_writes_it(tmp_path, capsys):
    # the early check must not truncate or remove what is there
    report = tmp_path / "r.html"
    report.write_text("old")
    code, out, err = _exit(["demo", "--end-lr", "abc", "--report", str(report)], capsys)
    assert code == 2 and report.read_text() == "old"


# ------------------------------------------------------------------ --help / --version
@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"]])
def test_help_is_plain_text(argv, capsys):
    code, out, err = _exit(argv, capsys)
    assert code == 0 and out.strip()
    assert "``" not in out and ":meth:" not in out and ":class:" not in out, out
    assert not re.search(r"^\s*-{3,}\s*$", out, re.M), out  # no numpy-style section underlines


def test_help_names_the_demo_options(capsys):
    code, out, _ = _exit(["demo", "--help"], capsys)
    for opt in ("--num-iter", "--end-lr", "--report"):
        assert opt in out


def test_version(capsys):
    code, out, err = _exit(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"lrwidget {lrwidget.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", lrwidget.__version__)


# ------------------------------------------------------------------ the demo
def test_the_demo_says_which_extra_it_needs_without_scikit_learn(tmp_path):
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "from lrwidget.__main__ import main\n"
        "sys.exit(main(['demo', '--num-iter', '5']))"
    )
    r = _python(code, tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "python -m lrwidget demo needs scikit-learn" in r.stderr, r.stderr
    assert DEMO_EXTRA_HINT in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def _dev_only_modules():
    """Top-level modules of the distributions in the ``dev`` extra that neither the base
    dependencies nor the ``demo`` extra bring."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    from importlib.metadata import packages_distributions

    proj = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

    def names(reqs):
        return {re.split(r"[\s;<>=!~\[]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}

    extras = proj["optional-dependencies"]
    dev_only = names(extras["dev"]) - names(proj["dependencies"]) - names(extras["demo"])
    mods = {
        m
        for m, dists in packages_distributions().items()
        if {d.lower().replace("_", "-") for d in dists} <= dev_only
    }
    assert {"jupyterlab", "matplotlib", "playwright"} <= mods  # the check itself works
    return sorted(mods)


def test_the_demo_runs_with_only_the_demo_extra_and_writes_its_report(tmp_path):
    blocked = _dev_only_modules()
    report = tmp_path / "r.html"
    code = (
        f"import sys\n"
        f"for m in {blocked!r}: sys.modules[m] = None\n"
        f"from lrwidget.__main__ import main\n"
        f"sys.exit(main(['demo', '--num-iter', '30', '--end-lr', '0.5',\n"
        f"                '--report', {str(report)!r}]))"
    )
    r = _python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "readings: 30 of 30" in r.stdout and "stop: completed" in r.stdout, r.stdout
    assert "suggestions:" in r.stdout and f" * {suggest.DEFAULT}" in r.stdout
    for name in suggest.RULES:
        assert name in r.stdout
    assert f"HTML report written to {report}" in r.stdout
    assert report.read_text().lstrip().lower().startswith("<!doctype html")
