"""Hostile titles and text through the podcast feed and the player page: read back exactly, never run."""
from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import podcastparser
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from audio import manifest
from audio.cli.main import main
from audio.site import catalogue, feed

from ..test_hostile import CHARS, HOSTILE
from .test_feed import BASE, write_config
from .test_player import Opened, browser  # noqa: F401  # the module's Chromium, launched once

# Each a (title, text) pair: markup, CDATA ends, paths, quotes, entities, RTL, emoji, combining marks.
FIXED = [
    ("../../etc/passwd", "The <script>alert(1)</script> tag was found in ../../etc/passwd today.\n\n"
     "Then <img src=x onerror=alert(2)> and <svg onload=alert(3)> appeared in the minutes."),
    ("<script>alert(1)</script>", "Inside the feed ]]> ends a CDATA section and <![CDATA[ opens one.\n\n"
     "Entities stay text: &amp; &lt;b&gt; &#60;i&#62; &nbsp; and AT&T; rose."),
    ("]]><item><title>Injected</title></item>", "Quotes \"double\" and 'single' and `back` ticks were used.\n\n"
     "He wrote \"><script>window.pwned=1</script> in the form, then </title></p> too."),
    ("Tom \"&\" Jerry's &amp; &#60;b&#62; <b>bold</b>", "\u202eReversed text and مرحبا بالعالم with שלום עולם were read.\n\n"
     "Emoji 👩🏽\u200d⚕️ and 🇺🇦 and e\u0301 combining marks, 汉字 and Ж, cost $500."),
]
# Every element the page templates make: anything else in a page came from the article.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "script", "a", "header", "p", "h1", "h2", "h3", "time", "main",
    "div", "section", "audio", "source", "track", "ul", "ol", "li", "button", "span", "output", "label", "input",
    "details", "summary", "dl", "dt", "dd", "kbd", "nav", "article", "footer",
}
PAGE_STATE = """() => ({
    pwned: window.pwned !== undefined,
    scripts: document.scripts.length,
    tags: [...new Set([...document.querySelectorAll('*')].map(e => e.localName))],
    title: document.title,
    h1: [document.querySelector('h1').textContent, document.querySelector('h1').childElementCount],
    // Elements in a sentence other than its words' own spans (which hold text only): none.
    cues: [...document.querySelectorAll('.cue')].map(e => [e.textContent,
        e.querySelectorAll(':scope > :not(span.w[data-start][data-end]), span.w *').length]),
    editions: [...document.querySelectorAll('.editions h2')].map(e => [e.textContent, e.querySelector('a').childElementCount]),
})"""
_numbers = itertools.count()
OUTCOMES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A folder with a publisher config whose [feed] table makes every build rewrite out/feed.xml."""
    folder = tmp_path_factory.mktemp("hostile-site")
    write_config(folder / "publisher.toml")
    OUTCOMES.clear()
    yield folder
    request.config.pluginmanager.get_plugin("terminalreporter").write_line(
        f"hostile titles and text: {OUTCOMES['built']} editions built, their feed and pages checked; "
        f"{OUTCOMES['refused']} refused with one line and exit 2"
    )


def build(site: Path, title: str | None, text: str) -> manifest.Edition | None:
    """Build through the CLI into site/out with the feed config; None when refused as bad input."""
    source = site / f"story-{next(_numbers)}.txt"
    source.write_text(text, encoding="utf-8")
    args = ["build", str(source), "--out", str(site / "out"), "--config", str(site / "publisher.toml"), "--rate", "450",
            "--jobs", "1"]  # a short article: one engine in this process beats starting workers
    result = CliRunner().invoke(main, args + (["--title", title] if title is not None else []))
    if result.exit_code == 2:
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
        OUTCOMES["refused"] += 1
        return None
    assert result.exit_code == 0, (result.output, result.exception)
    OUTCOMES["built"] += 1
    return manifest.load(site / "out" / source.stem)


def check_feed(out: Path) -> None:
    """Every episode as two real podcast parsers read it equals the catalogue (and edition.json), exactly."""
    raw = (out / "feed.xml").read_bytes()
    listed = catalogue.episodes(out)
    gpodder = podcastparser.parse(BASE + "feed.xml", io.BytesIO(raw))["episodes"]
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(gpodder) == len(parsed.entries) == len(listed)
    for episode, got, entry in zip(listed, gpodder, parsed.entries):
        record = manifest.load(out / episode.slug).manifest
        assert episode.title == record["title"] and episode.description == record["lede"]
        audio = out / episode.enclosure
        url = BASE + episode.enclosure  # named by its content, the same file as the page's own
        assert re.fullmatch(rf"{re.escape(episode.slug)}/{re.escape(episode.slug)}\.[0-9a-f]{{12}}\.mp3", episode.enclosure)
        assert audio.samefile(out / episode.slug / f"{episode.slug}.mp3")
        lines = feed.timecodes(episode.marks)  # the chapters' timecodes after the lede, one a line
        description = episode.description + "".join("\n" + line for line in lines)
        # gPodder's parser
        assert got["title"] == episode.title
        assert got["guid"] == episode.guid
        assert got["link"] == f"{BASE}{episode.slug}/"
        assert got["published"] == int(episode.pub_date.timestamp())
        assert got["total_time"] == max(1, round(episode.duration_ms / 1000))
        assert got["enclosures"] == [{"url": url, "file_size": audio.stat().st_size, "mime_type": "audio/mpeg"}]
        assert shown(got.get("description_html") or got["description"]) == description
        # feedparser, as feed readers and many podcast apps use it
        assert entry.title == as_feedparser_reads(episode.title)
        assert entry.id == episode.guid and entry.link == f"{BASE}{episode.slug}/"
        assert entry.published_parsed[:6] == episode.pub_date.utctimetuple()[:6]
        assert entry.itunes_duration == str(max(1, round(episode.duration_ms / 1000)))
        [enclosure] = entry.enclosures
        assert (enclosure.href, int(enclosure.length), enclosure.type) == (url, audio.stat().st_size, "audio/mpeg")
        assert entry.summary_detail.type == "text/html" and shown(entry.summary) == as_feedparser_reads(description)
        assert entry.podcast_chapters["url"] == BASE + str(episode.chapters)
        assert entry.podcast_transcript["url"] == BASE + episode.transcripts[-1].path  # (feedparser keeps the last: the SRT)


def as_feedparser_reads(text: str) -> str:
    """feedparser takes element text that is valid UTF-8 once encoded as ISO-8859-1 for text encoded twice,
    and decodes it again (feedparser/mixin.py): "YÈ¨#" reads as "YȨ#". The feed holds the text exactly."""
    try:
        return text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def shown(description: str) -> str:
    """What a podcast app shows for an RSS description, which apps read as HTML."""
    return str(lxml_html.fragment_fromstring(description, create_parent="div").text_content())


def check_page(browser: Any, built: manifest.Edition) -> None:  # noqa: F811
    """The edition's page and the list of editions in Chromium: the text shows literally and nothing of it runs."""
    manifest = built.manifest
    context = browser.new_context()
    try:
        for path in (built.directory / "index.html", built.directory.parent / "index.html"):
            opened = Opened(context.new_page())
            opened.page.goto(path.as_uri())
            state = opened.page.evaluate(PAGE_STATE)
            assert opened.dialogs == [] and not state["pwned"], opened.dialogs  # no alert(), no window.pwned
            assert opened.errors == [], opened.errors  # console clean: not even a blocked script
            assert state["scripts"] == 1  # the page's own, nothing more
            assert set(state["tags"]) <= TEMPLATE_TAGS, set(state["tags"]) - TEMPLATE_TAGS
            if path.parent == built.directory:
                assert state["h1"] == [manifest["title"], 0]
                assert state["title"] == f"{manifest['title']} (audio edition)"
                assert state["cues"] == [[cue["text"], 0] for cue in manifest["cues"]]
            else:
                titles = [e.title for e in catalogue.episodes(built.directory.parent)]
                assert state["editions"] == [[title, 0] for title in titles]
            opened.page.close()
    finally:
        context.close()


