"""The accessible player: edition.json -> out/<slug>/index.html, and out/index.html listing every edition."""
from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .. import publish
from ..errors import naming
from .pages import Chapter, Cue, Entry, File, Page, document, edition_body, index_body

if TYPE_CHECKING:  # the catalogue is only read, by site.refresh
    from ..config import Config
    from .catalogue import Episode

PAGE = "index.html"
PAGE_ENTRY = {"name": PAGE, "type": "text/html", "role": "player"}
DEFAULT_HEADING = "Audio editions"

# How the page names each file it offers for download, by MIME type.
_LABELS = {
    "audio/mpeg": "MP3 audio",
    "audio/x-m4a": "M4A audio",
    "audio/mp4": "M4A audio",
    "audio/ogg": "Opus audio",
    "application/json+chapters": "Chapters (JSON)",
    "text/vtt": "Transcript (WebVTT)",
    "application/epub+zip": "EPUB talking book",
}
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


def render_page(manifest: Mapping[str, Any]) -> str:
    """The edition's page, from its manifest (edition.json); every manifest string is escaped."""
    script = _asset("player.js")
    page = _page(manifest)
    lang = _lang(manifest.get("language"))
    return document(lang, _csp(script, media=True), f"{page.title} (audio edition)", _asset("player.css"),
                    edition_body(page, lang), script)


