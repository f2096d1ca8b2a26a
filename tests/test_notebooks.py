"""The notebooks in notebooks/ run top to bottom in a real kernel (nbclient), and are committed
exactly as scripts/make_notebooks.py writes them: no outputs, stable cell ids."""

from __future__ import annotations

import json
import pathlib
import re
import secrets
import sys
import tempfile
import time

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_promised_notebook_exists():
    names = {p.name for p in NOTEBOOKS}
    assert {"quickstart.ipynb", "custom_loop.ipynb", "optimizers.ipynb", "sidebar.ipynb"} <= names


def test_committed_notebooks_have_no_outputs_and_match_the_generator(tmp_path):
    for p in NOTEBOOKS:
        nb = json.loads(p.read_text())
        for cell in nb["cells"]:
            assert not cell.get("outputs"), f"{p.name} is committed with outputs"
            assert cell.get("execution_count") is None, (
                f"{p.name} is committed with execution counts"
            )
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_notebooks
    finally:
        sys.path.pop(0)
    for name in make_notebooks.NOTEBOOKS:
        fresh = nbformat.writes(make_notebooks.build(name)) + "\n"
        committed = (ROOT / "notebooks" / name).read_text()
        assert json.loads(fresh) == json.loads(committed), (
            f"notebooks/{name} differs from scripts/make_notebooks.py: "
            "run `python scripts/make_notebooks.py`"
        )


def _run(path: pathlib.Path) -> str:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o["text"])
            elif o.get("output_type") == "error":
                pytest.fail(f"{path.name}: {o['ename']}: {o['evalue']}")
    return "".join(out)


def _accuracies(text: str):
    found = re.findall(r"test accuracy(?: after 3 epochs at lr=[^:]+)?:? (\d+\.\d)%", text)
    return [float(a) for a in found]


def test_quickstart_trains_well_with_the_applied_lr():
    text = _run(ROOT / "notebooks" / "quickstart.ipynb")
    # the first thing a user runs must show the curve growing: a test over in a few tenths of a
    # second (the MLP's, ~0.3 s) appears finished; the CNN's is real work, ~2 s even on a fast CPU
    elapsed = float(re.search(r"^\w+ \d+ readings in ([0-9.]+) s$", text, re.M).group(1))
    assert elapsed > 1.0, text
    lr = float(re.search(r"optimizer lr = ([0-9.e+-]+)", text).group(1))
    assert 1e-6 < lr < 10
    accs = _accuracies(text)
    assert len(accs) == 1 and accs[0] > 85.0, text


def test_custom_loop_runs_both_forms_and_applies():
    text = _run(ROOT / "notebooks" / "custom_loop.ipynb")
    reasons = re.findall(r"^(completed|diverged|stopped) suggested lr = ([0-9.e+-]+)$", text, re.M)
    assert len(reasons) == 2, text
    applied = float(re.search(r"optimizer lr = ([0-9.e+-]+)", text).group(1))
    assert applied == pytest.approx(float(reasons[1][1]), rel=1e-2)


def test_optimizers_shows_sgd_and_adam_lrs_differ():
    text = _run(ROOT / "notebooks" / "optimizers.ipynb")
    ratio = float(re.search(r"ratio SGD / Adam = ([0-9.]+)x", text).group(1))
    assert ratio > 2, text
    accs = _accuracies(text)
    assert len(accs) == 2 and min(accs) > 80.0, text


def test_sidebar_notebook_runs_headless():
    text = _run(ROOT / "notebooks" / "sidebar.ipynb")
    assert re.search(r"(completed|diverged); optimizer lr = [0-9.e+-]+", text), text


def test_distributed_notebook_picks_the_lr_of_a_two_rank_torchrun_job(monkeypatch):
    # the notebook starts torchrun, whose workers run in sessions of their own: every process
    # of it carries this marker and is killed by pid at the end, whatever happened
    from tests.dist_jobs import MARK, kill_marked

    mark = secrets.token_hex(8)
    monkeypatch.setenv(MARK, mark)
    t0 = time.monotonic()
    jobs_dir = pathlib.Path(tempfile.gettempdir())
    before = set(jobs_dir.glob("lrwidget-ddp-*"))
    try:
        text = _run(ROOT / "notebooks" / "distributed.ipynb")
    except Exception as e:  # the job's own output says why (the notebook reads it at its end)
        logs = [p / "job.log" for p in set(jobs_dir.glob("lrwidget-ddp-*")) - before]
        tails = [p.read_text()[-3000:] for p in logs if p.is_file()]
        raise AssertionError(f"{e}\n---- the job's output ----\n" + "\n".join(tails)) from e
    finally:
        kill_marked(mark)
    chosen = float(re.search(r"the job trains at lr = ([0-9.e+-]+)", text).group(1))
    ranks = dict(re.findall(r"^rank (\d): \w+ after \d+ steps; training at lr=(\S+)$", text, re.M))
    assert sorted(ranks) == ["0", "1"], text
    assert all(float(v) == pytest.approx(chosen, rel=1e-5) for v in ranks.values()), text
    assert re.search(r"training accuracy after 3 epochs: \d+\.\d%", text), text
    assert time.monotonic() - t0 < 120


def test_transformers_notebook_trains_at_the_applied_lr(monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the kernel inherits it: nothing may download
    text = _run(ROOT / "notebooks" / "transformers.ipynb")
    applied = float(re.search(r"^applied lr = (\S+)$", text, re.M).group(1))
    assert 1e-5 < applied < 1, text
    trains = re.search(r"^trains at lr = (\S+) \((\w+)\)$", text, re.M)
    assert float(trains.group(1)) == pytest.approx(applied, rel=1e-5), text
    assert trains.group(2) == "click", text  # the find step's apply, not a second test
    args_lr = float(re.search(r"^args.learning_rate = (\S+)$", text, re.M).group(1))
    assert args_lr == pytest.approx(applied, rel=1e-5), text
    bases = re.search(r"^schedule base lrs = (.+)$", text, re.M).group(1).split(", ")
    assert [float(b) for b in bases] == pytest.approx([applied] * 2, rel=1e-5), text
    acc = float(re.search(r"^test accuracy: (\d+\.\d)%$", text, re.M).group(1))
    assert acc > 50.0, text


def test_lightning_notebook_trains_at_the_applied_lr_with_the_one_cycle_built_around_it():
    pytest.importorskip("lightning")
    text = _run(ROOT / "notebooks" / "lightning.ipynb")
    applied = float(re.search(r"^applied lr = (\S+)$", text, re.M).group(1))
    assert 1e-5 < applied < 10, text
    first = re.search(r"^first step: lr = (\S+), one-cycle peak = (\S+)$", text, re.M)
    assert first, text
    assert float(first.group(2)) == pytest.approx(applied, rel=1e-5), text
    assert float(first.group(1)) == pytest.approx(applied / 25, rel=1e-5), text
    trains = re.search(r"^trains at lr = (\S+) \((\w+)\)$", text, re.M)
    assert float(trains.group(1)) == pytest.approx(applied, rel=1e-5), text
    assert trains.group(2) == "click", text  # the find step's apply, not a second test
    acc = float(re.search(r"^test accuracy: (\d+\.\d)%$", text, re.M).group(1))
    assert acc > 80.0, text
