"""follow FEED_URL: a local site's feed and pages, changing between polls; real builds, the feed read back."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from audio import config, edition, follow, manifest
from audio.cli.main import main
from audio.site import catalogue

from .conftest import ROOT
from .localsite import Route, Site, page, rss, running
from .site.test_feed import BASE, write_config

DAY = "Mon, 07 Dec 2026"
STORIES = {
    "bridge": ("Harbour bridge reopens after repairs", "The harbour bridge reopened to traffic on Monday morning."),
    "library": ("Library extends its opening hours", "The city library will open until nine in the evening."),
    "market": ("Market moves to the old station", "The Saturday market moves to the old railway station in spring."),
}


class Newsroom:
    """A local site: /news/<name>.html pages and /rss.xml listing some of them, with an ETag that changes
    with the feed's content."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.listed: list[str] = []
        self.version = 0

    def publish(self, *names: str) -> None:
        for name in names:
            if f"/news/{name}.html" not in self.site.routes:
                self.site.routes[f"/news/{name}.html"] = Route(page(*STORIES[name]).encode())
        self.listed = list(names)
        self.version += 1
        items = [(name, self.site.url(f"/news/{name}.html"), f"{DAY} 0{i}:00:00 +0000") for i, name in enumerate(names)]
        self.site.routes["/rss.xml"] = Route(rss(items, self.site.url("/")), etag=f'"v{self.version}"',
                                             headers={"Content-Type": "application/rss+xml"})

    @property
    def feed(self) -> str:
        return self.site.url("/rss.xml")


@pytest.fixture()
def newsroom(monkeypatch: pytest.MonkeyPatch) -> Iterator[Newsroom]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")  # (a proxy the environment names is not the local site's)
    with running() as site:
        yield Newsroom(site)


def options(tmp_path: Path) -> edition.BuildOptions:
    cfg = write_config(tmp_path / "publisher.toml", base_url=BASE)
    return edition.BuildOptions(out=tmp_path / "out", config=config.load(cfg), jobs=2)


def episodes(out: Path) -> dict[str, str]:
    """out/feed.xml's episodes as feedparser reads them: title -> guid."""
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return {entry.title: entry.id for entry in parsed.entries}


def test_new_items_are_built_and_an_unchanged_feed_costs_one_304(newsroom: Newsroom, tmp_path: Path) -> None:
    built = options(tmp_path)
    newsroom.publish("bridge", "library")
    first = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    assert sorted(slug for _, slug in first.built) == ["bridge", "library"] and first.failed == []
    assert set(episodes(built.out)) == {STORIES["bridge"][0], STORIES["library"][0]}

    asked = len(newsroom.site.requests)
    second = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    assert (second.feed_changed, second.built, second.unchanged, second.failed) == (False, [], 0, [])
    (request,) = newsroom.site.requests[asked:]
    assert request.path == "/rss.xml" and request.headers["if-none-match"] == '"v1"'

    newsroom.publish("bridge", "library", "market")
    third = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    assert (third.built, third.unchanged) == ([(newsroom.site.url("/news/market.html"), "market")], 2)
    assert len(episodes(built.out)) == 3


def enclosures(out: Path) -> dict[str, str]:
    """out/feed.xml's episodes: title -> the audio's URL."""
    return {entry.title: entry.enclosures[0].href for entry in feedparser.parse((out / "feed.xml").read_bytes()).entries}


def test_a_changed_page_is_rebuilt_as_the_same_episode_with_new_audio_urls(newsroom: Newsroom, tmp_path: Path) -> None:
    built = options(tmp_path)
    newsroom.publish("bridge")
    follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    before = manifest.load(built.out / "bridge").manifest
    guid = episodes(built.out)[STORIES["bridge"][0]]
    audio = enclosures(built.out)[STORIES["bridge"][0]]

    corrected = page(STORIES["bridge"][0], "The harbour bridge reopened to traffic on Tuesday morning.")
    newsroom.site.routes["/news/bridge.html"] = Route(corrected.encode())
    newsroom.publish("bridge")  # (the site's feed says it was updated)
    again = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    assert again.built == [(newsroom.site.url("/news/bridge.html"), "bridge")]
    after = manifest.load(built.out / "bridge").manifest
    assert after["source"]["sha256"] != before["source"]["sha256"] and "Tuesday" in after["lede"]
    assert episodes(built.out) == {STORIES["bridge"][0]: guid}
    assert enclosures(built.out)[STORIES["bridge"][0]] != audio  # (apps that have the old audio keep its URL)


