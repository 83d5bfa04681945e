"""What out/ publishes beside the editions: the catalogue, the podcast feed and the list of editions, kept in step."""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import lock, publish
from ..config import Config
from ..errors import AudioEditionError, BadInput
from ..manifest import MANIFEST, Edition, is_edition, load
from . import catalogue, media, player

if TYPE_CHECKING:  # feedgen, lxml and Pillow load only when a feed is written
    from .feed import Written

log = logging.getLogger(__name__)

# write_atomic's partials of the files out/ publishes at its top: feed.xml, index.html, the cover, the mark.
_OUR_PARTIAL = re.compile(r"\.(feed\.xml|index\.html|cover\.png|cover-[0-9a-f]{12}\.(png|jpg)|\.audio-edition)"
                          r"\.[a-z0-9_]{8}\.partial")


def site(out: Path, config: Config, built: Sequence[Edition]) -> None:
    """Record the built editions in the catalogue (in one transaction), with any published edition it does
    not hold (unlisted), then rewrite out/feed.xml when a base URL is configured, and out/index.html. An
    edition that cannot be recorded is left out of both: its error is raised once the others are published."""
    with _locked(out):  # a feed written by one build never misses another build's episode
        # Read back what is in out/ now: another build may have replaced an edition since it was published.
        problem = None
        try:
            _record(out, [load(edition.directory) for edition in built], config.feed.base_url)
        except (AudioEditionError, OSError) as exc:  # one edition not recorded: the others are, and published
            problem = exc
        if config.feed.base_url is not None:
            from . import (
                feed,  # feedgen, lxml and Pillow load only when a feed is written
            )

            feed.write(out, config)
        player.write_index(out, catalogue.episodes(out), config)  # out/index.html, the list of editions
        if problem is not None:
            raise problem


def _record(out: Path, built: Sequence[Edition], base_url: str | None) -> None:
    """Record the editions built, and the published ones the catalogue lost (emptied, deleted) or never held
    (a full disk, a kill, between publishing an edition and recording it): never a shrunken feed."""
    done = {edition.slug for edition in built}
    found = [edition for edition in unlisted(out) if edition.slug not in done]
    lost = [edition for edition in found if not _just_built(edition)]  # (the others' own builds record them now)
    if lost:
        log.warning("%s: %d published edition%s missing from the catalogue: recorded now", catalogue.path(out),
                    len(lost), " was" if len(lost) == 1 else "s were")
    if built or found:
        catalogue.record_all(out, built, base_url, found)


def _just_built(edition: Edition) -> bool:
    """Built in the last minute: most likely published by a build that is about to record it itself."""
    try:
        built = dt.datetime.fromisoformat(str(edition.manifest["built"]))
    except (KeyError, ValueError):
        return False
    return abs((dt.datetime.now(dt.timezone.utc) - built).total_seconds()) < 60


def unlisted(out: Path) -> list[Edition]:
    """The editions published in out/ that the catalogue does not hold as built (but for those removed from
    it on purpose). Only the folders whose edition.json is newer than their episode are read."""
    held = catalogue.listing(out)
    maybe = []
    with contextlib.suppress(FileNotFoundError), os.scandir(out) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            try:
                changed = os.stat(os.path.join(entry.path, MANIFEST)).st_mtime
            except OSError:
                continue
            last = held.recorded.get(entry.name)
            if last is None or changed >= last.timestamp() - 1:  # (mtimes may be coarser than the clock)
                maybe.append(Path(entry.path))
    editions = []
    for folder in sorted(maybe):
        if not is_edition(folder):
            continue
        edition = load(folder)
        if held.removed.get(edition.slug) != edition.manifest.get("built"):
            editions.append(edition)
    return catalogue.unrecorded(out, editions)


def write_feed(out: Path, config: Config, base_url: str | None = None, limit: int | None = None) -> Written:
    """Write out/feed.xml from the catalogue (`audio-edition feed`)."""
    from . import feed

    with _locked(out):
        _record(out, [], base_url or config.feed.base_url)
        return feed.write(out, config, base_url, limit)


