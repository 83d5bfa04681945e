"""The podcast feed, out/feed.xml: RSS 2.0 with itunes: and podcast: tags, newest episode first."""
from __future__ import annotations

import datetime as dt
import html
import logging
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urljoin

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from .. import __version__, publish
from ..config import Config
from ..errors import BadInput
from ..feedconfig import FeedConfig, insecure
from ..feedconfig import base_url as checked_base_url
from . import catalogue, cover
from .catalogue import Episode

log = logging.getLogger(__name__)

FILENAME = "feed.xml"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# The Podcasting 2.0 namespace's own UUID, the namespace for UUIDv5 show GUIDs.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class Written(NamedTuple):
    """What a feed write produced: the file, the URL to subscribe to, how many episodes it lists."""

    path: Path
    url: str
    episodes: int


def write(out: Path, config: Config, base_url: str | None = None, limit: int | None = None) -> Written:
    """Write out/feed.xml from the catalogue; the base URL is where out/ is served."""
    settings = config.feed
    if base_url is not None:
        base = checked_base_url(base_url, "--base-url")
    elif settings.base_url is not None:
        base = settings.base_url
    else:
        raise BadInput("no base URL for the feed: give --base-url or set base_url in the config's [feed] table")
    if limit is not None and limit < 1:
        raise BadInput(f"--limit {limit}: must be at least 1")
    limit = limit or settings.limit
    settings.require()
    assert settings.title is not None  # require() checked it; narrows the type
    for url, what in ((base, "base URL"), (config.donation_url, "donation_url")):
        if url is not None and insecure(url):
            log.warning("%s %s is plain http: the Podcasting 2.0 namespace requires https: for the URLs it "
                        "defines, and apps may refuse them", what, url)
    artwork = cover.ensure(out, settings.artwork, config.publisher or settings.title)
    feed_url = urljoin(base, FILENAME)
    guid = catalogue.show_guid(out, show_guid(feed_url), settings.podcast_guid)  # made once, then kept
    moved = catalogue.show_setting(out, catalogue.MOVED_TO)
    listed = catalogue.episodes(out)[:limit]
    pages = {e.slug for e in listed if (out / e.slug / "index.html").is_file()}
    funding = (config.donation_url, funding_label(config.publisher or settings.title)) if config.donation_url else None
    xml = render(settings, listed, base, urljoin(base, artwork), author=settings.author or config.publisher, pages=pages,
                 guid=guid, new_feed_url=moved if moved != feed_url else None,  # (the copy at the new address)
                 funding=funding)
    target = out / FILENAME
    publish.write_atomic(target, xml)
    log.debug("wrote %s: %d episodes", target, len(listed))
    return Written(target, urljoin(base, FILENAME), len(listed))


def funding_label(publisher: str) -> str:
    """podcast:funding's text: at most 128 characters (the namespace's limit)."""
    label = f"Support {publisher}"
    return label if len(label) <= 128 else label[:127] + "…"