def test_a_page_changed_only_around_its_article_is_not_built_again(newsroom: Newsroom, tmp_path: Path) -> None:
    built = options(tmp_path)
    newsroom.publish("bridge")
    follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    before = manifest.load(built.out / "bridge").manifest["built"]
    framed = page(*STORIES["bridge"]).replace("<body>", '<body><nav><a href="/">Home</a></nav><!-- rendered 12:01 -->')
    newsroom.site.routes["/news/bridge.html"] = Route(framed.encode())
    newsroom.publish("bridge", "library")
    again = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    assert [slug for _, slug in again.built] == ["library"] and again.unchanged == 1
    assert manifest.load(built.out / "bridge").manifest["built"] == before
    assert catalogue.followed_items(built.out, newsroom.feed)["bridge"].page_sha256 == hashlib.sha256(framed.encode()).hexdigest()


def test_an_edition_built_but_not_recorded_is_not_built_again(newsroom: Newsroom, tmp_path: Path) -> None:
    built = options(tmp_path)
    newsroom.publish("bridge")
    cfg = tmp_path / "publisher.toml"
    made = CliRunner().invoke(main, ["build", newsroom.site.url("/news/bridge.html"), "--out", str(built.out),
                                     "--config", str(cfg)])
    assert made.exit_code == 0, made.output
    before = manifest.load(built.out / "bridge").manifest["built"]
    result = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    assert (result.built, result.unchanged) == ([], 1)
    assert manifest.load(built.out / "bridge").manifest["built"] == before
    assert catalogue.followed_items(built.out, newsroom.feed)["bridge"].slug == "bridge"
    assert set(episodes(built.out)) == {STORIES["bridge"][0]}


def test_a_failing_page_fails_that_item_only_and_is_tried_again(newsroom: Newsroom, tmp_path: Path) -> None:
    built = options(tmp_path)
    newsroom.publish("bridge", "library")
    newsroom.site.routes["/news/library.html"] = Route(b"down", 500)
    first = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0, backoff=0))
    assert first.built == [(newsroom.site.url("/news/bridge.html"), "bridge")]
    assert first.failed == [(newsroom.site.url("/news/library.html"),
                             f"{newsroom.site.url('/news/library.html')}: the server failed (HTTP 500 Internal Server Error)")]
    failing = catalogue.followed_items(built.out, newsroom.feed)["library"]
    assert failing.failures == 1 and failing.slug is None and "HTTP 500" in (failing.error or "")

    newsroom.site.routes["/news/library.html"] = Route(page(*STORIES["library"]).encode())
    second = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0, backoff=0))  # the feed answers 304
    assert not second.feed_changed and second.built == [(newsroom.site.url("/news/library.html"), "library")]
    assert catalogue.followed_items(built.out, newsroom.feed)["library"].failures == 0
    assert len(episodes(built.out)) == 2


def test_a_failed_item_waits_longer_after_each_failure(newsroom: Newsroom, tmp_path: Path) -> None:
    built = options(tmp_path)
    newsroom.publish("bridge")
    newsroom.site.routes["/news/bridge.html"] = Route(b"down", 503)
    follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0, backoff=0))
    follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0, backoff=600))  # tried: no back-off was due
    item = catalogue.followed_items(built.out, newsroom.feed)["bridge"]
    assert item.failures == 2 and item.retry_after is not None
    wait = dt.datetime.fromisoformat(item.retry_after) - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(seconds=1100) < wait <= dt.timedelta(seconds=1200)  # 600 s doubled
    asked = len(newsroom.site.asked("/news/bridge.html"))
    third = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0, backoff=600))
    assert (third.waiting, third.failed) == (1, []) and len(newsroom.site.asked("/news/bridge.html")) == asked


def test_items_removed_from_the_sites_feed_stay_in_ours(newsroom: Newsroom, tmp_path: Path) -> None:
    built = options(tmp_path)
    newsroom.publish("bridge", "library")
    follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    newsroom.publish("market")
    follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    assert set(episodes(built.out)) == {STORIES[name][0] for name in STORIES}


