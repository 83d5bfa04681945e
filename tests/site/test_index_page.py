"""The list of editions (out/index.html) in Chromium: the editions new since this browser's last visit."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audio import edition
from ..conftest import build_and_list
from .test_player import AXE_TAGS, Opened, browser  # noqa: F401 (browser: the module's fixture)

ARTICLE = "{title}\n\nThe council met on {day} and agreed the budget.\n\nIt will meet again next week.\n"


def _build(out: Path, slug: str) -> None:
    source = out.parent / f"{slug}.txt"
    source.write_text(ARTICLE.format(title=slug.replace("-", " ").title(), day=slug), encoding="utf-8")
    build_and_list(source, edition.BuildOptions(out=out))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for slug in ("monday", "tuesday"):
        _build(out, slug)
    return out


def _marks(opened: Opened) -> dict[str, Any]:
    return dict(opened.page.evaluate(
        """() => ({marked: [...document.querySelectorAll('ol.editions > li')].filter(li =>
                       li.querySelector('h2 .new-mark')).map(li => li.dataset.edition),
                  note: document.getElementById('new-count').hidden ? null : document.getElementById('new-count').textContent})"""
    ))


def test_editions_built_since_the_last_visit_are_marked_new(browser: Any, out: Path) -> None:  # noqa: F811
    context = browser.new_context()
    try:
        first = Opened(context.new_page())
        first.page.goto((out / "index.html").as_uri())
        assert _marks(first) == {"marked": [], "note": None}  # a first visit has nothing to compare with
        _build(out, "wednesday")
        _build(out, "thursday")

        second = Opened(context.new_page())  # the next visit
        second.page.goto((out / "index.html").as_uri())
        assert _marks(second) == {"marked": ["thursday", "wednesday"], "note": "2 editions new since your last visit."}
        h2 = second.page.evaluate("() => document.querySelector('li[data-edition=thursday] h2').textContent")
        assert h2.endswith(" New")  # said in words, not only shown
        second.page.reload()
        assert _marks(second)["marked"] == ["thursday", "wednesday"]  # kept while this visit lasts

        third = Opened(context.new_page())  # once listed, an edition is no longer new
        third.page.goto((out / "index.html").as_uri())
        assert _marks(third) == {"marked": [], "note": None}
        _build(out, "friday")
        third.page.goto((out / "index.html").as_uri())  # back to the list in the same visit: new since its start
        assert _marks(third) == {"marked": ["friday"], "note": "1 edition new since your last visit."}
        fourth = Opened(context.new_page())
        fourth.page.goto((out / "index.html").as_uri())
        assert _marks(fourth) == {"marked": [], "note": None}
        axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed")
        result = axe.Axe().run(third.page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}}).response
        assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]] == []
        for opened in (first, second, third, fourth):
            assert opened.errors == [] and opened.dialogs == []
    finally:
        context.close()
