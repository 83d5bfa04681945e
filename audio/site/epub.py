"""The EPUB 3 talking book: edition.json and the edition's own audio -> out/<slug>/<slug>.epub (Media Overlays).

One XHTML content document holds the article, every sentence an element with the cue's id; one SMIL
overlay pairs each sentence with its clip of the edition's MP3 (or M4A), cut at the cue times the
transcript has, so the book, the page and transcript.vtt agree. Built from the manifest, as the page is.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from ..errors import naming
from . import cover
from .pages import Chapter, Page
from .player import edition_page

MEDIA_TYPE = "application/epub+zip"
ROLE = "book"
ACTIVE_CLASS = "-epub-media-overlay-active"
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"
COVER_SIZE = 1400  # px, square: the least Apple Books takes; the 3000 px feed artwork costs 0.9 s to draw
# The audio in the book, by the edition's files' MIME types, the first found: the MP3 where there is one.
AUDIO = {"audio/mpeg": "audio/mpeg", "audio/x-m4a": "audio/mp4"}
TEXT = "article.xhtml"
OVERLAY = "article.smil"
COVER_PAGE = "cover.xhtml"
OVERLAY_ID = "mo1"
_RTL = {"ar", "he", "iw", "fa", "ur", "yi", "ps", "dv", "ug", "ckb", "sd"}
# Characters XML 1.0 cannot hold, and the C1 controls and noncharacters HTML forbids: dropped from the text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


class Words(NamedTuple):
    """The book's own words around the article's, in its language where known (else English, marked so)."""

    lang: str
    contents: str
    introduction: str
    start: str
    support: str  # "{}": the publisher
    cover: str


_WORDS = {
    "en": Words("en", "Contents", "Introduction", "Start of the article", "Support {}", "Cover"),
    "fr": Words("fr", "Table des matières", "Introduction", "Début de l’article", "Soutenir {}", "Couverture"),
    "de": Words("de", "Inhalt", "Einleitung", "Beginn des Artikels", "{} unterstützen", "Titelbild"),
    "es": Words("es", "Índice", "Introducción", "Comienzo del artículo", "Apoyar a {}", "Portada"),
    "ru": Words("ru", "Содержание", "Вступление", "Начало статьи", "Поддержать {}", "Обложка"),
}


def write_book(directory: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Write <slug>.epub into an edition's (staging) directory, beside the audio it carries; returns its
    entry for the manifest's files."""
    audio = next((f for kind in AUDIO for f in manifest.get("files", [])
                  if f.get("role") == "audio" and f.get("type") == kind), None)
    if audio is None:
        raise ValueError("an EPUB needs the edition's MP3 or M4A")
    name = f"{manifest['slug']}.epub"
    path = directory / name
    with naming(path):
        write(path, manifest, directory / str(audio["name"]), AUDIO[str(audio["type"])])
    return {"name": name, "type": MEDIA_TYPE, "role": ROLE, "bytes": path.stat().st_size}


def write(path: Path, manifest: Mapping[str, Any], audio: Path, audio_type: str) -> None:
    """The EPUB container: the mimetype first and stored, as the OCF wants it; audio and cover stored too
    (they do not compress), the markup deflated."""
    page = edition_page(manifest)
    lang = _language(manifest.get("language"))
    words = _WORDS.get(lang.split("-")[0].lower(), _WORDS["en"])
    audio_href = f"audio/{quote(audio.name)}"
    total_ms = int(manifest.get("duration_ms", 0))
    clips = _clips(page.chapters, total_ms)
    duration_ms = sum(end - begin for _, begin, end in clips)
    modified = _modified(manifest.get("built"))
    stamp = (modified.year, modified.month, modified.day, modified.hour, modified.minute, modified.second)
    caption = _clean(page.publisher or "Audio edition").upper()
    on_cover = _drawable(page.title, page.publisher)
    files: list[tuple[str, bytes | Path, int]] = [
        ("mimetype", MEDIA_TYPE.encode("ascii"), zipfile.ZIP_STORED),
        ("META-INF/container.xml", CONTAINER.encode("utf-8"), zipfile.ZIP_DEFLATED),
        ("EPUB/package.opf", package(manifest, page, lang, audio_href, audio_type, duration_ms, modified).encode("utf-8"),
         zipfile.ZIP_DEFLATED),
        ("EPUB/nav.xhtml", navigation(page, lang, words).encode("utf-8"), zipfile.ZIP_DEFLATED),
        (f"EPUB/{COVER_PAGE}", cover_page(page, lang, on_cover).encode("utf-8"), zipfile.ZIP_DEFLATED),
        (f"EPUB/{TEXT}", content(page, lang, words).encode("utf-8"), zipfile.ZIP_DEFLATED),
        (f"EPUB/{OVERLAY}", overlay(page, clips, audio_href).encode("utf-8"), zipfile.ZIP_DEFLATED),
        ("EPUB/style.css", STYLE.encode("utf-8"), zipfile.ZIP_DEFLATED),
        ("EPUB/cover.png", cover.generate(on_cover, f"audio-edition book cover: {on_cover}", size=COVER_SIZE,
                                          caption=caption if cover.can_draw(caption) else "AUDIO EDITION"),
         zipfile.ZIP_STORED),
        (f"EPUB/audio/{audio.name}", audio, zipfile.ZIP_STORED),
    ]
    with zipfile.ZipFile(path, "w") as book:
        for member, data, compression in files:
            info = zipfile.ZipInfo(member, stamp)
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            if isinstance(data, Path):
                with data.open("rb") as source, book.open(info, "w") as target:
                    while chunk := source.read(1 << 20):
                        target.write(chunk)
            else:
                book.writestr(info, data)


CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">
  <rootfiles>
    <rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

STYLE = f"""\
body {{ font-family: serif; line-height: 1.5; margin: 0 5%; }}
header {{ margin-bottom: 2em; }}
h1 {{ font-size: 1.6em; line-height: 1.25; }}
h2 {{ font-size: 1.2em; }}
.publisher, .meta {{ font-family: sans-serif; font-size: 0.9em; }}
img.cover {{ display: block; max-width: 100%; max-height: 95vh; margin: 0 auto; }}
.appeal {{ border-top: 1px solid #555; margin-top: 2em; padding-top: 1em; }}
/* The sentence being read (media:active-class in the package): dark on light, for any text colour. */
.{ACTIVE_CLASS} {{ background-color: #fff0a0; color: #000; outline: 2px solid #7a5c00; }}
"""


def _clips(chapters: Sequence[Chapter], total_ms: int) -> list[tuple[str, int, int]]:
    """Each sentence's clip: from its cue's start to the next cue's start (the last to the end of the
    audio), so the pause after a sentence plays with it, as in the edition's audio and page; a reading
    system that jumped from one clip to the next would otherwise cut every pause out."""
    cues = [cue for chapter in chapters for cue in chapter.cues]
    ends = [cue.start_ms for cue in cues[1:]] + [max(total_ms, cues[-1].end_ms if cues else 0)]
    return [(cue.id, cue.start_ms, max(end, cue.end_ms)) for cue, end in zip(cues, ends)]


