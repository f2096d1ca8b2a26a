"""Playwright steps that survive a view being replaced.

The end of a run refreshes the output's static fallback, which renders the view anew: for a
moment the old element is detached and the new one not yet stable. A step on a locator then
fails with "Element is not attached to the DOM" (CI stops 23 and 24); the locator finds the new
element when tried again.
"""

from __future__ import annotations

import time


def into_view(locator, tries: int = 4) -> None:
    """Scroll ``locator`` into view, trying again while it is being replaced."""
    for _ in range(tries - 1):
        try:
            locator.scroll_into_view_if_needed(timeout=5_000)
            return
        except Exception:
            time.sleep(0.5)
    locator.scroll_into_view_if_needed()