def test_since_leaves_the_older_items(newsroom: Newsroom, tmp_path: Path) -> None:
    built = options(tmp_path)
    newsroom.publish("bridge", "library")  # dated 00:00 and 01:00
    since = follow.since("2026-12-07T00:30:00+00:00")
    result = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0, since=since))
    assert [slug for _, slug in result.built] == ["library"] and newsroom.site.asked("/news/bridge.html") == []


def test_a_google_news_sitemap_is_followed(newsroom: Newsroom, tmp_path: Path) -> None:
    site = newsroom.site
    for name in ("bridge", "library"):
        site.routes[f"/news/{name}.html"] = Route(page(*STORIES[name]).encode())
    urls = "".join(f"<url><loc>{site.url(f'/news/{name}.html')}</loc><news:news><news:publication>"
                   "<news:name>Local</news:name><news:language>en</news:language></news:publication>"
                   f"<news:publication_date>2026-12-0{day}T08:00:00Z</news:publication_date>"
                   f"<news:title>{STORIES[name][0]}</news:title></news:news></url>"
                   for day, name in ((1, "bridge"), (7, "library")))
    site.routes["/news-sitemap.xml"] = Route(
        ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
         f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>').encode(),
        headers={"Content-Type": "application/xml"})
    result = follow.poll(site.url("/news-sitemap.xml"), options(tmp_path),
                         follow.FollowOptions(delay=0, since=follow.since("2026-12-05")))
    assert [slug for _, slug in result.built] == ["library"]


def test_two_items_with_one_page_name_get_an_edition_each(newsroom: Newsroom, tmp_path: Path) -> None:
    site = newsroom.site
    site.routes["/bridge/index.html"] = Route(page(*STORIES["bridge"]).encode())
    site.routes["/library/index.html"] = Route(page(*STORIES["library"]).encode())
    site.routes["/rss.xml"] = Route(rss([("a", site.url("/bridge/index.html"), f"{DAY} 01:00:00 +0000"),
                                         ("b", site.url("/library/index.html"), f"{DAY} 02:00:00 +0000")], site.url("/")))
    built = options(tmp_path)
    result = follow.poll(newsroom.feed, built, follow.FollowOptions(delay=0))
    assert len({slug for _, slug in result.built}) == 2 and len(episodes(built.out)) == 2


def test_follow_once_reports_a_failed_item_and_exits_1(newsroom: Newsroom, tmp_path: Path) -> None:
    newsroom.publish("bridge", "library")
    newsroom.site.routes["/news/library.html"] = Route(b"gone", 404)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["follow", newsroom.feed, "--once", "--delay", "0", "--out", str(out),
                                                       "--jobs", "1"])
    library = newsroom.site.url("/news/library.html")
    assert result.exit_code == 1
    assert result.stdout == (f"{newsroom.site.url('/news/bridge.html')}: built {out / 'bridge'}/\n"
                             "1 built, 0 unchanged, 1 failed\n")
    assert result.stderr == (f"{library}: not found (HTTP 404 Not Found)\n"
                             "Error: 1 item failed (tried again on the next poll)\n")


def test_a_feed_that_is_not_there_or_not_a_feed_exits_2(newsroom: Newsroom, tmp_path: Path) -> None:
    newsroom.site.routes["/page.html"] = Route(page(*STORIES["bridge"]).encode())
    for path, message in (("/none.xml", "not found (HTTP 404 Not Found)"),
                          ("/page.html", "is not an RSS or Atom feed, nor a news sitemap")):
        result = CliRunner().invoke(main, ["follow", newsroom.site.url(path), "--out", str(tmp_path / "out")])
        assert result.exit_code == 2 and result.output.startswith(f"Error: {newsroom.site.url(path)}: {message}")
    assert not (tmp_path / "out").exists()