def clock(ms: int) -> str:
    """A SMIL full clock value, H:MM:SS.mmm."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def package(
    manifest: Mapping[str, Any], page: Page, lang: str, audio_href: str, audio_type: str, duration_ms: int,
    modified: dt.datetime,
) -> str:
    """The package document: metadata (Dublin Core, Media Overlays, accessibility), manifest, spine."""
    title = _clean(page.title).strip() or str(manifest["slug"])
    narrator = f"{page.engine}, voice {page.voice}" if page.voice else page.engine
    meta = [
        f'    <dc:identifier id="uid">urn:uuid:{_identifier(manifest)}</dc:identifier>',
        f"    <dc:title>{_e(title)}</dc:title>",
        f"    <dc:language>{_e(lang)}</dc:language>",
    ]
    if page.byline:
        meta.append(f"    <dc:creator>{_e(page.byline)}</dc:creator>")
    if page.publisher:
        meta.append(f"    <dc:publisher>{_e(page.publisher)}</dc:publisher>")
    if page.date and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", page.date):  # W3CDTF, as EPUBCheck wants it
        meta.append(f"    <dc:date>{_e(page.date)}</dc:date>")
    if page.url and _url(page.url):
        meta.append(f"    <dc:source>{_e(_url(page.url))}</dc:source>")
    meta += [
        f'    <meta property="dcterms:modified">{modified:%Y-%m-%dT%H:%M:%SZ}</meta>',
        # One overlay, so the book's duration is that overlay's: they add up, as the reading systems check.
        f'    <meta property="media:duration" refines="#{OVERLAY_ID}">{clock(duration_ms)}</meta>',
        f'    <meta property="media:duration">{clock(duration_ms)}</meta>',
        f'    <meta property="media:narrator">{_e(narrator)}</meta>',
        f'    <meta property="media:active-class">{ACTIVE_CLASS}</meta>',
        '    <meta property="schema:accessMode">textual</meta>',
        '    <meta property="schema:accessMode">auditory</meta>',
        '    <meta property="schema:accessModeSufficient">textual</meta>',
        '    <meta property="schema:accessModeSufficient">auditory</meta>',
        '    <meta property="schema:accessModeSufficient">textual,auditory</meta>',
        *(f'    <meta property="schema:accessibilityFeature">{feature}</meta>' for feature in
          ("synchronizedAudioText", "structuralNavigation", "tableOfContents", "readingOrder")),
        '    <meta property="schema:accessibilityHazard">none</meta>',
        f'    <meta property="schema:accessibilitySummary">{_e(SUMMARY)}</meta>',
        f'    <meta property="dcterms:conformsTo">{CONFORMS_TO}</meta>',
    ]
    rtl = ' page-progression-direction="rtl"' if _rtl(lang) else ""
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="{_e(lang)}"'
        f'{_dir(lang)}>',
        '  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">',
        *meta,
        "  </metadata>",
        "  <manifest>",
        '    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        f'    <item id="article" href="{TEXT}" media-type="application/xhtml+xml" media-overlay="{OVERLAY_ID}"/>',
        f'    <item id="{OVERLAY_ID}" href="{OVERLAY}" media-type="application/smil+xml"/>',
        '    <item id="style" href="style.css" media-type="text/css"/>',
        '    <item id="cover" href="cover.png" media-type="image/png" properties="cover-image"/>',
        f'    <item id="cover-page" href="{COVER_PAGE}" media-type="application/xhtml+xml"/>',
        f'    <item id="audio" href="{_e(audio_href)}" media-type="{audio_type}"/>',
        "  </manifest>",
        f"  <spine{rtl}>",
        '    <itemref idref="cover-page"/>',
        '    <itemref idref="article"/>',
        "  </spine>",
        "</package>",
        "",
    ])


SUMMARY = ("The full text of a news article with its audio edition, read by a synthetic voice: each sentence "
           "is highlighted while it is read (Media Overlays). Headings and a table of contents with one entry "
           "per paragraph lead through the text. No images but the cover.")


def navigation(page: Page, lang: str, words: Words) -> str:
    """The navigation document: one entry per chapter of the edition, as its audio file has them."""
    entries = [
        f'      <li><a href="{TEXT}#{_e(chapter.anchor)}"{_lang_of(words, lang, chapter.kind == "intro")}>'
        f"{_e(_label(chapter, words))}</a></li>"
        for chapter in page.chapters
    ]
    own = _lang_of(words, lang, True)
    return _xhtml(lang, _clean(page.title), [
        '  <nav epub:type="toc" role="doc-toc" id="toc" aria-labelledby="toc-h">',
        f'    <h1 id="toc-h"{own}>{_e(words.contents)}</h1>',
        "    <ol>",
        *entries,
        "    </ol>",
        "  </nav>",
        '  <nav epub:type="landmarks" id="landmarks" hidden="hidden">',
        f"    <h2{own}>{_e(words.start)}</h2>",
        "    <ol>",
        f'      <li><a epub:type="cover" href="{COVER_PAGE}"{own}>{_e(words.cover)}</a></li>',
        f'      <li><a epub:type="bodymatter" href="{TEXT}"{own}>{_e(words.start)}</a></li>',
        "    </ol>",
        "  </nav>",
    ])


def cover_page(page: Page, lang: str, on_cover: str) -> str:
    """The cover as the book's first page, as reading systems show a book's opening; the article is then
    not the spine's first item (foliate-js, Foliate's engine, highlights no sentence of a first item:
    docs/pages.md)."""
    return _xhtml(lang, _clean(page.title), [
        '  <section epub:type="cover">',
        f'    <img role="doc-cover" class="cover" src="cover.png" alt="{_e(on_cover)}"/>',  # the words it shows
        "  </section>",
    ], style=True)


def content(page: Page, lang: str, words: Words) -> str:
    """The article: headline, publisher, byline and date, then each chapter; every sentence a span whose id
    is its cue's."""
    body = ["  <header>"]
    if page.publisher:
        body.append(f'    <p class="publisher">{_e(page.publisher)}</p>')
    body.append(f"    <h1>{_e(page.title)}</h1>")
    details = [_e(page.byline)] if page.byline else []
    if page.date:
        details.append(f'<time datetime="{_e(page.date)}">{_e(page.date)}</time>'
                       if re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.date) else _e(page.date))
    if details:
        body.append(f'    <p class="meta">{" · ".join(details)}</p>')
    body.append("  </header>")
    for chapter in page.chapters:
        sentences = " ".join(f'<span id="{_e(cue.id)}">{_e(cue.text)}</span>' for cue in chapter.cues)
        anchor = _e(chapter.anchor)
        heading = chapter.title if chapter.kind == "appeal" else chapter.heading
        if not heading:
            body.append(f'  <p id="{anchor}">{sentences}</p>')
            continue
        appeal = ' class="appeal"' if chapter.kind == "appeal" else ""
        body += [f'  <section id="{anchor}"{appeal} aria-labelledby="{anchor}-h">',
                 f'    <h2 id="{anchor}-h">{_e(heading)}</h2>', f"    <p>{sentences}</p>"]
        link = _url(chapter.url) if chapter.kind == "appeal" and chapter.url else None
        if link:
            support = words.support.format(page.publisher or "")
            own = _lang_of(words, lang, True)
            body.append(f'    <p><a href="{_e(link)}"{own}>{_e(support.strip())}</a></p>')
        body.append("  </section>")
    return _xhtml(lang, _clean(page.title), body, style=True)