def remove(out: Path, config: Config, slug: str, base_url: str | None = None) -> Written | None:
    """Take one episode out of the catalogue, then out of feed.xml; returns the feed if rewritten.

    The feed is rewritten under the base URL given, else the configured one, else the one the
    existing feed.xml was written with, so the removed episode does not linger in it.
    """
    from . import feed

    with _locked(out):
        base = base_url or config.feed.base_url or _previous_base(out / feed.FILENAME)
        if base is not None:
            config.feed.require()  # checked before anything is removed
        catalogue.remove(out, slug, _built(out / slug))
        player.write_index(out, catalogue.episodes(out), config)  # the list of editions drops it too
        return feed.write(out, config, base) if base is not None else None


def move(out: Path, config: Config, new_base_url: str, base_url: str | None = None) -> Written:
    """Say in out/feed.xml, served at its old address, that the show moved to NEW_BASE_URL: the feed is
    rewritten with itunes:new-feed-url, and so is every feed written in this out/ from now on. A copy of
    out/ served at the new address keeps the podcast:guid (the catalogue holds it) and writes no such tag."""
    from urllib.parse import urljoin

    from ..feedconfig import base_url as checked_base_url
    from . import feed

    new_feed = urljoin(checked_base_url(new_base_url, "NEW_BASE_URL"), feed.FILENAME)
    with _locked(out):
        old = base_url or config.feed.base_url or _previous_base(out / feed.FILENAME)
        if old is None:
            raise BadInput("no base URL for the feed being moved: give --base-url (where OUT is served now)")
        if urljoin(checked_base_url(old, "--base-url"), feed.FILENAME) == new_feed:
            raise BadInput(f"{new_base_url}: is where this feed is served already; give the new address")
        config.feed.require()  # checked before the move is recorded
        catalogue.set_show_setting(out, catalogue.MOVED_TO, new_feed)
        return feed.write(out, config, old)


def prune(out: Path, days: float) -> media.Pruned:
    """Remove the files rebuilds superseded more than DAYS days ago that no feed links to (media.prune)."""
    if not out.is_dir():  # (_locked would make it, and mark it ours)
        raise BadInput(f"--out {out}: no such folder")
    with _locked(out):  # (a build swaps its edition in under this lock: never half-way through a prune)
        return media.prune(out, days, catalogue.published_files(out))


def _built(folder: Path) -> str | None:
    """When the edition in `folder` was built, as its edition.json says."""
    if not is_edition(folder):
        return None
    built = load(folder).manifest.get("built")
    return str(built) if built is not None else None


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold out/.lock, first removing what killed writers left beside feed.xml, index.html and the cover.

    Every writer of those files holds this lock, so a hidden .partial file of theirs there now is nobody's.
    Only the names publish.write_atomic gives those files are removed: out/ may hold others' files.
    """
    publish.claim(out)
    with lock.locked(out):
        for leftover in out.glob(".*.partial"):
            if leftover.is_file() and _OUR_PARTIAL.fullmatch(leftover.name):  # (staging folders: publish.sweep)
                leftover.unlink(missing_ok=True)
        yield


def _previous_base(feed_xml: Path) -> str | None:
    """The base URL an earlier feed.xml was written with, from its atom:link rel="self"."""
    from lxml import etree

    from . import feed

    try:
        tree = etree.parse(str(feed_xml))
    except (OSError, etree.XMLSyntaxError):
        return None
    hrefs = tree.xpath("/rss/channel/atom:link[@rel='self']/@href", namespaces={"atom": "http://www.w3.org/2005/Atom"})
    if not isinstance(hrefs, list) or not hrefs:
        return None
    href = str(hrefs[0])
    return href[: -len(feed.FILENAME)] if href.endswith("/" + feed.FILENAME) else None
