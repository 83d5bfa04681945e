"""Follow a site: read its RSS or Atom feed (or Google News sitemap), build the articles not yet built and
rebuild those whose page changed; what was seen is kept in the catalogue, so each poll asks only for news."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from . import batch, edition, publish, stops
from .errors import AudioEditionError, BadInput
from .site import catalogue, refresh
from .text import article as article_stage
from .text import fetch, source

log = logging.getLogger(__name__)

FEED_TYPES = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
BACKOFF = 60.0  # seconds before a failed item's second try; doubled after each further failure
BACKOFF_CEILING = 6 * 3600.0  # a page failing for days is still tried four times a day


class FollowOptions(NamedTuple):
    headers: tuple[tuple[str, str], ...] = ()  # --header: sent with every request
    since: dt.datetime | None = None  # --since: items the feed dates earlier are left alone
    delay: float = 1.0  # --delay: seconds between two requests to one host
    timeout: float = fetch.TIMEOUT
    backoff: float = BACKOFF


class Entry(NamedTuple):
    """One item the feed lists."""

    item_id: str
    link: str
    published: dt.datetime | None


@dataclass
class Poll:
    """What one poll did; seconds spent fetching (the feed and pages) and building, for the report."""

    feed_changed: bool = True
    built: list[tuple[str, str]] = field(default_factory=list)  # (link, slug)
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (link, one-line reason)
    waiting: int = 0  # failed before, their next try not yet due
    unpublished: str | None = None  # why the catalogue and feed could not be refreshed
    fetch_seconds: float = 0.0
    build_seconds: float = 0.0


def read_feed(body: bytes, url: str) -> list[Entry]:
    """The items of an RSS or Atom feed (feedparser), or of a (Google News) sitemap, in the order given."""
    start = body[:4096].lstrip()
    if b"<urlset" in start or b"<sitemapindex" in start:
        return _sitemap(body, url)
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise BadInput(f"{url}: is not an RSS or Atom feed, nor a news sitemap{f' ({reason})' if reason else ''}")
    entries = []
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            continue  # (an item without a page: nothing to read aloud)
        when = item.get("published_parsed") or item.get("updated_parsed")
        published = dt.datetime(*tuple(when)[:6]).replace(tzinfo=dt.timezone.utc) if when else None
        entries.append(Entry(str(item.get("id") or link), urllib.parse.urljoin(url, str(link)), published))
    return entries


def _sitemap(body: bytes, url: str) -> list[Entry]:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise BadInput(f"{url}: the sitemap is not well-formed XML ({exc})") from None
    if etree.QName(root).localname == "sitemapindex":
        raise BadInput(f"{url}: is a sitemap index: follow one of the sitemaps it lists (the news one)")
    entries = []
    for node in root.iterfind(f"{{{SITEMAP_NS}}}url"):
        loc = (node.findtext(f"{{{SITEMAP_NS}}}loc") or "").strip()
        if not loc:
            continue
        date = node.findtext(f"{{{NEWS_NS}}}news/{{{NEWS_NS}}}publication_date") or node.findtext(f"{{{SITEMAP_NS}}}lastmod")
        link = urllib.parse.urljoin(url, loc)
        entries.append(Entry(link, link, _date(date)))
    return entries


def _date(text: str | None) -> dt.datetime | None:
    if not text or not text.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def since(text: str) -> dt.datetime:
    """--since: a day (2026-12-01) or a time (2026-12-01T08:00+01:00); without a zone, UTC."""
    parsed = _date(text)
    if parsed is None:
        raise BadInput(f"--since {text!r}: give a date such as 2026-12-01 or 2026-12-01T08:00:00+01:00")
    return parsed


def every(text: str) -> float:
    """--every: seconds, or with a unit: 30s, 5m, 1h."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], units[text[-1]]) if text and text[-1] in units else (text, 1)
    try:
        seconds = float(number) * unit
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise BadInput(f"--every {text!r}: give a time such as 30s, 5m or 1h")
    return seconds


