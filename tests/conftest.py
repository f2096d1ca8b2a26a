"""Shared fixtures: real data (scikit-learn's bundled digits), small real models, state compare.

Every test runs with one torch thread (the machine is shared) and a fixed seed, and so does every
process a test starts (OMP_NUM_THREADS=1 in the environment it inherits).

Fixtures
--------
digits            (X float32 [1797, 64] standardised, y int64) tensors
digits_loader     DataLoader over digits, batch 64, shuffled with a seeded generator
make_loader       make_loader(batch_size=64, shuffle=True, seed=0, n=None) -> DataLoader
make_mlp          make_mlp(hidden=32, bn=True, dropout=0.2, seed=0) -> nn.Sequential(64 -> 10)
mlp               make_mlp() : Linear, BatchNorm1d, ReLU, Dropout, Linear
full_state        full_state(model, optimizer=None, scaler=None) -> deep copy of everything
assert_same_state assert_same_state(a, b): every tensor torch.equal, every other value ==

Markers and xdist groups: every test's, in one table below (``pytest_collection_modifyitems``).
"""

from __future__ import annotations

import copy
import os
import pathlib

import numpy as np
import pytest
import torch
from hypothesis import settings
from torch import nn

from tests.digits import digits_tensors

torch.set_num_threads(1)
# ... and every process the tests start: kernels (nbclient's, JupyterLab's), jobs, servers. With
# torch's default (a thread per core) two workers on two cores make each other's threads spin:
# the quickstart notebook's test took 48 CPU-s so, 32 on one thread.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# CI runs the property tests on a fixed set of examples, so a red CI is never a roll of the dice;
# locally they keep exploring new ones (and remember failures in .hypothesis/)
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


# Which tests are what, in one place. A key is a file under tests/ (every test in it) or
# "file::test_name" (that test, every parametrisation of it).
# process: starts other processes (torchrun ranks, a job, a kernel, a server, node, ruff)
PROCESS = {
    "test_distributed.py",
    "test_watch_dist_calls.py",
    "test_watch_dist_remote.py",
    "test_schedule_remote_view.py",
    "test_interrupts.py",
    "test_watch_dist.py",
    "test_js.py",
    "test_lint.py",
    "test_memory.py",
    "test_notebooks.py",
    "test_remote.py",
    "test_schedule_dist.py",
    "test_remote_schedule.py::test_a_schedule_from_the_notebook_is_built_on_every_rank_and_hostile_ones_are_refused",
    "test_remote_watch.py::test_a_jobs_training_streams_to_the_widget_and_its_buttons_reach_the_jobs_optimizer",
    "test_setup.py",
    "test_accelerate.py::test_two_processes_prepared_by_accelerate_agree_and_do_not_hang",
    "test_bqview.py::test_without_bqplot_the_package_works_and_the_view_says_how_to_get_it",
    "test_channel.py::test_a_script_that_never_closes_its_widgets_still_exits",
    "test_cli.py::test_a_bad_end_lr_from_the_shell_has_no_traceback",
    "test_cli.py::test_a_report_in_a_read_only_directory_is_refused_before_the_run",
    "test_cli.py::test_the_demo_says_which_extra_it_needs_without_scikit_learn",
    "test_cli.py::test_the_demo_runs_with_only_the_demo_extra_and_writes_its_report",
    "test_export.py::test_nbconvert_html_shows_the_static_fallback",
    "test_finder.py::test_import_is_light_and_widget_names_are_lazy",
    "test_front_end_writes.py::test_a_remote_jobs_optimizer_gets_the_real_choice_not_the_front_ends",
    "test_history.py::test_save_that_hits_the_disk_limit_leaves_the_old_file_whole",
    "test_house.py::test_no_js_function_over_60_lines",
    "test_lightning_watch_remote.py",
    "test_house.py::test_the_js_checker_sees_a_long_function",
    "test_history.py::test_save_interrupted_by_ctrl_c_while_writing_leaves_the_old_file_whole",
    "test_integrations_core.py::test_in_a_kernel_the_widget_is_shown_and_a_busy_cell_says_how_to_click",
    "test_lightning.py::test_ddp_two_ranks_test_together_and_train_at_the_same_lr",
    "test_progress.py::test_in_a_terminal_a_range_test_shows_a_bar_by_default",
    "test_progress.py::test_progress_false_shows_nothing_even_in_a_terminal",
    "test_rules.py::test_python_and_js_compute_the_same_rules",
    "test_rules.py::test_the_python_svg_uses_the_js_colours_ticks_labels_and_markers",
    "test_saved_state.py::test_the_front_end_reads_what_python_saves",
    "test_snapshot.py::test_a_snapshot_write_that_hits_the_disk_limit_leaves_nothing_behind",
    "test_validation.py::test_a_read_only_cache_dir_is_refused",
}
# framework: trains through Lightning, the Hugging Face Trainer or accelerate
FRAMEWORK = {
    "test_accelerate.py",
    "test_framework_schedule.py",
    "test_transformers_schedule.py",
    "test_lightning.py",
    "test_lightning_watch.py",
    "test_lightning_watch_remote.py",
    "test_transformers.py",
    "test_transformers_watch.py",
}
# Under `pytest -n 2` (--dist loadgroup) a group runs on one worker, one test at a time.
# "serial": every torchrun job (2 ranks take both cores: never two jobs at once) and every test
# that bounds a time or a memory use; "browser": the rest of tests/browser/, so that one worker
# starts one JupyterLab and one Chromium for all of them.
SERIAL = {
    "test_distributed.py",
    "test_watch_dist_calls.py",
    "test_watch_dist_remote.py",
    "test_schedule_dist.py",
    "test_remote_schedule.py::test_a_schedule_from_the_notebook_is_built_on_every_rank_and_hostile_ones_are_refused",
    "test_range_schedule.py::test_a_billion_step_preview_in_columns_is_quick",
    "test_watch_dist.py",
    "test_memory.py",
    "test_accelerate.py::test_two_processes_prepared_by_accelerate_agree_and_do_not_hang",
    "test_interrupts.py::test_a_restore_interrupted_by_sigint_still_completes",
    "test_lightning.py::test_ddp_two_ranks_test_together_and_train_at_the_same_lr",
    "test_notebooks.py::test_distributed_notebook_picks_the_lr_of_a_two_rank_torchrun_job",
    "test_remote.py::test_a_job_that_dies_mid_run_shows_as_disconnected",
    "test_remote.py::test_two_ranks_under_torchrun_only_rank_0_connects_stop_ends_both_both_get_the_choice",
    "test_remote.py::test_a_job_that_connects_before_the_notebook_listens_is_shown_whole_when_it_does",
    "test_remote.py::test_a_flood_of_big_unsigned_messages_does_not_grow_the_kernel",
    "test_remote.py::test_an_apply_the_job_takes_late_never_freezes_the_views_and_shows_when_taken",
    "test_setup.py::test_make_lab_starts_also_as_root",
    "browser/test_lightning_lab.py",
    "browser/test_remote_lab.py",
}
TESTS = pathlib.Path(__file__).parent