def test_sigterm_during_every_leaves_nothing_half_made(newsroom: Newsroom, tmp_path: Path) -> None:
    # 360 sentences, none in a cache: a build of some 10 s or more, stopped a second in.
    long = [" ".join(f"Section {p}, line {n} of the council's report says the budget grew by {p * 60 + n} percent."
                     for n in range(60)) for p in range(6)]
    newsroom.site.routes["/news/report.html"] = Route(page("Council report", *long).encode())
    newsroom.publish("bridge", "library")
    items = [("report", newsroom.site.url("/news/report.html"), f"{DAY} 05:00:00 +0000")]
    out = tmp_path / "out"
    command = [sys.executable, "-m", "audio", "follow", newsroom.feed, "--every", "1s", "--delay", "0", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AUDIO_EDITION_CACHE": str(tmp_path / "cache")}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path) as process:
        deadline = time.monotonic() + 120
        while not (out / "bridge" / "edition.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # the first poll's editions are published: now the long one
        newsroom.site.routes["/rss.xml"] = Route(rss(items, newsroom.site.url("/")), etag='"long"')
        while not newsroom.site.asked("/news/report.html") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # its build under way
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM, errors
    assert not (out / "report").exists()  # stopped mid-build: not published, nor left half-made
    assert [p for p in out.rglob(".*") if ".partial" in p.name] == []
    for folder in out.iterdir():
        if folder.is_dir() and not folder.name.startswith("."):
            edition_json = manifest.load(folder)
            assert all((folder / f["name"]).stat().st_size == f["bytes"] for f in edition_json.manifest["files"])
    with contextlib.closing(sqlite3.connect(out / catalogue.FILENAME)) as db:  # (`with` alone never closes it)
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert {"bridge", "library"} <= {e.slug for e in catalogue.episodes(out)}


def test_an_atom_feed_with_headers_and_a_delay_between_requests(newsroom: Newsroom, tmp_path: Path) -> None:
    site = newsroom.site
    for name in ("bridge", "library"):
        site.routes[f"/news/{name}.html"] = Route(page(*STORIES[name]).encode())
    entries = "".join(f'<entry><id>urn:local:{name}</id><title>{STORIES[name][0]}</title>'
                      f'<link href="/news/{name}.html"/><updated>2026-12-07T0{i}:00:00Z</updated></entry>'
                      for i, name in enumerate(("bridge", "library")))
    site.routes["/atom.xml"] = Route(
        ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>urn:local</id>'
         f'<title>Local</title><updated>2026-12-07T01:00:00Z</updated>{entries}</feed>').encode(),
        headers={"Content-Type": "application/atom+xml"})
    result = follow.poll(site.url("/atom.xml"), options(tmp_path),
                         follow.FollowOptions(delay=0.3, headers=(("Authorization", "Bearer t0ken"),)))
    assert sorted(slug for _, slug in result.built) == ["bridge", "library"]
    assert set(catalogue.followed_items(tmp_path / "out", site.url("/atom.xml"))) == {"urn:local:bridge", "urn:local:library"}
    assert [r.headers["authorization"] for r in site.requests] == ["Bearer t0ken"] * 3
    times = [r.at for r in site.requests]
    assert all(later - earlier >= 0.3 for earlier, later in zip(times, times[1:]))  # (sleep never ends early)


def test_the_headers_given_go_to_the_feeds_host_only(newsroom: Newsroom, tmp_path: Path) -> None:
    site = newsroom.site
    site.routes["/news/bridge.html"] = Route(page(*STORIES["bridge"]).encode())
    site.routes["/rss.xml"] = Route(rss([("elsewhere", site.url("/news/bridge.html", "localhost"), f"{DAY} 01:00:00 +0000")],
                                        site.url("/")))
    follow.poll(newsroom.feed, options(tmp_path), follow.FollowOptions(delay=0, headers=(("Cookie", "paid=1"),)))
    feed, article = site.requests
    assert feed.headers["cookie"] == "paid=1" and article.host.startswith("localhost") and "cookie" not in article.headers


def test_every_reports_a_failed_poll_and_polls_again(newsroom: Newsroom, tmp_path: Path) -> None:
    newsroom.site.routes["/rss.xml"] = Route(b"busy", 503)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "audio", "follow", newsroom.feed, "--every", "1s", "--delay", "0", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        deadline = time.monotonic() + 60
        while len(newsroom.site.asked("/rss.xml")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        newsroom.publish("bridge")
        assert process.stdout is not None
        first = process.stdout.readline()  # (click flushes each line)
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    assert f"{newsroom.feed}: the server failed (HTTP 503 Service Unavailable)\n" in errors
    assert first == f"{newsroom.site.url('/news/bridge.html')}: built {out / 'bridge'}/\n"
    assert process.returncode == -signal.SIGTERM
