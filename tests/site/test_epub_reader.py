"""The talking book in a real reading system: foliate-js (the engine of Foliate, the EPUB reader Debian
packages) opens it in Chromium and plays its Media Overlays, highlighting each sentence as it is read.

Debian's Foliate 2.6 is a GTK application that cannot be driven headless, and Thorium is not packaged;
foliate-js is Foliate 3's own reading engine, from npm (tools/package.json)."""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from audio import manifest

from ..conftest import ROOT
from .test_epub import NS, book_of, members, sample_book, smil_ms  # noqa: F401 (sample_book: the fixture)
from .test_player import ARGS, CHROMIUM

FOLIATE = ROOT / "tools" / "node_modules" / "foliate-js"
HARNESS = Path(__file__).parent / "reader" / "reader.html"
RATE = 3  # the fastest the player offers: the test hears 30 s of the book in 10

pytestmark = pytest.mark.slow  # (a browser and a book: the slow tier, with EPUBCheck and Ace)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def reader(sample_book: manifest.Edition, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:  # noqa: F811
    """A page with foliate-js and the sample's book, served over HTTP (module scripts do not load from file:)."""
    if not (FOLIATE / "view.js").exists():
        pytest.skip("foliate-js is not installed (scripts/setup --system: npm ci --prefix tools)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    site = tmp_path_factory.mktemp("reader")
    shutil.copytree(FOLIATE, site / "foliate-js")
    shutil.copy(HARNESS, site / "reader.html")
    shutil.copy(book_of(sample_book), site / "book.epub")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    errors: list[str] = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/reader.html")
            page.wait_for_function("() => typeof window.openBook === 'function'")
            opened = page.evaluate("() => openBook('book.epub')")
            yield page, opened, errors
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def _pars(book: Path) -> list[tuple[str, int, int]]:
    """The overlay's sentences: (id, clipBegin ms, clipEnd ms), in reading order."""
    smil = etree.fromstring(members(book)["EPUB/article.smil"])
    return [(par.find("smil:text", NS).get("src").split("#")[1], smil_ms(par.find("smil:audio", NS).get("clipBegin")),
             smil_ms(par.find("smil:audio", NS).get("clipEnd"))) for par in smil.iterfind(".//smil:par", NS)]


def test_reading_system_opens_the_book_with_its_contents(reader: Any, sample_book: manifest.Edition) -> None:  # noqa: F811
    page, opened, errors = reader
    assert opened["title"] == sample_book.manifest["title"]
    assert opened["language"] in ("en", ["en"])
    assert opened["activeClass"] == "-epub-media-overlay-active"
    assert opened["sections"] == 2 and opened["overlaid"] == 1  # the cover page, then the article
    assert len(opened["toc"]) == len(sample_book.manifest["chapters"])
    assert opened["toc"][-1] == sample_book.manifest["chapters"][-1]["title"]  # the appeal, last
    assert errors == []


def test_reading_system_highlights_each_sentence_as_its_clip_plays(reader: Any, sample_book: manifest.Edition) -> None:  # noqa: F811
    page, _, errors = reader
    pars = _pars(book_of(sample_book))
    page.evaluate(f"() => {{ view.mediaOverlay.setRate({RATE}); view.startMediaOverlay() }}")
    # Three sentences heard in turn, as the reading system itself moves from clip to clip.
    page.wait_for_function("() => window.heard.length >= 3", timeout=60_000)
    page.evaluate("() => view.mediaOverlay.pause()")
    heard = page.evaluate("() => window.heard")
    assert [h["text"].split("#")[1] for h in heard] == [p[0] for p in pars[: len(heard)]]
    for entry, (_, begin, end) in zip(heard, pars):
        assert round(entry["begin"] * 1000) == begin and round(entry["end"] * 1000) == end
        # Highlighted while its own clip plays: timeupdate comes every 250 ms or so, at RATE times.
        assert entry["at"] is not None and begin / 1000 - 0.05 <= entry["at"] <= end / 1000 + 0.25 * RATE + 0.1, entry
    page.wait_for_function("id => active().includes(id)", arg=heard[-1]["text"].split("#")[1], timeout=10_000)
    assert page.evaluate("() => active()") == [heard[-1]["text"].split("#")[1]]  # one sentence marked
    assert errors == []


def test_reading_system_reaches_the_appeal_sentence_by_sentence(reader: Any, sample_book: manifest.Edition) -> None:  # noqa: F811
    page, _, errors = reader
    pars = _pars(book_of(sample_book))
    page.evaluate("() => { window.heard = []; view.mediaOverlay.stop(); view.startMediaOverlay() }")
    page.wait_for_function("() => window.heard.length >= 1", timeout=30_000)
    for count in range(2, len(pars) + 1):  # the reading system's "next sentence", to the end of the book
        page.evaluate("() => view.mediaOverlay.next()")
        page.wait_for_function("n => window.heard.length >= n", arg=count, timeout=30_000)
        wanted = pars[count - 1][0]
        page.wait_for_function("id => active().includes(id)", arg=wanted, timeout=10_000)
    page.evaluate("() => view.mediaOverlay.stop()")
    heard = [h["text"].split("#")[1] for h in page.evaluate("() => window.heard")]
    assert heard == [p[0] for p in pars]
    appeal = sample_book.manifest["chapters"][-1]["cues"]
    assert heard[-len(appeal):] == appeal
    assert errors == []
