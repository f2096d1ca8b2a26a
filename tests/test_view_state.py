"""One view-state schema: the widget syncs ViewState's traits; js/ reads only those names."""

from __future__ import annotations

import pathlib
import re

from lrwidget.views.compare_widget import CompareWidget
from lrwidget.views.view_state import VIEW_STATE_NAMES, ViewState, view_state_defaults
from lrwidget.views.widget import LRFinderWidget

#: the compare chart's own traits (issue 20): js/view/compare.js reads them, no other view does
COMPARE_NAMES = {n for n in CompareWidget.class_trait_names(sync=True) if n.startswith("compare_")}

ROOT = pathlib.Path(__file__).resolve().parents[1]
JS = ROOT / "js"

#: how js/ names a trait: port.get/num or model.get("name"), "change:name", a TRAIT_TOPICS key
_READS = re.compile(r"""\b(?:port|model)\.(?:get|num)\(\s*["']([A-Za-z_]\w*)["']""")
_CHANGES = re.compile(r"""["'`]change:([A-Za-z_]\w*)["'`]""")


def _js_sources() -> dict[pathlib.Path, str]:
    return {p: p.read_text() for p in JS.rglob("*.js") if "tests" not in p.relative_to(JS).parts}


def _trait_table(text: str, name: str) -> set[str]:
    body = re.search(name + r"\s*=\s*Object\.freeze\(([\[{].*?[\]}])\)", text, re.S)
    assert body, name
    return set(re.findall(r"""^\s*["']?([a-z_]+)["']?\s*[:,]""", body.group(1), re.M))


def test_widget_syncs_exactly_the_view_state() -> None:
    own = {n for n in LRFinderWidget.class_trait_names(sync=True) if n in ViewState.class_traits()}
    extra = {
        n
        for n in LRFinderWidget.class_trait_names(sync=True)
        if n not in own and not n.startswith("_") and n not in ("layout", "tabbable", "tooltip")
    }
    assert own == set(VIEW_STATE_NAMES) and not extra, extra
    assert len(VIEW_STATE_NAMES) == len(set(VIEW_STATE_NAMES)) >= 20


def test_defaults_are_what_a_fresh_widget_holds() -> None:
    d = view_state_defaults()
    assert d["status"] == "idle" and d["selected_lr"] is None and d["suggestions"] == []
    assert set(d) == set(VIEW_STATE_NAMES)


def test_js_reads_only_view_state_names() -> None:
    seen: dict[str, str] = {}
    for path, text in _js_sources().items():
        for name in _READS.findall(text) + _CHANGES.findall(text):
            seen.setdefault(name, str(path.relative_to(ROOT)))
    trait_watch = (JS / "view" / "trait_watch.js").read_text()
    for table in ("TRAIT_TOPICS", "CONTACT_TRAITS"):
        for name in _trait_table(trait_watch, table):
            seen.setdefault(name, f"js/view/trait_watch.js {table}")
    assert len(seen) >= 15, seen  # the parse still finds the reads
    known = set(VIEW_STATE_NAMES) | COMPARE_NAMES
    unknown = {n: where for n, where in seen.items() if n not in known}
    assert not unknown, f"js/ reads traits the view state does not have: {unknown}"


def test_js_typedef_lists_the_view_state() -> None:
    text = (JS / "view" / "view_state.js").read_text()
    block = re.search(r"@typedef \{Object\} ViewState(.*?)\*/", text, re.S)
    assert block
    props = re.findall(r"@property \{[^}]*\} (\w+)", block.group(1))
    assert props == list(VIEW_STATE_NAMES)
