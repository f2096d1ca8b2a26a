"""lrwidget: a live, clickable learning-rate finder (LR range test) for PyTorch.

Example
-------
>>> import lrwidget
>>> sorted(n for n in lrwidget.__all__)
['BqplotView', 'LRFinder', 'LRFinderWidget', 'RangeTestResult', 'find_lr', 'show_in_sidebar', 'suggest']
"""
from . import suggest
from .finder import LRFinder
from .history import RangeTestResult

__all__ = ["LRFinder", "LRFinderWidget", "RangeTestResult", "find_lr", "suggest",
           "show_in_sidebar", "BqplotView"]
__version__ = "0.1.0"

# name -> module: these pull in anywidget / ipywidgets / sidecar / bqplot, so they are only
# imported when asked for (PEP 562)
_LAZY = {"LRFinderWidget": "widget", "find_lr": "widget", "show_in_sidebar": "sidebar",
         "BqplotView": "bqview"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lrwidget' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