def timecodes(marks: Sequence[catalogue.Mark]) -> list[str]:
    """One line per chapter, "00:00 Title": Apple Podcasts and Spotify make chapters from at least three
    timecodes in the description, the first at 00:00; fewer, or a first that is not 00:00, make none."""
    if len(marks) < 3 or marks[0].start_ms >= 1000:
        return []
    hours = marks[-1].start_ms >= 3_600_000

    def stamp(ms: int) -> str:
        h, rest = divmod(ms // 1000, 3600)
        m, sec = divmod(rest, 60)
        return f"{h}:{m:02d}:{sec:02d}" if hours else f"{m:02d}:{sec:02d}"

    return [f"{stamp(mark.start_ms)} {' '.join(mark.title.split())}" for mark in marks]


def show_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    bare = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", feed_url).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def render(
    settings: FeedConfig,
    episodes: Sequence[Episode],
    base: str,
    artwork_url: str,
    author: str | None = None,
    pages: set[str] | frozenset[str] = frozenset(),
    guid: str | None = None,
    new_feed_url: str | None = None,
    funding: tuple[str, str] | None = None,
) -> bytes:
    """The feed document. `pages`: slugs whose player page out/<slug>/index.html exists; `guid`: the show's
    stored podcast:guid (else made from this feed URL); `new_feed_url`: where the show moved; `funding`:
    the donation URL and its label."""
    settings.require()
    feed_url = urljoin(base, FILENAME)
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcastindex", _ShowTags, _EpisodeTags)
    fg.title(settings.title)
    fg.description(settings.description)
    # feedgen takes the last link given as the RSS <link>: the self link must come first.
    fg.link(href=feed_url, rel="self", type="application/rss+xml")
    fg.link(href=settings.link or base, rel="alternate")
    fg.language(settings.language)
    fg.generator(f"audio-edition {__version__}")
    fg.image(url=artwork_url, title=settings.title, link=settings.link or base)
    # Changes only when an episode does, so an unchanged feed is byte-identical when rewritten.
    fg.lastBuildDate(max((e.last_built for e in episodes), default=dt.datetime.now(dt.timezone.utc)))
    podcast: Any = fg.podcast
    podcast.itunes_image(artwork_url)
    podcast.itunes_category({"cat": settings.category, "sub": settings.subcategory} if settings.subcategory
                            else {"cat": settings.category})
    podcast.itunes_type("episodic")
    if author:
        podcast.itunes_author(author)
    if settings.owner_email:
        podcast.itunes_owner(name=settings.owner_name or author or settings.title, email=settings.owner_email)
    show: _ShowTags = fg.podcastindex
    show.set(explicit=bool(settings.explicit), guid=guid or show_guid(feed_url), locked=settings.locked,
             owner=settings.owner_email, new_feed_url=new_feed_url, funding=funding)

    for episode in episodes:
        entry = fg.add_entry(order="append")  # the catalogue's order: newest first
        entry.title(_xml_text(episode.title))
        # Apps read an item's description as HTML: the lede goes in as escaped text in one paragraph,
        # so '<b>' in an article shows as written instead of becoming markup (or being stripped).
        body = f"<p>{html.escape(episode.description, quote=False)}</p>"
        lines = timecodes(episode.marks)
        if lines:  # one chapter a line, in both: apps read one or the other
            body += "\n<p>" + "<br>\n".join(html.escape(line, quote=False) for line in lines) + "</p>"
        entry.description(_xml_text(body))
        if lines:
            entry.content(_xml_text(body), type="CDATA")
        entry.guid(episode.guid, permalink=False)
        entry.pubDate(episode.pub_date)
        entry.enclosure(_url(base, episode.enclosure), str(episode.bytes), episode.mime_type)
        if episode.canonical_url:
            entry.link(href=episode.canonical_url)
        elif episode.slug in pages:
            entry.link(href=urljoin(base, quote(episode.slug) + "/"))
        entry.podcast.itunes_duration(max(1, round(episode.duration_ms / 1000)))
        tags: _EpisodeTags = entry.podcastindex
        tags.set(
            chapters=_url(base, episode.chapters) if episode.chapters else None,
            transcripts=[(_url(base, t.path), t.mime_type) for t in episode.transcripts] or (
                [(_url(base, episode.transcript), "text/vtt")] if episode.transcript else []),
            language=episode.language,
            title=_xml_text(episode.title),
            explicit=bool(settings.explicit),
            person=_person(episode.byline),
            alternates=[(_url(base, a.path), a.mime_type, a.bytes) for a in episode.alternates],
        )
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def _xml_text(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry at all (a --title can bring control characters)."""
    return _NOT_XML.sub("", text)


def _person(byline: str | None) -> str | None:
    """The byline as podcast:person names the author: "By Jane Doe" -> "Jane Doe"."""
    if not byline:
        return None
    name = re.sub(r"^\s*by\s+", "", _xml_text(byline), flags=re.IGNORECASE).strip()
    return name[:128] or None


def _url(base: str, relative: str) -> str:
    return urljoin(base, quote(relative))


class _ShowTags(BaseExtension):  # type: ignore[misc]  # feedgen ships no type hints
    """Channel tags feedgen does not write: podcast:guid, podcast:locked, podcast:funding,
    itunes:explicit true/false, itunes:new-feed-url."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def set(self, explicit: bool, guid: str, locked: bool, owner: str | None, new_feed_url: str | None = None,
            funding: tuple[str, str] | None = None) -> None:
        self._values = {"explicit": explicit, "guid": guid, "locked": locked, "owner": owner,
                        "new_feed_url": new_feed_url, "funding": funding}

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss[0]
        v = self._values
        # Apple reads true/false; feedgen's podcast extension only writes yes/no/clean.
        etree.SubElement(channel, f"{{{ITUNES_NS}}}explicit").text = "true" if v["explicit"] else "false"
        etree.SubElement(channel, f"{{{PODCAST_NS}}}guid").text = v["guid"]
        locked = etree.SubElement(channel, f"{{{PODCAST_NS}}}locked")
        locked.text = "yes" if v["locked"] else "no"
        if v["owner"]:
            locked.set("owner", v["owner"])
        if v["funding"]:
            url, label = v["funding"]
            etree.SubElement(channel, f"{{{PODCAST_NS}}}funding", url=url).text = _xml_text(label)
        if v["new_feed_url"]:  # the show moved: apps and directories follow it and keep its subscribers
            etree.SubElement(channel, f"{{{ITUNES_NS}}}new-feed-url").text = v["new_feed_url"]
        return rss