class _Polite:
    """One request at a time, and `delay` seconds between two to the same host. The headers given (a paywall
    cookie) go to the feed's own host only: a feed may link to pages of other sites."""

    def __init__(self, options: FollowOptions, feed_url: str) -> None:
        self.options = options
        self.home = urllib.parse.urlsplit(feed_url).hostname
        self.last: dict[str, float] = {}
        self.seconds = 0.0  # spent fetching, waits included

    def get(self, url: str, **kwargs: Any) -> fetch.Response:
        host = urllib.parse.urlsplit(url).hostname or ""
        started = time.monotonic()
        if host in self.last:
            time.sleep(max(0.0, self.last[host] + self.options.delay - started))  # (SIGTERM ends the wait: stops)
        headers = self.options.headers if host == self.home else ()
        try:
            return fetch.get(url, headers, timeout=self.options.timeout, **kwargs)
        finally:
            self.last[host] = time.monotonic()
            self.seconds += self.last[host] - started


def poll(feed_url: str, options: edition.BuildOptions, following: FollowOptions = FollowOptions(),
         report: batch.Report | None = None) -> Poll:
    """One look at the feed: build what is new or changed (several at once, through the batch workers),
    try again what failed before once its back-off is over. An unchanged feed (304) costs one request,
    and the retries due. An item's failure is recorded in the catalogue and reported, never raised; the
    feed's own failure is raised (BadInput, fetch.FetchFailed)."""
    fetch.check_url(feed_url)
    result = Poll()
    polite = _Polite(following, feed_url)
    now = dt.datetime.now(dt.timezone.utc)
    state = catalogue.feed_state(options.out, feed_url)
    known = catalogue.followed_items(options.out, feed_url)
    try:
        answer = polite.get(feed_url, etag=state.etag, last_modified=state.last_modified, accept=FEED_TYPES)
    finally:
        result.fetch_seconds = polite.seconds
    checked = now.isoformat(timespec="seconds")
    if answer.status == 304:
        result.feed_changed = False
        entries: list[Entry] = []
        feed_state = catalogue.FeedState(state.etag, state.last_modified, checked)
    else:
        entries = read_feed(answer.body, answer.url)
        feed_state = catalogue.FeedState(answer.etag, answer.last_modified, checked)
    publish.claim(options.out, options.adopt_out)  # (a URL that is no feed leaves no out/ behind)
    listed: dict[str, Entry] = {}
    for entry in entries:
        if following.since is not None and entry.published is not None and entry.published < following.since:
            continue
        listed.setdefault(entry.item_id, entry)
    # The items the feed lists now, then those failing still, gone from it or not (the feed was unchanged).
    candidates: dict[str, catalogue.Item] = {}
    for item_id, entry in listed.items():
        seen = known.get(item_id)
        published = entry.published.isoformat() if entry.published else None
        candidates[item_id] = (seen._replace(link=entry.link, published=published) if seen is not None
                               else catalogue.Item(feed_url, item_id, entry.link, published))
    for item_id, seen in known.items():
        if seen.failures and item_id not in candidates:
            candidates[item_id] = seen
    to_build: dict[str, tuple[catalogue.Item, source.Document, str | None]] = {}  # by slug
    done: list[catalogue.Item] = []
    slugs = {seen.slug: seen.item_id for seen in known.values() if seen.slug}
    for item in candidates.values():
        stops.check()
        if item.retry_after is not None and dt.datetime.fromisoformat(item.retry_after) > now:
            result.waiting += 1
            continue
        try:
            item, doc, text = _page(item, polite, options)
        except AudioEditionError as exc:
            done.append(_failed(item, str(exc), now, following))
            result.failed.append((item.link, str(exc)))
            continue
        except Exception as exc:  # (as a batch's: one page's surprise fails that item, not the others)
            log.debug("reading %s failed", item.link, exc_info=True)
            reason = f"{item.link}: {type(exc).__name__}: {exc}"
            done.append(_failed(item, reason, now, following))
            result.failed.append((item.link, reason))
            continue
        finally:
            result.fetch_seconds = polite.seconds
        if doc is None:
            done.append(item)
            result.unchanged += 1
            continue
        slug = article_stage.file_slug(doc) or ""
        if slugs.get(slug, item.item_id) != item.item_id or slug in to_build:
            # Two items, one page name (…/index.html, …/story?id=…): the second gets a name of its own.
            doc = doc._replace(path=Path(f"{doc.path.stem}-{_short(item.item_id)}.html"))
            slug = article_stage.file_slug(doc) or ""
        slugs[slug] = item.item_id
        ready = batch.up_to_date(doc, slug, options)
        if ready is not None:  # built from this very page already (by a poll stopped before it recorded it)
            done.append(item._replace(page_sha256=doc.sha256, text_sha256=text, slug=slug,
                                      built=str(ready.manifest.get("built")), failures=0, error=None, retry_after=None))
            result.unchanged += 1
            continue
        to_build[slug] = (item, doc, text)
    if not to_build and refresh.unlisted(options.out):  # (what build_all does after building)
        try:
            refresh.site(options.out, options.config, [])
        except (AudioEditionError, OSError) as exc:
            result.unpublished = str(exc)
    if to_build:
        started = time.monotonic()
        built = batch.build_all([doc for _, doc, _ in to_build.values()], options, report)
        result.build_seconds = time.monotonic() - started
        result.unpublished = built.unpublished
        finished = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        for made in built.built:
            if made.slug in to_build:
                item, doc, text = to_build.pop(made.slug)
                done.append(item._replace(page_sha256=doc.sha256, text_sha256=text, slug=made.slug, built=finished,
                                          failures=0, error=None, retry_after=None))
                result.built.append((item.link, made.slug))
        failed = {id(doc): reason for doc, reason in built.failed}
        for item, doc, _ in to_build.values():
            reason = failed.get(id(doc), "not built")
            done.append(_failed(item, reason, now, following))
            result.failed.append((item.link, reason))
    catalogue.save_followed(options.out, feed_url, feed_state, done)
    return result


