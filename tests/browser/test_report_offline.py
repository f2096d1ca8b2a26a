"""The HTML report of a finished range test opens in Chromium with every network request blocked
(offline context, and any non-file request aborted) and shows the curve, the suggestions and the
chosen lr. Screenshot: artifacts/report_offline.png."""

from __future__ import annotations

import re

from lrwidget.views.report import format_lr
from tests.browser import stable
from tests.test_export import run_and_report


def _finished(path):
    result, chosen, _ = run_and_report(path)
    return result, chosen


def test_report_opens_offline_in_chromium(browser, artifacts, tmp_path):
    path = tmp_path / "report.html"
    result, chosen = _finished(path)
    asked = []

    def block(route):
        asked.append(route.request.url)
        route.abort()

    ctx = browser.new_context(viewport={"width": 900, "height": 1100}, offline=True)
    try:
        ctx.route(re.compile(r"^(?!file:).*"), block)  # every non-file request fails
        page = ctx.new_page()
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(artifacts / "report_offline.png"), full_page=True)
        box = stable.box(page.locator("figure svg").first)
        polylines = page.locator("figure svg polyline").count()
        rows = page.locator("table").first.locator("tbody tr").all_inner_texts()
        chosen_text = page.locator(".chosen").inner_text()
        broken = page.evaluate(
            "() => Array.from(document.images).filter(i => !i.complete || !i.naturalWidth).length"
        )
    finally:
        ctx.close()
    assert not asked, f"the report tried to fetch: {asked}"
    assert box and box["width"] > 300 and box["height"] > 150, box
    assert polylines >= 1
    assert len(rows) == len(result.suggestions)
    for (name, s), row in zip(result.suggestions.items(), rows):
        assert name in row and s.reason in row, (name, row)
    assert format_lr(chosen) in chosen_text
    assert broken == 0