def write_page(directory: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Write index.html into an edition's (staging) directory; returns its entry for the manifest's files."""
    path = directory / PAGE
    with naming(path):
        path.write_text(render_page(manifest), encoding="utf-8")
    return {**PAGE_ENTRY, "bytes": path.stat().st_size}


def render_index(out: Path, episodes: Sequence[Episode], heading: str = DEFAULT_HEADING) -> str:
    """The list of editions, in the order given (the catalogue's: newest first)."""
    script = _asset("index.js")
    return document(_lang(episodes[0].language if episodes else None), _csp(script, media=False), heading,
                    _asset("player.css"), index_body(heading, [_entry(out, e) for e in episodes]), script)


def write_index(out: Path, episodes: Sequence[Episode], config: Config | None = None) -> Path:
    """Write out/index.html atomically."""
    path = out / PAGE
    publish.write_atomic(path, render_index(out, episodes, index_heading(config)))
    return path


def index_heading(config: Config | None) -> str:
    if config is not None and config.feed.title:
        return config.feed.title
    if config is not None and config.publisher:
        return f"{config.publisher}: audio editions"
    return DEFAULT_HEADING


def prepare() -> None:
    """Read the assets ahead of use (edition.build does it while the takes are spoken)."""
    for asset in ("player.css", "player.js", "index.js"):
        _asset(asset)


@functools.cache
def _asset(name: str) -> str:
    text = resources.files("audio.site").joinpath("templates", name).read_text(encoding="utf-8")
    if "</" in text:  # would end the <script>/<style> element it is inlined in
        raise ValueError(f"audio/site/templates/{name}: contains '</'")
    return text


def _csp(script: str | None, *, media: bool) -> str:
    """Nothing runs but the page's own script (by hash), nothing loads from elsewhere."""
    parts = [
        "default-src 'none'",
        f"script-src {_hash(script)}" if script else "script-src 'none'",
        f"style-src {_hash(_asset('player.css'))}",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if media:
        # file: as well as 'self': some browsers give a file:// page an origin 'self' does not match.
        parts.insert(1, "media-src 'self' file:")
    return "; ".join(parts)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def edition_page(manifest: Mapping[str, Any]) -> Page:
    """What an edition's page shows, from its manifest: the EPUB (site/epub.py) shows the same."""
    return _page(manifest)


def _page(manifest: Mapping[str, Any]) -> Page:
    # The SRT is the VTT's cues again, for podcast apps that read only SRT: the page offers the VTT.
    files = [f for f in manifest.get("files", []) if f.get("role") != "player" and f.get("type") != "application/x-subrip"]
    audio = tuple(_file(f) for f in files if f.get("role") == "audio")
    transcript = next((str(f["name"]) for f in files if f.get("role") == "transcript"), None)
    cues = {str(c["id"]): c for c in manifest.get("cues", [])}
    return Page(
        title=str(manifest["title"]),
        publisher=manifest.get("publisher") or None,
        byline=manifest.get("byline") or None,
        date=manifest.get("date") or None,
        duration=_spoken_duration(int(manifest.get("duration_ms", 0))),
        sources=audio,
        transcript=_href(transcript) if transcript else None,
        downloads=tuple(_file(f) for f in files),
        chapters=tuple(_chapter(i, c, cues) for i, c in enumerate(manifest.get("chapters", []))),
        engine=str(manifest.get("engine") or "a synthetic voice"),
        voice=manifest.get("voice") or None,
        built=str(manifest.get("built", ""))[:10],
        url=_web_url(manifest.get("url")),
    )


def _chapter(index: int, chapter: Mapping[str, Any], cues: Mapping[str, Mapping[str, Any]]) -> Chapter:
    own = tuple(
        Cue(str(c["id"]), int(c["start_ms"]), int(c["end_ms"]), str(c["text"]), _words(c))
        for c in (cues[str(i)] for i in chapter.get("cues", []) if str(i) in cues)
    )
    kind = str(chapter.get("kind", "paragraph"))
    title = str(chapter.get("title", ""))
    start = int(chapter["start_ms"])
    return Chapter(
        kind=kind,
        title=title,
        label="Introduction" if kind == "intro" else title,
        anchor=f"ch-{index}",
        start_ms=start,
        time=_clock(start),
        url=_web_url(chapter.get("url")),
        heading=_heading(title, own) if kind == "paragraph" else None,
        cues=own,
    )


def _words(cue: Mapping[str, Any]) -> tuple[tuple[int, int, int, int], ...]:
    """A cue's words as (start_ms, end_ms, at, to); an edition built before word times has none."""
    found = []
    for word in cue.get("words") or ():
        try:
            at = int(word["at"])
            found.append((int(word["start_ms"]), int(word["end_ms"]), at, at + len(str(word["text"]))))
        except (KeyError, TypeError, ValueError):
            return ()
    return tuple(found)


def _heading(title: str, cues: Sequence[Cue]) -> str | None:
    """A paragraph's chapter title is its opening words unless a heading named it: show only a heading."""
    stem = " ".join(title.removesuffix("…").split())
    text = " ".join(" ".join(c.text for c in cues).split())
    return None if not stem or text.startswith(stem) else title


def _file(entry: Mapping[str, Any]) -> File:
    kind = str(entry.get("type", "application/octet-stream"))
    label = _LABELS.get(kind, str(entry["name"]))
    if "bytes" in entry and (kind.startswith("audio/") or kind == "application/epub+zip"):
        label = f"{label} ({_size(int(entry['bytes']))})"
    return File(_href(str(entry["name"])), kind, label)


def _entry(out: Path, episode: Episode) -> Entry:
    has_page = (out / episode.slug / PAGE).is_file()
    return Entry(
        title=episode.title,
        href=_href(f"{episode.slug}/{PAGE}" if has_page else episode.enclosure),
        lang=_lang(episode.language),
        date=f"{episode.pub_date.day} {episode.pub_date:%B %Y}",
        datetime=episode.pub_date.isoformat(),
        duration=_spoken_duration(episode.duration_ms),
        description=episode.description,
        audio=_href(episode.enclosure) if has_page else None,
        audio_type=episode.mime_type,
        key=episode.slug,
    )


def _href(relative: str) -> str:
    """A relative URL for a file name: a name with ':' or '#' must not read as a scheme or fragment."""
    return quote(relative, safe="/")


def _web_url(value: Any) -> str | None:
    """Only http(s) links: a javascript: or data: URL from an article never becomes a link."""
    if isinstance(value, str) and urlsplit(value.strip()).scheme.lower() in ("http", "https"):
        return value.strip()
    return None


def _lang(value: Any) -> str:
    return value if isinstance(value, str) and _LANGUAGE.fullmatch(value) else "und"


def _clock(ms: int) -> str:
    hours, rest = divmod(ms // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _spoken_duration(ms: int) -> str:
    hours, rest = divmod(ms // 1000, 3600)  # as players show it: whole seconds, not rounded up
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{max(1, round(size / 1000))} kB"
