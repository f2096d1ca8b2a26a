"""lrwidget: a live, clickable learning-rate finder (LR range test) for PyTorch.

Example
-------
>>> import lrwidget
>>> sorted(n for n in lrwidget.__all__)  # doctest: +NORMALIZE_WHITESPACE
['BqplotView', 'DataLoaderIter', 'LRFinder', 'LRFinderWidget', 'RangeTestResult',
 'TrainDataLoaderIter', 'ValDataLoaderIter', 'Watch', 'compare', 'compare_batch_sizes',
 'compare_optimizers', 'connect', 'find_lr', 'listen', 'show_in_sidebar', 'suggest']
"""

from .engine.batches import DataLoaderIter, TrainDataLoaderIter, ValDataLoaderIter
from .engine.finder import LRFinder
from .engine.history import RangeTestResult
from .engine.watch import Watch
from .pure import suggest

__all__ = [
    "LRFinder",
    "LRFinderWidget",
    "RangeTestResult",
    "Watch",
    "find_lr",
    "suggest",
    "show_in_sidebar",
    "BqplotView",
    "listen",
    "connect",
    "compare",
    "compare_optimizers",
    "compare_batch_sizes",
    # torch-lr-finder's loader iterators, for code that subclasses them (one import to switch)
    "DataLoaderIter",
    "TrainDataLoaderIter",
    "ValDataLoaderIter",
]
__version__ = "0.1.0"

# name -> module: these pull in anywidget / ipywidgets / sidecar / bqplot / pyzmq, so they are
# only imported when asked for (PEP 562); a job's `connect` does not import the widget
_LAZY = {
    "LRFinderWidget": "views.widget",
    "find_lr": "views.find",
    "show_in_sidebar": "views.sidebar",
    "BqplotView": "views.bqview",
    "listen": "views.remote_widget",
    "connect": "remote.link",
    "compare": "views.compare_widget",
    "compare_optimizers": "engine.compare_runs",
    "compare_batch_sizes": "engine.compare_runs",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lrwidget' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
