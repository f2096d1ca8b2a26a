"""The engine: the range test itself on torch (imports only :mod:`lrwidget.pure`).

- ``finder``: ``LRFinder``, the public face (range_test, track, apply, restore).
- ``checks``: the argument checks, before any training step.
- ``batches``: the data loaders' batches (torch-lr-finder's iterators).
- ``steps``: the step closures (plain, AMP, accumulation, custom).
- ``loop``: the hot loop (CPU and staged) and the stop rule.
- ``track``: ``Tracker``, the user's own loop as a range test.
- ``snapshot``: the model and optimizer saved and restored bit for bit.
- ``optimizer_kinds``: schedule-free (train mode for a test) and d-adaptive (d x lr) optimizers.
- ``interrupts``: Ctrl-C held back while a block that must not be cut in half runs.
- ``collective``: distributed runs (one curve, one choice on every rank).
- ``progress``: the progress bar in a terminal (tqdm).
- ``stream``: a run's events, delivered on a thread of their own.
- ``history``: the readings of a run and ``RangeTestResult``.
- ``groups``: one range test per param group, and an lr per group.
- ``compare_runs``: several range tests on one model (optimizers, batch sizes) for one chart.
"""