def _keys(item) -> tuple[str, str]:
    """``item``'s file relative to tests/ and its "file::test_name" key; ("", "") outside."""
    path = pathlib.Path(str(item.fspath))
    if TESTS not in path.parents:
        return "", ""  # the doctests in lrwidget/
    file = path.relative_to(TESTS).as_posix()
    return file, f"{file}::{getattr(item, 'originalname', item.name)}"


def _stale_keys() -> list[str]:
    """The keys of the tables above that name no file or no test (renamed or gone)."""
    stale = []
    for key in sorted(PROCESS | FRAMEWORK | SERIAL):
        file, _, name = key.partition("::")
        path = TESTS / file
        if not path.is_file() or (name and f"def {name}(" not in path.read_text()):
            stale.append(key)
    return stale


# tryfirst: pytest-xdist's worker reads the xdist_group marks in its own collection hook (it adds
# "@group" to each test id), and pluggy calls the later-registered plugin first: without tryfirst
# the marks came after it, and the groups did not exist (browser tests on both workers, each with
# its own JupyterLab; torchrun jobs side by side).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    stale = _stale_keys()
    if stale:  # else a renamed test would silently leave its group (and run beside a torchrun)
        raise pytest.UsageError(f"tests/conftest.py names tests that are not there: {stale}")
    # each xdist worker collects on its own and must find the same test ids
    unstable = [item.nodeid for item in items if " at 0x" in item.nodeid]
    if unstable:
        raise pytest.UsageError(f"test ids with a memory address (give them ids): {unstable}")
    for item in items:
        keys = _keys(item)
        browser = keys[0].startswith("browser/")
        for mark, table in (("process", PROCESS), ("framework", FRAMEWORK)):
            if table.intersection(keys):
                item.add_marker(mark)
        if browser:
            item.add_marker(pytest.mark.browser)
        if SERIAL.intersection(keys):
            item.add_marker(pytest.mark.xdist_group("serial"))
        elif browser:
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(scope="session")
def digits():
    return digits_tensors()


@pytest.fixture
def make_loader(digits):
    X, y = digits

    def make(batch_size=64, shuffle=True, seed=0, n=None):
        ds = torch.utils.data.TensorDataset(X[:n] if n else X, y[:n] if n else y)
        g = torch.Generator().manual_seed(seed)
        return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=g)

    return make


@pytest.fixture
def digits_loader(make_loader):
    return make_loader()


@pytest.fixture
def make_mlp():
    def make(hidden=32, bn=True, dropout=0.2, seed=0):
        torch.manual_seed(seed)
        layers = [nn.Linear(64, hidden)]
        if bn:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, 10))
        return nn.Sequential(*layers)

    return make


@pytest.fixture
def mlp(make_mlp):
    return make_mlp()


def _copy(v):
    if isinstance(v, torch.Tensor):
        return v.detach().clone()
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_copy(x) for x in v)
    return copy.deepcopy(v)


def _full_state(model, optimizer=None, scaler=None):
    out = {
        "model": _copy(model.state_dict()),
        "grads": [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()],
        "training": [m.training for m in model.modules()],
        "rng": torch.get_rng_state(),
    }
    if optimizer is not None:
        out["optimizer"] = _copy(optimizer.state_dict())
    if scaler is not None:
        out["scaler"] = _copy(scaler.state_dict())
    return out


def _assert_same(a, b, path="state"):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), f"{path}: tensor vs {type(b).__name__}"
        assert a.dtype == b.dtype and a.shape == b.shape, (
            f"{path}: {a.dtype}{tuple(a.shape)} vs {b.dtype}{tuple(b.shape)}"
        )
        assert torch.equal(a, b), f"{path}: values differ"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (
            f"{path}: keys {sorted(map(str, a))} vs {sorted(map(str, b))}"
        )
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: length differs"
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.fixture
def full_state():
    return _full_state


@pytest.fixture
def assert_same_state():
    return _assert_same
