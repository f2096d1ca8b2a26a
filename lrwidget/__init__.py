"""lrwidget: a live, clickable learning-rate finder (LR range test) for PyTorch.

Example
-------
>>> import lrwidget
>>> sorted(n for n in lrwidget.__all__)
['LRFinder', 'LRFinderWidget', 'RangeTestResult', 'find_lr', 'suggest']
"""
from . import suggest
from .finder import LRFinder
from .history import RangeTestResult

__all__ = ["LRFinder", "LRFinderWidget", "RangeTestResult", "find_lr", "suggest"]
__version__ = "0.1.0"

_LAZY = {"LRFinderWidget", "find_lr"}


def __getattr__(name):
    # the widget pulls in anywidget/ipywidgets; only import it when asked for (PEP 562)
    if name in _LAZY:
        from . import widget
        value = getattr(widget, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lrwidget' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY)
