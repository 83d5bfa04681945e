"""The accessible player page: rendered from edition.json, then driven in the system's headless Chromium."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from audio import edition, manifest
from audio.site import player
from audio.site.catalogue import Episode

from ..conftest import build_and_list

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]  # docs/standards.md
HOSTILE_TITLE = "<img src=x onerror=alert(3)> & <b>bold</b>"
HOSTILE = (
    "The council said <script>alert(1)</script> was found in the minutes.\n\n"
    'Then <img src=x onerror=alert(2)> appeared & "quotes" too.\n\n'
    "A Message from The Test Times: please support us.\n"
)


# ---- the page as HTML ----------------------------------------------------------------------------


def test_sample_page_is_published_with_the_edition(sample_edition: manifest.Edition) -> None:
    manifest = sample_edition.manifest
    page = sample_edition.directory / "index.html"
    entry = [f for f in manifest["files"] if f["role"] == "player"]
    assert entry == [{"name": "index.html", "type": "text/html", "role": "player", "bytes": page.stat().st_size}]

    doc = lxml_html.fromstring(page.read_bytes())
    assert doc.get("lang") == "en"
    assert doc.xpath("//h1")[0].text_content() == manifest["title"]
    audio = doc.get_element_by_id("audio")
    assert [s.get("src") for s in audio.iter("source")] == ["moscow-times-belarus.mp3", "moscow-times-belarus.m4a"]
    assert [t.get("src") for t in audio.iter("track")] == ["transcript.vtt"]
    assert audio.get("autoplay") is None  # WCAG 1.4.2
    # Every sentence is an element tied to its cue, in order, with the cue's own times.
    cues = doc.xpath("//*[@id='text']//span[@class='cue']")
    assert [(c.get("id"), int(c.get("data-start")), int(c.get("data-end")), c.text_content()) for c in cues] == [
        (c["id"], c["start_ms"], c["end_ms"], c["text"]) for c in manifest["cues"]
    ]
    links = doc.xpath("//nav[@id='chapters']//a[@data-chapter]")
    assert [int(a.get("data-start")) for a in links] == [c["start_ms"] for c in manifest["chapters"]]
    assert links[-1].text_content().startswith("A Message from The Moscow Times")
    for link in links:  # chapter links work without script: each names a chapter of the text
        assert doc.get_element_by_id(link.get("href")[1:]).get("class").startswith("chapter")
    # Offline and self-contained: nothing is loaded from anywhere but the edition's folder.
    for attr in doc.xpath("//@src | //@href"):
        assert "//" not in attr and not attr.startswith("/"), attr


def test_csp_allows_only_the_pages_own_script_and_style(sample_edition: manifest.Edition) -> None:
    text = (sample_edition.directory / "index.html").read_text(encoding="utf-8")
    doc = lxml_html.fromstring(text)
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
    styles = re.findall(r"<style>(.*?)</style>", text, re.S)
    assert len(scripts) == 1 and len(styles) == 1 and "<script src" not in text
    assert directives["script-src"] == _sha256(scripts[0])  # no 'unsafe-inline', no host
    assert directives["style-src"] == _sha256(styles[0])
    assert " on" not in " ".join(doc.xpath("//@*[starts-with(name(), 'on')]"))  # no inline handlers at all
    assert not doc.xpath("//@style")


def test_hostile_text_is_escaped_in_the_page(hostile: manifest.Edition) -> None:
    doc = lxml_html.fromstring((hostile.directory / "index.html").read_bytes())
    assert len(doc.xpath("//script")) == 1  # the player's own
    assert doc.xpath("//img | //b") == []
    assert doc.xpath("//h1")[0].text_content() == HOSTILE_TITLE
    assert doc.get_element_by_id("c1-0").text_content() == "The council said <script>alert(1)</script> was found in the minutes."
    assert doc.get_element_by_id("c2-0").text_content() == 'Then <img src=x onerror=alert(2)> appeared & "quotes" too.'
    index = lxml_html.fromstring((hostile.directory.parent / "index.html").read_bytes())
    assert index.xpath("//img | //b") == []
    assert [s.text for s in index.xpath("//script")] == [player._asset("index.js")]  # the list's own script only
    assert index.xpath("//ol[@class='editions']//h2")[0].text_content() == HOSTILE_TITLE


def test_only_web_links_become_links() -> None:
    manifest = _tiny_manifest(url="javascript:alert(1)", appeal_url="data:text/html,<script>alert(1)</script>")
    doc = lxml_html.fromstring(player.render_page(manifest))
    assert not [h for h in doc.xpath("//@href") if ":" in h.split("/")[0]]
    manifest = _tiny_manifest(url="https://example.org/a", appeal_url="https://example.org/give")
    hrefs = lxml_html.fromstring(player.render_page(manifest)).xpath("//@href")
    assert "https://example.org/a" in hrefs and "https://example.org/give" in hrefs


def test_markdown_headings_show_above_their_paragraph() -> None:
    manifest = _tiny_manifest()
    manifest["chapters"][1]["title"] = "Why it matters"  # a heading, not the paragraph's opening words
    doc = lxml_html.fromstring(player.render_page(manifest))
    assert [h.text_content() for h in doc.xpath("//article//h3")] == ["Why it matters", "A Message from Us"]
    manifest["chapters"][1]["title"] = "First sentence here…"  # the opening words: no heading
    doc = lxml_html.fromstring(player.render_page(manifest))
    assert [h.text_content() for h in doc.xpath("//article//h3")] == ["A Message from Us"]


def test_index_lists_editions_newest_first(tmp_path: Path, sample_out: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "index.html").write_text("page", encoding="utf-8")
    episodes = [_episode("new", "Newest <i>story</i>", dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)),
                _episode("old", "Older story", dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone.utc))]
    written = player.write_index(tmp_path, episodes)
    assert written == tmp_path / "index.html" and not list(tmp_path.glob(".*partial"))
    doc = lxml_html.fromstring(written.read_bytes())
    items = doc.xpath("//ol[@class='editions']/li")
    assert [i.xpath(".//h2")[0].text_content() for i in items] == ["Newest <i>story</i>", "Older story"]
    assert [i.xpath(".//h2/a/@href")[0] for i in items] == ["new/new.mp3", "old/index.html"]  # no page: the audio
    assert items[0].xpath(".//time/@datetime") == ["2026-03-02T09:00:00+00:00"]
    assert "2 March 2026" in items[0].text_content() and "3 min 5 s" in items[0].text_content()
    # Every build refreshes the real list from the catalogue.
    sample = lxml_html.fromstring((sample_out / "index.html").read_bytes())
    assert sample.xpath("//ol[@class='editions']//h2/a/@href") == ["moscow-times-belarus/index.html"]


# ---- the page in a browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (scripts/test installs Debian's chromium when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Opened:
    """A page in a fresh browser context, with what it logged and any dialog it tried to open."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: self.requests.append(r.url))

    def seek(self, ms: int) -> None:
        """Set currentTime as a script would, and wait until the seek has been made."""
        self.page.evaluate(
            """ms => new Promise(done => { const a = document.getElementById('audio');
                 a.addEventListener('seeked', done, {once: true}); a.currentTime = ms / 1000; })""",
            ms,
        )

    def state(self) -> dict[str, Any]:
        return dict(self.page.evaluate(
            """() => ({ms: Math.round(document.getElementById('audio').currentTime * 1000),
                      current: [...document.querySelectorAll('.cue[aria-current]')].map(e => e.id),
                      chapter: [...document.querySelectorAll('#chapters a[aria-current]')].map(e => e.dataset.chapter),
                      status: document.getElementById('status') ? document.getElementById('status').textContent : null,
                      rate: document.getElementById('audio').playbackRate,
                      scrollY: window.scrollY})"""
        ))


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Opened]]:
    contexts: list[Any] = []

    def opener(path: Path, **options: Any) -> Opened:
        context = browser.new_context(**options)
        contexts.append(context)
        opened = Opened(context.new_page())
        opened.page.goto(path.as_uri())
        if options.get("java_script_enabled", True) and opened.page.locator("#audio").count():
            # A function, not an expression string: Playwright evals strings, which the page's CSP forbids.
            opened.page.wait_for_function("() => document.getElementById('audio').readyState >= 1")  # seekable
        return opened

    yield opener
    for context in contexts:
        context.close()