class _EpisodeTags(BaseEntryExtension):  # type: ignore[misc]  # feedgen ships no type hints
    """Item tags feedgen does not write (or writes as Apple does not read them): podcast:chapters,
    podcast:transcript, podcast:person, podcast:alternateEnclosure, itunes:title, itunes:episodeType and
    itunes:explicit true/false."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {"chapters": None, "transcripts": [], "language": None, "title": None,
                                        "explicit": None, "person": None, "alternates": []}

    def set(self, chapters: str | None, transcripts: list[tuple[str, str]], language: str | None,
            title: str | None = None, explicit: bool | None = None, person: str | None = None,
            alternates: Sequence[tuple[str, str, int]] = ()) -> None:
        self._values = {"chapters": chapters, "transcripts": transcripts, "language": language, "title": title,
                        "explicit": explicit, "person": person, "alternates": list(alternates)}

    def extend_rss(self, item: etree._Element) -> etree._Element:
        v = self._values
        if v["title"]:
            etree.SubElement(item, f"{{{ITUNES_NS}}}title").text = v["title"]
        etree.SubElement(item, f"{{{ITUNES_NS}}}episodeType").text = "full"
        if v["explicit"] is not None:
            etree.SubElement(item, f"{{{ITUNES_NS}}}explicit").text = "true" if v["explicit"] else "false"
        if v["chapters"]:
            etree.SubElement(
                item, f"{{{PODCAST_NS}}}chapters", url=v["chapters"], type="application/json+chapters"
            )
        for url, kind in v["transcripts"]:
            tag = etree.SubElement(item, f"{{{PODCAST_NS}}}transcript", url=url, type=kind)
            if v["language"]:
                tag.set("language", v["language"])
            if kind == "text/vtt":
                tag.set("rel", "captions")  # one cue per sentence with exact times
        if v["person"]:
            etree.SubElement(item, f"{{{PODCAST_NS}}}person", role="author").text = v["person"]
        for number, (url, kind, length) in enumerate(v["alternates"]):
            # The first is the enclosure itself, marked default; the others are the same episode in other formats.
            alternate = etree.SubElement(item, f"{{{PODCAST_NS}}}alternateEnclosure", type=kind, length=str(length))
            if number == 0:
                alternate.set("default", "true")
            etree.SubElement(alternate, f"{{{PODCAST_NS}}}source", uri=url)
        return item