def overlay(page: Page, clips: Sequence[tuple[str, int, int]], audio_href: str) -> str:
    """The Media Overlay: a seq per chapter, a par per sentence (its text, its clip), in reading order."""
    clip = {cue: (begin, end) for cue, begin, end in clips}
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">',
           f'  <body epub:textref="{TEXT}">']
    for chapter in page.chapters:
        out.append(f'    <seq id="seq-{_e(chapter.anchor)}" epub:textref="{TEXT}#{_e(chapter.anchor)}">')
        for cue in chapter.cues:
            begin, end = clip[cue.id]
            out += [f'      <par id="par-{_e(cue.id)}">',
                    f'        <text src="{TEXT}#{_e(cue.id)}"/>',
                    f'        <audio src="{_e(audio_href)}" clipBegin="{clock(begin)}" clipEnd="{clock(end)}"/>',
                    "      </par>"]
        out.append("    </seq>")
    out += ["  </body>", "</smil>", ""]
    return "\n".join(out)


def _xhtml(lang: str, title: str, body: list[str], style: bool = False) -> str:
    head = ['<link rel="stylesheet" type="text/css" href="style.css"/>'] if style else []
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!DOCTYPE html>",
        f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="{_e(lang)}" '
        f'xml:lang="{_e(lang)}"{_dir(lang)}>',
        "<head>",
        '  <meta charset="utf-8"/>',
        f"  <title>{_e(title.strip() or 'Audio edition')}</title>",
        *(f"  {line}" for line in head),
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
        "",
    ])


def _drawable(title: str, publisher: str | None) -> str:
    """The cover's words: the title, else the publisher, where the cover can draw them; else the words
    every cover can."""
    for name in (title, publisher or ""):
        name = " ".join(_clean(name).split())
        if name and cover.can_draw(name):
            return name
    return "Audio edition"


def _label(chapter: Chapter, words: Words) -> str:
    return words.introduction if chapter.kind == "intro" else chapter.title


def _lang_of(words: Words, lang: str, ours: bool) -> str:
    """A lang attribute on the book's own words where they are not in the book's language."""
    if not ours or words.lang == lang.split("-")[0].lower():
        return ""
    return f' lang="{words.lang}" xml:lang="{words.lang}"'


def _e(value: object) -> str:
    return escape(_clean(str(value)), quote=True)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _url(value: str | None) -> str | None:
    """An http(s) URL as a valid one (characters a URL cannot hold percent-encoded), or None."""
    if not value:
        return None
    url = quote(_clean(value).strip(), safe=":/?#[]@!$&'()*+,;=%~-._")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _language(value: Any) -> str:
    """The article's language tag, 'und' where it has none that is well formed."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", value):
        return value
    return "und"


def _rtl(lang: str) -> bool:
    return lang.split("-")[0].lower() in _RTL


def _dir(lang: str) -> str:
    return ' dir="rtl"' if _rtl(lang) else ""


def _identifier(manifest: Mapping[str, Any]) -> uuid.UUID:
    """The same book after a rebuild (a reading system keeps the reader's place): from the article's URL,
    else its publisher and slug."""
    url = manifest.get("url")
    name = url if isinstance(url, str) and url else f"audio-edition:{manifest.get('publisher') or ''}/{manifest['slug']}"
    return uuid.uuid5(uuid.NAMESPACE_URL, name)


def _modified(built: Any) -> dt.datetime:
    """When the edition was built, in UTC (dcterms:modified)."""
    try:
        when = dt.datetime.fromisoformat(str(built))
    except ValueError:
        when = dt.datetime.now(dt.timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)
