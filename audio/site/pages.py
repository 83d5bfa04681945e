"""The pages' markup: what an edition's page and the list of editions show, and their HTML.

Plain Python rather than a template engine: importing and compiling one slowed every build
(docs/performance.md). Every value from an article or a manifest goes through `_e` (html.escape, quotes
included); only the page's own style and script are inlined as they are (player.py checks them).
"""
from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import NamedTuple


def _e(value: object) -> str:
    return escape(str(value), quote=True)


class Cue(NamedTuple):
    id: str
    start_ms: int
    end_ms: int
    text: str
    words: tuple[tuple[int, int, int, int], ...] = ()  # (start_ms, end_ms, at, to): text[at:to], in order


class Chapter(NamedTuple):
    kind: str
    title: str
    label: str  # as the chapter list shows it
    anchor: str
    start_ms: int
    time: str
    url: str | None
    heading: str | None  # a Markdown heading over the paragraph, shown above its text
    cues: tuple[Cue, ...]


class File(NamedTuple):
    name: str
    type: str
    label: str


class Page(NamedTuple):
    title: str
    publisher: str | None
    byline: str | None
    date: str | None
    duration: str
    sources: tuple[File, ...]
    transcript: str | None
    downloads: tuple[File, ...]
    chapters: tuple[Chapter, ...]
    engine: str
    voice: str | None
    built: str
    url: str | None


class Entry(NamedTuple):
    title: str
    href: str
    lang: str
    date: str
    datetime: str
    duration: str
    description: str
    audio: str | None
    audio_type: str
    key: str  # the edition's own name (its slug): how the page knows an edition it listed before


def document(lang: str, csp: str, title: str, style: str, body: Iterable[str], script: str | None) -> str:
    """The frame every page shares: `style` and `script` are the page's own, inlined as they are."""
    lines = [
        "<!doctype html>",
        f'<html lang="{_e(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="generator" content="audio-edition">',
        f"<title>{_e(title)}</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        *body,
    ]
    if script:
        lines.append(f"<script>{script}</script>")
    lines += ["</body>", "</html>"]
    return "\n".join(lines) + "\n"


_FOLLOW = '    <label class="option"><input type="checkbox" id="follow" checked> Scroll the text to follow the reading</label>'
_SKIP_APPEAL = ('    <label class="option"><input type="checkbox" id="skip-appeal"> '
                "Stop before the publisher’s message at the end</label>")
# Off by default: a highlight moving word by word distracts some readers (issue 25); remembered when set.
_WORDS = '    <label class="option"><input type="checkbox" id="words-on"> Highlight each word as it is read</label>'
_CONTROLS = """\
  <div id="controls" class="controls" hidden>
    <div class="buttons">
      <button type="button" id="play" aria-keyshortcuts="k">Play</button>
      <button type="button" id="resume" hidden>Resume</button>
    </div>
    <div class="buttons" role="group" aria-label="Paragraphs">
      <button type="button" id="prev" aria-keyshortcuts="p">Previous paragraph</button>
      <button type="button" id="next" aria-keyshortcuts="n">Next paragraph</button>
    </div>
    <div class="buttons" role="group" aria-label="Reading speed">
      <button type="button" id="slower" aria-keyshortcuts="&lt;">Slower</button>
      <span>Speed <output id="speed" for="slower faster">1×</output></span>
      <button type="button" id="faster" aria-keyshortcuts="&gt;">Faster</button>
    </div>
    <label class="option"><input type="checkbox" id="follow" checked> Scroll the text to follow the reading</label>
    <label class="option"><input type="checkbox" id="keys-on" checked> Single-key shortcuts</label>
    <p id="status" class="status" role="status"></p>
    <details class="keys">
      <summary>Keyboard shortcuts</summary>
      <dl>
        <dt><kbd>K</kbd> or <kbd>Space</kbd></dt><dd>Play or pause</dd>
        <dt><kbd>N</kbd></dt><dd>Next paragraph</dd>
        <dt><kbd>P</kbd></dt><dd>Back to the start of this paragraph; again for the one before</dd>
        <dt><kbd>&lt;</kbd> <kbd>&gt;</kbd></dt><dd>Slower, faster</dd>
        <dt><kbd>Enter</kbd></dt><dd>On a sentence or a chapter: move the reading there</dd>
        <dt><kbd>↑</kbd> <kbd>↓</kbd> <kbd>Home</kbd> <kbd>End</kbd></dt><dd>In the text: previous, next, first, last sentence</dd>
      </dl>
      <p>Single-key shortcuts can be switched off above; they do nothing while a form field has focus.</p>
    </details>
  </div>"""


