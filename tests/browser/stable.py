"""Playwright steps that survive a view being replaced.

The end of a run, an Apply schedule and a settled range refresh the output's static fallback,
which renders the view anew: for a moment the old element is detached and the new one not yet
stable. Most locator actions wait for the new element, but a scroll into view, an element
screenshot and a bounding box fail at once with "Element is not attached to the DOM" (CI stops
23, 24 and 25) or, seen on a screenshot, "Node is either not visible or not an HTMLElement".
These helpers try such a step again, and only for those errors: any other failure is the test's
(one that lasts fails after the last try).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_REPLACED = (
    "not attached to the DOM",
    "Element is detached",
    "Target closed while",
    "Node is either not visible or not an HTMLElement",  # mid-replacement (-n 3 run, 2026-12-08)
)


def _retried(step: Callable[[], T], tries: int = 6, pause: float = 0.5) -> T:
    for _ in range(tries - 1):
        try:
            return step()
        except Exception as e:
            if not any(s in str(e) for s in _REPLACED):
                raise
            time.sleep(pause)
    return step()


def into_view(locator, tries: int = 6) -> None:
    """Scroll ``locator`` into view, trying again while it is being replaced."""
    _retried(lambda: locator.scroll_into_view_if_needed(timeout=5_000), tries)


def screenshot(locator, **kw: Any) -> bytes:
    """``locator.screenshot(**kw)``, trying again while the element is being replaced."""
    return _retried(lambda: locator.screenshot(**kw))


def box(locator) -> dict[str, float]:
    """``locator.bounding_box()`` of an attached element, trying again while it is replaced."""

    def step() -> dict[str, float]:
        b = locator.bounding_box(timeout=10_000)
        if b is None:  # detached between the lookup and the measure
            raise RuntimeError("Element is not attached to the DOM (no bounding box)")
        return b

    return _retried(step)


def settled(locator, quiet_ms: int = 2500, timeout_s: float = 60.0):
    """The element of ``locator`` once it stayed on the page ``quiet_ms`` without being
    replaced: a refresh still on its way (an Apply schedule's, a range's) has come by then.

    Keys pressed while a view is replaced go to the page, not the view (CI stop 26: two of three
    Shift+Right were lost that way), so a test that types waits for this first.
    """
    page = locator.page
    deadline = time.monotonic() + timeout_s
    while True:
        el = _retried(lambda: locator.element_handle(timeout=10_000))
        page.wait_for_timeout(quiet_ms)
        if el.evaluate("e => e.isConnected"):
            return el
        assert time.monotonic() < deadline, f"the view was still being replaced after {timeout_s} s"