def test_fixed_hostile_titles_and_text_round_trip_and_never_run(site: Path, browser: Any) -> None:  # noqa: F811
    for title, text in FIXED:
        built = build(site, title, text)
        assert built is not None
        assert built.manifest["title"] == title  # given titles are kept exactly, markup and all
        spoken = "".join(cue["text"] for cue in built.manifest["cues"]).replace(" ", "")  # cues split "<!" from "[CDATA["
        for fragment in ("<script>alert(1)</script>", "]]>", "<![CDATA[", "&amp; &lt;b&gt; &#60;i&#62;",
                         "\"><script>window.pwned=1</script>", "👩🏽\u200d⚕️", "\u202e"):
            if fragment in text:
                assert fragment.replace(" ", "") in spoken, fragment
        check_feed(site / "out")
        check_page(browser, built)


# A title or text made of hostile pieces and random characters; a word makes the text readable.
PIECES = st.lists(st.one_of(st.text(CHARS, max_size=12), HOSTILE), max_size=6).map("".join)
TITLE = st.one_of(st.none(), PIECES)
TEXT = st.tuples(PIECES, PIECES, PIECES).map(
    lambda p: f"{p[0]} Minsk said {p[1]}.\n\n{p[2]} Kyiv replied.".replace("\x00", "")  # NUL: a binary file (test_hostile)
)
HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


def check_generated(site: Path, browser: Any, title: str | None, text: str) -> None:  # noqa: F811
    built = build(site, title, text)
    if built is None:
        return  # refused with one line and exit 2 (checked in build)
    check_feed(site / "out")
    check_page(browser, built)


@settings(max_examples=3, deadline=None, suppress_health_check=HEALTH)
@given(title=TITLE, text=TEXT)
def test_generated_titles_and_text_round_trip_and_never_run(site: Path, browser: Any, title: str | None, text: str) -> None:  # noqa: F811
    check_generated(site, browser, title, text)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=HEALTH)
@given(title=TITLE, text=TEXT)
def test_many_generated_titles_and_text_round_trip_and_never_run(
    site: Path, browser: Any, title: str | None, text: str  # noqa: F811
) -> None:
    check_generated(site, browser, title, text)