def edition_body(page: Page, lang: str) -> list[str]:
    """An edition's page: the audio and its controls, the chapters, the text sentence by sentence."""
    meta = f"Audio edition, {_e(page.duration)}"
    if page.byline:
        meta += f" · By {_e(page.byline)}"
    if page.date:
        meta += f' · <time datetime="{_e(page.date)}">{_e(page.date)}</time>'
    out = ['<a class="skip" href="#text">Skip to the text</a>', '<header class="masthead">']
    if page.publisher:
        out.append(f'  <p class="publisher">{_e(page.publisher)}</p>')
    out += [f"  <h1>{_e(page.title)}</h1>", f'  <p class="meta">{meta}</p>', "</header>",
            '<main class="edition">', '<div class="panel">', '<section aria-labelledby="listen-h">',
            '  <h2 id="listen-h">Listen</h2>',
            '  <audio id="audio" controls preload="metadata" '
            'aria-label="Audio version of this article, read aloud by a synthetic voice">']
    out += [f'    <source src="{_e(s.name)}" type="{_e(s.type)}">' for s in page.sources]
    if page.transcript:
        out.append(f'    <track kind="captions" src="{_e(page.transcript)}" srclang="{_e(lang)}" label="Transcript">')
    out += ["    <p>This browser cannot play the audio here: download it below.</p>", "  </audio>",
            '  <ul class="downloads" aria-label="Files of this edition">']
    out += [f'    <li><a href="{_e(f.name)}" type="{_e(f.type)}">{_e(f.label)}</a></li>' for f in page.downloads]
    appeal = next((i for i, c in enumerate(page.chapters) if c.kind == "appeal"), None)
    controls = _CONTROLS if appeal is None else _CONTROLS.replace(_FOLLOW, _SKIP_APPEAL + "\n" + _FOLLOW)
    if any(cue.words for chapter in page.chapters for cue in chapter.cues):  # (the takes had word times)
        controls = controls.replace(_FOLLOW, _FOLLOW + "\n" + _WORDS)
    out += ["  </ul>", controls, "</section>", '<nav id="chapters" aria-labelledby="chapters-h">',
            '  <h2 id="chapters-h">Chapters</h2>', "  <ol>"]
    for index, chapter in enumerate(page.chapters):
        out.append(
            f'    <li><a href="#{_e(chapter.anchor)}" data-chapter="{index}" data-start="{chapter.start_ms}" '
            f'data-title="{_e(chapter.label)}">{_e(chapter.label)} <span class="time">'
            f'<span class="visually-hidden">at </span>{_e(chapter.time)}</span></a></li>'
        )
    out.append("  </ol>")
    if appeal is not None:
        out.append(f'  <p><a href="#{_e(page.chapters[appeal].anchor)}" id="to-appeal" data-goto="{appeal}">'
                   "Go to the publisher’s message</a></p>")
    out += ["</nav>", "</div>", '<article id="text" aria-labelledby="text-h" tabindex="-1">',
            '  <h2 id="text-h">Full text</h2>']
    for chapter in page.chapters:
        out += _chapter_text(chapter, page.publisher)
    voice = f", voice {_e(page.voice)}" if page.voice else ""
    original = f' <a href="{_e(page.url)}">The original article</a>.' if page.url else ""
    out += ["</article>", "</main>", '<footer class="site-footer">',
            f'  <p>Read by {_e(page.engine)}{voice}. Built {_e(page.built)}.{original} '
            '<a href="../index.html">All editions</a>.</p>', "</footer>"]
    return out


def _chapter_text(chapter: Chapter, publisher: str | None) -> list[str]:
    cues = " ".join(
        f'<span class="cue" id="{_e(cue.id)}" data-start="{cue.start_ms}" data-end="{cue.end_ms}">{_cue_text(cue)}</span>'
        for cue in chapter.cues
    )
    anchor = _e(chapter.anchor)
    heading = chapter.title if chapter.kind == "appeal" else chapter.heading
    if chapter.kind != "appeal" and not heading:
        intro = " intro" if chapter.kind == "intro" else ""
        return [f'  <p class="chapter{intro}" id="{anchor}" data-start="{chapter.start_ms}">{cues}</p>']
    appeal = " appeal" if chapter.kind == "appeal" else ""
    out = [f'  <section class="chapter{appeal}" id="{anchor}" data-start="{chapter.start_ms}" aria-labelledby="{anchor}-h">',
           f'    <h3 id="{anchor}-h">{_e(heading or "")}</h3>', f"    <p>{cues}</p>"]
    if chapter.kind == "appeal" and chapter.url:
        out.append(f'    <p><a href="{_e(chapter.url)}">Support {_e(publisher or "the publisher")}</a></p>')
    out.append("  </section>")
    return out


def _cue_text(cue: Cue) -> str:
    """The sentence, each word with a time in its own element (the player highlights it): no role, no
    label, nothing a screen reader announces word by word."""
    out: list[str] = []
    last = 0
    for start, end, at, to in cue.words:
        if not last <= at < to <= len(cue.text):
            continue
        out.append(_e(cue.text[last:at]))
        out.append(f'<span class="w" data-start="{start}" data-end="{end}">{_e(cue.text[at:to])}</span>')
        last = to
    out.append(_e(cue.text[last:]))
    return "".join(out)


def index_body(heading: str, entries: list[Entry]) -> list[str]:
    """The list of editions, newest first."""
    count = f"{len(entries)} edition{'' if len(entries) == 1 else 's'}, newest first."
    # new-count: filled in by the page's script, from what this browser listed on its last visit.
    out = ['<header class="masthead">', f"  <h1>{_e(heading)}</h1>", f'  <p class="meta">{count}</p>',
           '  <p class="meta" id="new-count" hidden></p>', "</header>", "<main>"]
    if not entries:
        return out + ["<p>No editions yet.</p>", "</main>"]
    out.append('<ol class="editions">')
    for entry in entries:
        audio = (f' · <a href="{_e(entry.audio)}" type="{_e(entry.audio_type)}">audio file'
                 f'<span class="visually-hidden"> of {_e(entry.title)}</span></a>') if entry.audio else ""
        out += [f'  <li lang="{_e(entry.lang)}" data-edition="{_e(entry.key)}">', f'    <h2><a href="{_e(entry.href)}">{_e(entry.title)}</a></h2>',
                f'    <p class="meta"><time datetime="{_e(entry.datetime)}">{_e(entry.date)}</time> · '
                f"{_e(entry.duration)}{audio}</p>",
                f"    <p>{_e(entry.description)}</p>", "  </li>"]
    return out + ["</ol>", "</main>"]