def _page(item: catalogue.Item, polite: _Polite, options: edition.BuildOptions
          ) -> tuple[catalogue.Item, source.Document | None, str | None]:
    """The item's page if it is new or changed (None: the page its edition was built from), the item with
    the page's validators. A built item whose edition is gone from out/ is built again."""
    fetch.check_url(item.link)
    built = item.slug is not None and (options.out / item.slug / "edition.json").is_file()
    answer = polite.get(item.link, etag=item.page_etag if built else None,
                        last_modified=item.page_modified if built else None)
    if answer.status == 304:
        return item, None, None
    item = item._replace(page_etag=answer.etag, page_modified=answer.last_modified)
    doc = fetch.page(item.link, answer)
    if built and doc.sha256 == item.page_sha256:
        return item, None, None
    text = read_aloud(doc, options)  # (a page with nothing to read fails here, before a worker is given it)
    if built and text == item.text_sha256:
        # The page changed around the article (a "most read" box, a token, a time): nothing to hear anew.
        return item._replace(page_sha256=doc.sha256), None, None
    return item, doc, text  # (the text's hash is the item's once its edition is built)


def read_aloud(doc: source.Document, options: edition.BuildOptions) -> str:
    """A hash of what the edition of this page would say and list: its script, canonical URL, date, byline."""
    _, art, script = edition.prepare(doc, options)
    return hashlib.sha256(repr((script, art.url, art.date, art.byline, art.publisher)).encode("utf-8",
                                                                                             "surrogatepass")).hexdigest()


def _failed(item: catalogue.Item, reason: str, now: dt.datetime, following: FollowOptions) -> catalogue.Item:
    """The item, failed once more: its next try after a back-off that doubles each time."""
    failures = item.failures + 1
    wait = min(following.backoff * 2 ** (failures - 1), BACKOFF_CEILING)
    retry = (now + dt.timedelta(seconds=wait)).isoformat(timespec="seconds") if wait > 0 else None
    return item._replace(failures=failures, error=reason.splitlines()[0] if reason else reason, retry_after=retry)


def _short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def run(feed_url: str, options: edition.BuildOptions, following: FollowOptions, interval: float | None,
        on_poll: Callable[[Poll], None], on_error: Callable[[AudioEditionError], None],
        report: batch.Report | None = None) -> None:
    """Poll once (interval None), or every `interval` seconds until stopped (SIGTERM, SIGHUP, Ctrl-C: a build
    under way is stopped as a batch's is, leaving out/ as it was). With an interval, a failed poll (the site
    down) is reported and the next one tried; the first poll's bad input (no feed there) ends the run."""
    first = True
    while True:
        started = time.monotonic()
        try:
            on_poll(poll(feed_url, options, following, report))
        except AudioEditionError as exc:
            if interval is None or (first and isinstance(exc, BadInput)):
                raise
            on_error(exc)
        first = False
        if interval is None:
            return
        stops.check()
        time.sleep(max(0.0, started + interval - time.monotonic()))