def test_highlight_is_the_cue_that_contains_the_time(open_page: Callable[..., Opened], sample_edition: manifest.Edition) -> None:
    cues = sample_edition.manifest["cues"]
    opened = open_page(sample_edition.directory / "index.html")
    assert opened.state()["current"] == []  # before the first sentence: nothing marked
    for cue in (cues[1], cues[7], cues[-3], cues[-1]):
        opened.seek((cue["start_ms"] + cue["end_ms"]) // 2)
        state = opened.state()
        assert state["current"] == [cue["id"]]
        assert state["chapter"] == [str(cue["chapter"])]
    # In the pause after a sentence, that sentence stays marked until the next begins.
    opened.seek(cues[3]["end_ms"] + 100)
    assert opened.state()["current"] == [cues[3]["id"]]

    # Real playback: K plays, K pauses; the mark is on the cue holding the time it stopped at.
    opened.seek(cues[2]["start_ms"])
    opened.page.keyboard.press("k")
    opened.page.wait_for_function(
        "ms => { const a = document.getElementById('audio'); return !a.paused && a.currentTime * 1000 > ms; }",
        arg=cues[2]["start_ms"] + 1500,
    )
    assert opened.page.text_content("#play") == "Pause"
    opened.page.keyboard.press("k")
    opened.page.wait_for_function("() => document.getElementById('audio').paused")
    stopped = opened.state()["ms"]
    expected = [c["id"] for c in cues if c["start_ms"] <= stopped][-1]
    opened.page.wait_for_function("id => document.querySelector('.cue[aria-current]').id === id", arg=expected)
    # audio.paused turns true at once; the "pause" event that relabels the button is queued after it.
    opened.page.wait_for_function("() => document.getElementById('play').textContent === 'Play'")
    assert opened.errors == [] and opened.dialogs == []


def test_paragraph_keys_move_time_and_highlight(open_page: Callable[..., Opened], sample_edition: manifest.Edition) -> None:
    chapters = sample_edition.manifest["chapters"]
    opened = open_page(sample_edition.directory / "index.html")
    opened.seek(chapters[3]["start_ms"] + 3000)
    opened.page.keyboard.press("n")
    state = opened.state()
    assert state["ms"] == chapters[4]["start_ms"]
    assert state["current"] == [chapters[4]["cues"][0]] and state["chapter"] == ["4"]
    assert state["status"] == f"Chapter 5 of {len(chapters)}: {chapters[4]['title']}"
    opened.page.keyboard.press("p")  # at a paragraph's start: the one before
    assert opened.state()["ms"] == chapters[3]["start_ms"]
    opened.seek(chapters[3]["start_ms"] + 3000)
    opened.page.keyboard.press("p")  # well into a paragraph: back to its start
    assert opened.state()["ms"] == chapters[3]["start_ms"]
    opened.page.click("#next")  # the buttons do the same
    assert opened.state()["ms"] == chapters[4]["start_ms"]
    opened.seek(chapters[-1]["start_ms"])
    opened.page.keyboard.press("n")
    assert opened.state()["ms"] == chapters[-1]["start_ms"] and "last" in opened.state()["status"]

    # Speed: > faster, < slower, within 0.5×–2×.
    opened.page.keyboard.press(">")
    assert opened.state()["rate"] == 1.25 and opened.page.text_content("#speed") == "1.25×"
    for _ in range(5):
        opened.page.keyboard.press("<")
    assert opened.state()["rate"] == 0.5 and opened.state()["status"] == "Speed 0.5×"

    # Single-key shortcuts can be switched off (WCAG 2.1.4); then N does nothing.
    opened.page.click("#keys-on")
    before = opened.state()["ms"]
    opened.seek(chapters[2]["start_ms"])
    opened.page.keyboard.press("n")
    assert opened.state()["ms"] == chapters[2]["start_ms"] != before
    assert opened.errors == []


def test_click_or_enter_on_a_sentence_or_chapter_seeks(open_page: Callable[..., Opened], sample_edition: manifest.Edition) -> None:
    manifest = sample_edition.manifest
    cue = manifest["cues"][5]
    opened = open_page(sample_edition.directory / "index.html")
    opened.page.click(f"#{cue['id']}")
    assert opened.state()["ms"] == cue["start_ms"] and opened.state()["current"] == [cue["id"]]

    chapter = manifest["chapters"][9]
    opened.page.click("#chapters a[data-chapter='9']")
    assert opened.state()["ms"] == chapter["start_ms"] and opened.state()["current"] == [chapter["cues"][0]]
    assert opened.page.evaluate("location.hash") == "#ch-9"

    # The text is one tab stop; arrows move between sentences, Enter seeks, Tab leaves.
    opened.page.focus("#c0-0")
    opened.page.keyboard.press("ArrowDown")
    assert opened.page.evaluate("document.activeElement.id") == "c1-0"
    assert opened.page.evaluate("[...document.querySelectorAll('.cue')].filter(c => c.tabIndex === 0).map(c => c.id)") == ["c1-0"]
    opened.page.keyboard.press("End")
    last = manifest["cues"][-1]
    assert opened.page.evaluate("document.activeElement.id") == last["id"]
    opened.page.keyboard.press("Enter")
    assert opened.state()["ms"] == last["start_ms"] and opened.state()["current"] == [last["id"]]
    opened.page.keyboard.press("Tab")
    assert opened.page.evaluate("document.activeElement.textContent") == "All editions"

    opened.page.focus("#chapters a[data-chapter='2']")
    opened.page.keyboard.press("Enter")
    assert opened.state()["ms"] == manifest["chapters"][2]["start_ms"]
    assert opened.errors == []


def test_keyboard_reaches_everything_with_visible_focus_and_no_trap(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition
) -> None:
    opened = open_page(sample_edition.directory / "index.html")
    stops: list[tuple[str, str, str]] = []
    for _ in range(80):
        opened.page.keyboard.press("Tab")
        stop = opened.page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                       return [e.tagName, e.id || e.textContent.trim().slice(0, 30), s.outlineStyle + ' ' + s.outlineWidth]; }"""
        )
        stops.append(tuple(stop))
        if len(stops) > 1 and stop[1] == "Skip to the text":
            break
    names = [s[1] for s in stops]
    assert names[-1] == "Skip to the text", "Tab never came back round: a keyboard trap"
    for wanted in ("audio", "play", "prev", "next", "slower", "faster", "follow", "keys-on", "Keyboard shortcuts",
                   "Introduction at 0:00", "c0-0", "All editions"):
        assert wanted in names, wanted
    assert sum(1 for s in stops if s[1].startswith("c") and "-" in s[1] and s[0] == "SPAN") == 1
    for tag, name, outline in stops:
        if tag != "BODY":  # between the last stop and the first, focus is on the page itself
            style, width = outline.split()
            assert style != "none" and float(width.rstrip("px")) >= 2, (tag, name, outline)


def test_reduced_motion_keeps_the_sentence_in_view_without_animation(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition
) -> None:
    cues = sample_edition.manifest["cues"]
    normal = open_page(sample_edition.directory / "index.html", viewport={"width": 800, "height": 600})
    assert normal.page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "smooth"
    reduced = open_page(sample_edition.directory / "index.html", viewport={"width": 800, "height": 600},
                        reduced_motion="reduce")
    assert reduced.page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "auto"
    in_view = "id => { const r = document.getElementById(id).getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    assert not reduced.page.evaluate(in_view, cues[8]["id"])
    reduced.seek(cues[8]["start_ms"])
    # No animation: in view at once, scrolled only as far as needed (its bottom at the window's bottom).
    assert reduced.page.evaluate(in_view, cues[8]["id"])
    bottom = reduced.page.evaluate(f"document.getElementById('{cues[8]['id']}').getBoundingClientRect().bottom")
    assert abs(bottom - 600) <= 2
    scrolled = reduced.state()["scrollY"]
    reduced.seek(cues[7]["start_ms"])  # already fully visible: no scroll at all
    assert reduced.state()["scrollY"] == scrolled
    normal.seek(cues[8]["start_ms"])
    normal.page.wait_for_function(in_view, arg=cues[8]["id"])  # smooth, but it gets there

    # "Scroll the text to follow the reading" off: the mark moves, the page does not (WCAG 2.2.2).
    reduced.page.click("#follow")
    scrolled = reduced.state()["scrollY"]
    reduced.seek(cues[-1]["start_ms"])
    assert reduced.state()["current"] == [cues[-1]["id"]] and reduced.state()["scrollY"] == scrolled


@pytest.mark.parametrize("forced", [False, True], ids=["normal", "forced-colors"])
def test_highlight_does_not_rely_on_colour(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition, forced: bool
) -> None:
    opened = open_page(sample_edition.directory / "index.html", forced_colors="active" if forced else "none")
    assert opened.page.evaluate("matchMedia('(forced-colors: active)').matches") is forced
    cue = sample_edition.manifest["cues"][4]
    opened.seek(cue["start_ms"])
    style = "id => { const s = getComputedStyle(document.getElementById(id)); return [s.outlineStyle, s.outlineWidth, s.backgroundColor]; }"
    marked = opened.page.evaluate(style, cue["id"])
    plain = opened.page.evaluate(style, sample_edition.manifest["cues"][5]["id"])
    assert marked[0] == "solid" and marked[1] == "2px" and plain[0] == "none"  # a frame, not only a colour
    assert marked[2] != plain[2]


def test_reflows_at_400_percent_zoom(open_page: Callable[..., Opened], sample_edition: manifest.Edition) -> None:
    # 1280×1024 at 400 %: a 320×256 CSS-pixel window (WCAG 1.4.10).
    opened = open_page(sample_edition.directory / "index.html", viewport={"width": 320, "height": 256})
    assert opened.page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    boxes = opened.page.evaluate("[...document.querySelectorAll('button, #chapters a')].map(e => e.getBoundingClientRect().right)")
    assert boxes and max(boxes) <= 320


def test_without_javascript_audio_text_and_chapter_links_remain(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition
) -> None:
    opened = open_page(sample_edition.directory / "index.html", java_script_enabled=False)
    page = opened.page
    assert page.is_visible("#audio") and not page.is_visible("#controls")
    assert page.locator(".cue").all_text_contents() == [c["text"] for c in sample_edition.manifest["cues"]]
    page.click("#chapters a[href='#ch-12']")
    assert page.url.endswith("#ch-12") and page.locator("#ch-12").is_visible()


def test_file_url_loads_only_its_own_folder_and_csp_blocks_injected_script(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition
) -> None:
    opened = open_page(sample_edition.directory / "index.html")
    folder = sample_edition.directory.as_uri() + "/"
    assert opened.requests and all(url.startswith(folder) for url in opened.requests), opened.requests
    assert opened.page.is_visible("#controls")  # its own script ran: the hash matched
    blocked = opened.page.evaluate(
        """() => new Promise(done => {
             document.addEventListener('securitypolicyviolation', e => done(e.violatedDirective), {once: true});
             const s = document.createElement('script'); s.textContent = 'window.injected = 1';
             document.body.appendChild(s); })"""
    )
    assert blocked.startswith("script-src") and opened.page.evaluate("window.injected") is None
    assert opened.errors == [e for e in opened.errors if "Content Security Policy" in e]


def test_hostile_article_shows_as_text_and_runs_nothing(open_page: Callable[..., Opened], hostile: manifest.Edition) -> None:
    opened = open_page(hostile.directory / "index.html")
    page = opened.page
    assert page.text_content("h1") == HOSTILE_TITLE and page.title().startswith(HOSTILE_TITLE)
    assert page.text_content("#c1-0") == "The council said <script>alert(1)</script> was found in the minutes."
    assert page.text_content("#c2-0") == 'Then <img src=x onerror=alert(2)> appeared & "quotes" too.'
    page.click("#c2-0")  # driving the player does not bring the text to life either
    page.keyboard.press("n")
    assert opened.state()["current"] == ["c3-0"]
    listing = open_page(hostile.directory.parent / "index.html")
    assert listing.page.text_content(".editions h2") == HOSTILE_TITLE
    for seen in (opened, listing):  # the page's own script, nothing more
        assert seen.page.evaluate("[document.querySelectorAll('img, b').length, document.scripts.length]") == [0, 1]
        assert seen.dialogs == [] and seen.errors == []


def test_axe_finds_no_wcag_a_or_aa_violations(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition, capsys: pytest.CaptureFixture[str]
) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed")
    axe = axe_module.Axe()
    page_path = sample_edition.directory / "index.html"
    checked: dict[str, int] = {}
    for name, path, options in (
        ("edition", page_path, {}),
        ("edition, dark", page_path, {"color_scheme": "dark"}),
        ("edition, playing mark", page_path, {}),
        ("edition, word mark", page_path, {}),
        ("edition, word mark, dark", page_path, {"color_scheme": "dark"}),
        ("list of editions", sample_edition.directory.parent / "index.html", {}),
    ):
        opened = open_page(path, **options)
        if "mark" in name:
            if "word" in name:
                opened.page.check("#words-on")
            word = sample_edition.manifest["cues"][3]["words"][2]
            opened.seek((word["start_ms"] + word["end_ms"]) // 2 if "word" in name else sample_edition.manifest["cues"][3]["start_ms"])
            assert opened.page.locator(".w.now").count() == (1 if "word" in name else 0)
            opened.page.click("details.keys summary")
        result = axe.run(opened.page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}}).response
        violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
        assert violations == [], name
        checked[name] = sum(len(result[k]) for k in ("passes", "violations", "incomplete", "inapplicable"))
        assert result["passes"], name
    with capsys.disabled():
        print(f"\naxe-core {result['testEngine']['version']}: rules checked per page {checked}, tags {AXE_TAGS}")


# ---- helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> manifest.Edition:
    """A real build of an article whose text and title are markup."""
    source = tmp_path_factory.mktemp("hostile") / "hostile.txt"
    source.write_text(HOSTILE, encoding="utf-8")
    return build_and_list(source, edition.BuildOptions(out=source.parent / "out", title=HOSTILE_TITLE))


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _episode(slug: str, title: str, when: dt.datetime) -> Episode:
    return Episode(
        guid=slug, slug=slug, title=title, description=f"About {title}", language="en", pub_date=when,
        duration_ms=185_000, enclosure=f"{slug}/{slug}.mp3", bytes=1000, mime_type="audio/mpeg", chapters=None,
        transcript=None, source_sha256="0" * 64, first_built=when, last_built=when,
    )


def _tiny_manifest(url: str | None = None, appeal_url: str | None = None) -> dict[str, Any]:
    return {
        "title": "T", "publisher": "Us", "language": "en", "duration_ms": 9000, "url": url,
        "files": [{"name": "t.mp3", "type": "audio/mpeg", "role": "audio", "bytes": 10}],
        "chapters": [
            {"kind": "intro", "title": "T", "start_ms": 0, "end_ms": 1000, "url": None, "cues": ["c0-0"]},
            {"kind": "paragraph", "title": "First sentence here…", "start_ms": 1000, "end_ms": 5000, "url": None,
             "cues": ["c1-0", "c1-1"]},
            {"kind": "appeal", "title": "A Message from Us", "start_ms": 5000, "end_ms": 9000, "url": appeal_url,
             "cues": ["c2-0"]},
        ],
        "cues": [
            {"id": "c0-0", "chapter": 0, "start_ms": 100, "end_ms": 900, "text": "T."},
            {"id": "c1-0", "chapter": 1, "start_ms": 1000, "end_ms": 2500, "text": "First sentence here."},
            {"id": "c1-1", "chapter": 1, "start_ms": 2800, "end_ms": 4500, "text": "Second."},
            {"id": "c2-0", "chapter": 2, "start_ms": 5000, "end_ms": 8000, "text": "Please give."},
        ],
    }


def test_the_page_remembers_the_place_the_speed_and_the_chapters_heard(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition
) -> None:
    chapters = sample_edition.manifest["chapters"]
    opened = open_page(sample_edition.directory / "index.html")
    page = opened.page
    assert page.locator("#resume").is_hidden()  # a first visit: nothing to resume

    # Speed in steps up to 3×, and no further.
    for _ in range(10):
        page.keyboard.press(">")
    assert opened.state()["rate"] == 3 and page.text_content("#speed") == "3×"

    # Played across the end of chapter 3 into chapter 4: chapter 3 is heard, the ones skipped by the seek are not.
    opened.seek(chapters[3]["end_ms"] - 700)
    page.keyboard.press("k")
    page.wait_for_function("ms => document.getElementById('audio').currentTime * 1000 > ms",
                           arg=chapters[4]["start_ms"] + 1500)
    page.keyboard.press("k")
    page.wait_for_function("() => document.getElementById('play').textContent === 'Play'")
    stopped = opened.state()["ms"]
    heard = "() => [...document.querySelectorAll('#chapters a.heard')].map(a => a.dataset.chapter)"
    assert page.evaluate(heard) == ["3"]
    assert page.text_content('#chapters a[data-chapter="3"]').endswith("✓, heard")

    # Back on the page: offered the place it was left at; the speed and the marks are kept.
    page.reload()
    page.wait_for_function("() => document.getElementById('audio').readyState >= 1")
    minutes, seconds = divmod(stopped // 1000, 60)
    assert page.locator("#resume").is_visible()
    assert page.text_content("#resume") == f"Resume at {minutes}:{seconds:02d}"
    assert page.evaluate(heard) == ["3"] and opened.state()["rate"] == 3
    page.click("#resume")
    state = opened.state()
    assert state["ms"] == stopped and state["status"] == f"Resumed at {minutes}:{seconds:02d}"
    assert page.locator("#resume").is_hidden()
    assert opened.errors == []


def test_go_to_the_appeal_and_stop_before_it(open_page: Callable[..., Opened], sample_edition: manifest.Edition) -> None:
    chapters = sample_edition.manifest["chapters"]
    cues = {c["id"]: c for c in sample_edition.manifest["cues"]}
    appeal = chapters[-1]
    assert appeal["kind"] == "appeal"
    opened = open_page(sample_edition.directory / "index.html")
    page = opened.page
    page.click("#to-appeal")
    assert opened.state()["ms"] == appeal["start_ms"] and opened.state()["chapter"] == [str(len(chapters) - 1)]

    page.check("#skip-appeal")
    opened.seek(appeal["start_ms"] - 1500)
    page.keyboard.press("k")
    page.wait_for_function("() => document.getElementById('play').textContent === 'Pause'")
    page.wait_for_function("() => document.getElementById('play').textContent === 'Play'")
    state = opened.state()
    first = cues[appeal["cues"][0]]
    assert appeal["start_ms"] <= state["ms"] < first["end_ms"]  # stopped at its start, not played through
    assert state["status"] == "Stopped before the publisher’s message."
    page.reload()
    assert page.is_checked("#skip-appeal")  # a preference, kept as the others are
    assert opened.errors == []


# The highlighted word must hold the audio's time to within this (currentTime is read back in whole ms).
WORD_TOLERANCE_MS = 1


def test_the_word_highlight_follows_the_audio_at_five_seek_points(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition
) -> None:
    cues = sample_edition.manifest["cues"]
    opened = open_page(sample_edition.directory / "index.html")
    page = opened.page
    now = """() => { const w = document.querySelector('.w.now');
                     return w && {text: w.textContent, start: +w.dataset.start, end: +w.dataset.end,
                                   cue: w.closest('.cue').id, ms: document.getElementById('audio').currentTime * 1000}; }"""
    # Off by default: the sentence is marked, no word is.
    opened.seek((cues[2]["start_ms"] + cues[2]["end_ms"]) // 2)
    assert page.evaluate(now) is None and not page.is_checked("#words-on")
    page.check("#words-on")
    # A sentence's first word, last word, and words inside others, across the edition.
    points = [(cue, cue["words"][k]) for cue, k in ((cues[1], 3), (cues[4], 0), (cues[9], -1),
                                                     (cues[15], len(cues[15]["words"]) // 2), (cues[-2], 1))]
    for cue, word in points:
        opened.seek((word["start_ms"] + word["end_ms"]) // 2)
        shown = page.evaluate(now)
        assert shown is not None, word
        assert shown["cue"] == cue["id"] and shown["text"] == word["text"]
        assert shown["start"] - WORD_TOLERANCE_MS <= shown["ms"] < shown["end"] + WORD_TOLERANCE_MS
    # Playing, then paused anywhere: the word marked is the one whose time holds the audio's.
    opened.seek(cues[6]["start_ms"])
    page.keyboard.press("k")
    page.wait_for_function("ms => document.getElementById('audio').currentTime * 1000 > ms", arg=cues[6]["start_ms"] + 1200)
    page.keyboard.press("k")
    page.wait_for_function("() => document.getElementById('play').textContent === 'Play'")
    shown = page.evaluate(now)
    if shown is not None:  # (a pause between two sentences marks no word)
        assert shown["start"] - WORD_TOLERANCE_MS <= shown["ms"] < shown["end"] + WORD_TOLERANCE_MS
    # No announcement word by word: the words carry no aria-current, and nothing in a live region changed.
    assert page.evaluate("() => document.querySelectorAll('.w[aria-current], .w[role], [aria-live] .w').length") == 0
    page.reload()
    page.wait_for_function("() => document.getElementById('audio').readyState >= 1")
    assert page.is_checked("#words-on")  # remembered, as the other settings are
    assert opened.errors == []


def test_the_word_highlight_has_no_transition_under_reduced_motion(
    open_page: Callable[..., Opened], sample_edition: manifest.Edition
) -> None:
    cue = sample_edition.manifest["cues"][3]
    transitions = {}
    for motion in ("no-preference", "reduce"):
        opened = open_page(sample_edition.directory / "index.html", reduced_motion=motion)
        opened.page.check("#words-on")
        opened.seek((cue["words"][1]["start_ms"] + cue["words"][1]["end_ms"]) // 2)
        transitions[motion] = opened.page.evaluate(
            "() => getComputedStyle(document.querySelector('.w.now')).transitionDuration")
    assert transitions["no-preference"] != "0s" and set(transitions["reduce"].split(", ")) == {"0s"}
