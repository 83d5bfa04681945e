"""A feed podcast apps can trust for years: a show identity that survives a move, media immutable by URL,
and the tags apps read (funding, timecodes, alternate formats, people), read back by real parsers."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
import shutil
import sqlite3
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import podcastparser
import pytest
from lxml import etree

from audio import feedconfig
from audio.cli.main import main
from audio.site import catalogue, feed, serve

from ..conftest import ROOT, need_program
from .test_feed import BASE, NS, article, run, write_config

NODE_DIR = ROOT / "tests" / "node"
NEW_BASE = "https://audio.example.org/podcast/"


def partytime(feed_xml: Path) -> dict[str, Any]:
    """The feed as the Podcast Index's own parser (podcast-partytime, under Node) reads it."""
    node = need_program("node")
    if not (NODE_DIR / "node_modules" / "podcast-partytime").is_dir():
        pytest.skip("podcast-partytime is not installed: npm ci --prefix tests/node")
    done = subprocess.run([node, str(NODE_DIR / "read_feed.js"), str(feed_xml)], capture_output=True, text=True,
                          check=True, timeout=60)
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


HTML = """<!doctype html><html lang="en"><head><title>Drills end near the border</title>
<meta name="author" content="Jane Doe"></head><body><article><h1>Drills end near the border</h1>
<p>Minsk and Kyiv talked on Wednesday.</p><p>The drills ended near the border.</p><p>Nobody wants a war.</p>
</article></body></html>
"""


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An out/ with one MP3 + M4A edition of an article with a byline, its feed written with a donation URL."""
    folder = tmp_path_factory.mktemp("show")
    cfg = write_config(folder / "publisher.toml")
    text = cfg.read_text(encoding="utf-8").replace(
        'publisher = "The Moscow Times"', 'publisher = "The Moscow Times"\ndonation_url = "https://example.org/give"')
    cfg.write_text(text, encoding="utf-8")
    (folder / "story.html").write_text(HTML, encoding="utf-8")
    out = folder / "out"
    result = run("build", folder / "story.html", "--out", out, "--config", cfg, "--format", "mp3,m4a",
                 "--no-appeal")
    assert result.exit_code == 0, result.output
    return out


def test_new_tags_are_read_by_feedparser_podcastparser_and_partytime(show: Path) -> None:
    [episode] = catalogue.episodes(show)
    mp3, m4a = (show / episode.slug / f"{episode.slug}.{kind}" for kind in ("mp3", "m4a"))
    marks = json.loads((show / episode.slug / "edition.json").read_text(encoding="utf-8"))["chapters"]
    assert len(marks) >= 3

    root = etree.fromstring((show / "feed.xml").read_bytes())
    item = root.find("channel/item")
    assert item is not None
    assert item.findtext("itunes:episodeType", namespaces=NS) == "full"
    assert item.findtext("itunes:explicit", namespaces=NS) == "false"
    assert item.findtext("itunes:title", namespaces=NS) == "Drills end near the border"
    # One timecode a line, the first 00:00, from the same chapters as chapters.json
    description = item.findtext("description") or ""
    lines = re.findall(r"(?m)^(?:<p>)?(\d\d:\d\d) (.+?)(?:<br>|</p>)?$", description)
    assert lines == [(f"{c['start_ms'] // 60000:02d}:{c['start_ms'] // 1000 % 60:02d}", c["title"]) for c in marks]
    assert lines[0][0] == "00:00"
    assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") == description

    parsed = partytime(show / "feed.xml")
    [got] = parsed["items"]
    assert parsed["podcastFunding"] == [{"url": "https://example.org/give", "message": "Support The Moscow Times"}]
    assert parsed["guid"] == feed.show_guid(BASE + "feed.xml")
    assert got["itunesEpisodeType"] == "full" and got["explicit"] is False and got["title"] == "Drills end near the border"
    assert [(p["name"], p["role"]) for p in got["podcastPeople"]] == [("Jane Doe", "Author")]  # (its enum's spelling)
    person = item.find("podcast:person", NS)
    assert person is not None and (person.text, person.get("role")) == ("Jane Doe", "author")
    # partytime names the SRT type it read (application/x-subrip, the namespace's) by its own enum: application/srt
    assert [(t["url"], t["type"]) for t in got["podcastTranscripts"]] == [
        (BASE + episode.transcripts[0].path, "text/vtt"), (BASE + episode.transcripts[1].path, "application/srt")]
    assert [t.mime_type for t in episode.transcripts] == ["text/vtt", "application/x-subrip"]
    alternates = got["alternativeEnclosures"]
    assert [(a["type"], a["length"], a.get("default", False), [s["uri"] for s in a["source"]]) for a in alternates] == [
        ("audio/mpeg", mp3.stat().st_size, True, [BASE + episode.enclosure]),
        ("audio/x-m4a", m4a.stat().st_size, False, [BASE + episode.alternates[1].path]),
    ]
    assert (show / episode.alternates[1].path).samefile(m4a)

    fp = feedparser.parse(str(show / "feed.xml"))
    assert not fp.bozo, fp.get("bozo_exception")
    assert fp.entries[0].itunes_title == "Drills end near the border"
    assert fp.entries[0].itunes_episodetype == "full"
    assert fp.entries[0].content[0].value.replace("<br />", "<br>") == description  # (feedparser writes XHTML)
    with open(show / "feed.xml", "rb") as stream:
        gp = podcastparser.parse(BASE + "feed.xml", stream)
    assert gp["episodes"][0]["enclosures"][0]["url"] == BASE + episode.enclosure
    assert [line for line in gp["episodes"][0]["description"].splitlines() if line] == [
        "Minsk and Kyiv talked on Wednesday."] + [" ".join(pair) for pair in lines]


def test_the_show_guid_is_made_once_and_kept_when_the_base_url_changes(show: Path, tmp_path: Path) -> None:
    out = shutil.copytree(show, tmp_path / "out")
    cfg = write_config(tmp_path / "publisher.toml")
    first = feed.show_guid(BASE + "feed.xml")  # the feed was first written at BASE
    result = run("feed", "--out", out, "--config", cfg, "--base-url", NEW_BASE)
    assert result.exit_code == 0, result.output
    moved = partytime(out / "feed.xml")
    assert moved["guid"] == first != feed.show_guid(NEW_BASE + "feed.xml")
    assert moved["items"][0]["enclosure"]["url"].startswith(NEW_BASE)
    assert "itunesNewFeedUrl" not in moved
    assert catalogue.show_setting(out, catalogue.SHOW_GUID) == first

    given = "9b024349-ccf0-5f69-a609-6b82873eab3c"  # a show that had its guid elsewhere: the config says it
    cfg = write_config(tmp_path / "publisher.toml", podcast_guid=given)
    assert run("feed", "--out", out, "--config", cfg).exit_code == 0
    assert feedparser.parse(str(out / "feed.xml")).feed.podcast_guid == given
    refused = run("feed", "--out", out, "--config", write_config(tmp_path / "bad.toml", podcast_guid="nope"))
    assert (refused.exit_code, refused.output) == (2, f"Error: {tmp_path / 'bad.toml'}: feed.podcast_guid 'nope' is not a UUID\n")


def test_feed_move_points_the_old_feed_at_the_new_one(show: Path, tmp_path: Path) -> None:
    old = shutil.copytree(show, tmp_path / "old")
    new = shutil.copytree(show, tmp_path / "new")  # out/ copied to the new host, catalogue included
    cfg = write_config(tmp_path / "publisher.toml", base_url=None)
    result = run("feed", "move", NEW_BASE, "--out", old, "--config", cfg)
    assert result.exit_code == 0, result.output
    assert result.output == f"{old / 'feed.xml'} at {BASE}feed.xml now points podcast apps to {NEW_BASE}feed.xml\n"
    at_old = partytime(old / "feed.xml")
    assert at_old["itunesNewFeedUrl"] == NEW_BASE + "feed.xml"
    assert at_old["items"][0]["enclosure"]["url"].startswith(BASE)  # the old address still serves its files
    with open(old / "feed.xml", "rb") as stream:
        assert podcastparser.parse(BASE + "feed.xml", stream)["new_url"] == NEW_BASE + "feed.xml"
    assert run("feed", "--out", old, "--config", cfg, "--base-url", BASE).exit_code == 0  # a later write keeps it
    assert partytime(old / "feed.xml")["itunesNewFeedUrl"] == NEW_BASE + "feed.xml"

    assert run("feed", "--out", new, "--config", cfg, "--base-url", NEW_BASE).exit_code == 0
    at_new = partytime(new / "feed.xml")
    assert at_new["guid"] == at_old["guid"] == feed.show_guid(BASE + "feed.xml")
    assert "itunesNewFeedUrl" not in at_new
    # A copy made after the move (its catalogue says moved) names no new address at the new address itself.
    after = shutil.copytree(old, tmp_path / "after")
    assert run("feed", "--out", after, "--config", cfg, "--base-url", NEW_BASE).exit_code == 0
    assert "itunesNewFeedUrl" not in partytime(after / "feed.xml")
    same = run("feed", "move", BASE, "--out", old, "--config", cfg)
    assert (same.exit_code, same.output) == (2, f"Error: {BASE}: is where this feed is served already; give the new address\n")


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    out = tmp_path / "out"
    out.mkdir()
    server = serve.make_server(out, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as reply:
        data: bytes = reply.read()
    return data


def test_a_rebuilt_episode_gets_new_urls_and_its_old_files_still_serve_until_pruned(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    out, base = served
    (out / ".audio-edition").write_text("ours\n", encoding="utf-8")
    cfg = write_config(tmp_path / "publisher.toml", base_url=base)
    story = article(tmp_path, "story", sentences=2)
    assert run("build", story, "--out", out, "--config", cfg).exit_code == 0
    [before] = feedparser.parse(fetch(base + "feed.xml")).entries
    old = {"audio": before.enclosures[0].href, "chapters": before.podcast_chapters["url"],
           "transcript": before.podcast_transcript["url"]}
    old_bytes = {role: fetch(url) for role, url in old.items()}

    article(tmp_path, "story", sentences=3)  # a correction: the MP3, chapters and transcript change
    assert run("build", story, "--out", out, "--config", cfg).exit_code == 0
    [after] = feedparser.parse(fetch(base + "feed.xml")).entries
    assert after.id == before.id  # the same episode
    new = {"audio": after.enclosures[0].href, "chapters": after.podcast_chapters["url"],
           "transcript": after.podcast_transcript["url"]}
    for role in old:
        assert new[role] != old[role], role
        assert fetch(old[role]) == old_bytes[role], role  # the old URL serves what it always served
        assert fetch(new[role]) != old_bytes[role], role
    assert int(after.enclosures[0].length) == len(fetch(new["audio"]))
    assert fetch(base + "story/story.mp3") == fetch(new["audio"])  # the player page plays the newest

    # Someone else's file that looks like ours, in the edition folder: never pruned
    foreign = out / "story" / "notes.0123456789ab.txt"
    foreign.write_text("mine\n", encoding="utf-8")
    kept = run("feed", "prune", "--out", out, "--days", "30")
    assert (kept.exit_code, kept.output) == (0, f"removed 0 superseded files (0.0 MB) from {out}\n")
    pruned = run("feed", "prune", "--out", out, "--days", "0")
    assert pruned.exit_code == 0, pruned.output
    assert re.fullmatch(rf"removed 4 superseded files \(\d+\.\d MB\) from {re.escape(str(out))}\n", pruned.output)
    for role in old:  # the superseded MP3, chapters, VTT (and the SRT) are gone; the newest are served
        with pytest.raises(urllib.error.HTTPError):
            fetch(old[role])
        assert fetch(new[role])
    assert foreign.read_text(encoding="utf-8") == "mine\n"
    missing = run("feed", "prune", "--out", tmp_path / "nowhere")
    assert (missing.exit_code, missing.output) == (2, f"Error: --out {tmp_path / 'nowhere'}: no such folder\n")
    assert not (tmp_path / "nowhere").exists()
    for name in ("index.html", "edition.json", "story.mp3", "chapters.json", "transcript.vtt"):
        assert fetch(base + "story/" + name), name
    assert not feedparser.parse(fetch(base + "feed.xml")).bozo


def test_a_rebuild_with_the_same_audio_keeps_its_url(sample_edition: Any, tmp_path: Path) -> None:
    from audio.site import media

    staging = shutil.copytree(sample_edition.directory, tmp_path / "staging")
    files = [dict(f) for f in sample_edition.manifest["files"]]
    for entry in files:  # as a build leaves them: no versioned names yet
        entry.pop("versioned", None)
    for leftover in staging.iterdir():
        if re.fullmatch(r".+\.[0-9a-f]{12}\.[a-z0-9]+", leftover.name):
            leftover.unlink()
    superseded = media.version(staging, sample_edition.directory, files, "2026-01-01T00:00:00+00:00")
    assert superseded == []  # every file published again under the same name
    assert [f["versioned"] for f in files if "versioned" in f] == [
        f["versioned"] for f in sample_edition.manifest["files"] if "versioned" in f]
    mp3 = next(f for f in files if f["role"] == "audio")
    assert mp3["versioned"] == f"{sample_edition.slug}.{sha256(staging / mp3['name'])[:12]}.mp3"


def test_the_catalogue_of_schema_2_is_migrated_and_its_episodes_kept(sample_edition: Any, tmp_path: Path) -> None:
    """A catalogue written by the release before (schema 2, its episodes' files under their own names)."""
    out = tmp_path / "out"
    folder = shutil.copytree(sample_edition.directory, out / "old-story")
    manifest = {**json.loads(json.dumps(sample_edition.manifest)), "slug": "old-story"}
    manifest.pop("superseded")
    for entry in manifest["files"]:  # as the old release wrote edition.json: no versioned names
        entry.pop("versioned", None)
    (folder / "edition.json").write_text(json.dumps(manifest), encoding="utf-8")
    db = sqlite3.connect(out / "catalogue.sqlite")
    for step in catalogue.MIGRATIONS[:2]:
        db.executescript(step)
    db.execute("PRAGMA user_version = 2")
    mp3 = folder / "moscow-times-belarus.mp3"
    db.execute(
        "INSERT INTO episode (guid, slug, canonical_url, title, description, language, pub_date, duration_ms,"
        " enclosure, bytes, mime_type, chapters, transcript, source_sha256, first_built, last_built)"
        " VALUES (?, 'old-story', NULL, 'An old story', 'Its lede.', 'en', '2024-02-29T10:00:00+00:00', ?,"
        " 'old-story/moscow-times-belarus.mp3', ?, 'audio/mpeg', 'old-story/chapters.json',"
        " 'old-story/transcript.vtt', ?, '2024-02-29T10:00:00+00:00', ?)",
        ("6ba7b811-9dad-11d1-80b4-00c04fd430c8", manifest["duration_ms"], mp3.stat().st_size,
         manifest["source"]["sha256"], dt.datetime.now(dt.timezone.utc).isoformat()),
    )
    db.execute("INSERT INTO removed (slug, built) VALUES ('gone', '2024-01-01T00:00:00+00:00')")
    db.commit()
    db.close()
    (out / ".audio-edition").write_text("ours\n", encoding="utf-8")

    cfg = write_config(tmp_path / "publisher.toml")
    result = run("feed", "--out", out, "--config", cfg)
    assert result.exit_code == 0, result.output
    with contextlib.closing(sqlite3.connect(out / "catalogue.sqlite")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(catalogue.MIGRATIONS)  # (and every step after 2)
        assert db.execute("SELECT slug FROM removed").fetchall() == [("gone",)]
        assert db.execute("SELECT value FROM show WHERE key = 'podcast_guid'").fetchone() == (
            feed.show_guid(BASE + "feed.xml"),)
    [episode] = catalogue.episodes(out)
    assert (episode.guid, episode.title, episode.byline, episode.marks, episode.alternates) == (
        "6ba7b811-9dad-11d1-80b4-00c04fd430c8", "An old story", None, (), ())
    parsed = partytime(out / "feed.xml")
    [item] = parsed["items"]
    assert item["enclosure"]["url"] == BASE + "old-story/moscow-times-belarus.mp3"  # its URL as published
    assert [t["url"] for t in item["podcastTranscripts"]] == [BASE + "old-story/transcript.vtt"]
    assert "podcastPeople" not in item and "alternativeEnclosures" not in item
    # nothing of the old edition is pruned: its files are not versioned, and they are the feed's
    assert run("feed", "prune", "--out", out, "--days", "0").output == f"removed 0 superseded files (0.0 MB) from {out}\n"
    assert mp3.is_file()


@pytest.mark.parametrize(("url", "warned"), [
    ("http://audio.example.org/", True), ("http://93.184.216.34/podcast/", True), ("https://audio.example.org/", False),
    ("http://localhost:8000/", False), ("http://127.0.0.1/", False), ("http://192.168.1.20:8000/", False),
    ("http://10.0.0.5/", False), ("http://[::1]:8000/", False), ("http://my-laptop.local/", False),
])
def test_plain_http_is_warned_about_unless_local(url: str, warned: bool) -> None:
    assert feedconfig.insecure(url) is warned


def test_a_plain_http_base_url_warns_and_still_writes_the_feed(
    show: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = shutil.copytree(show, tmp_path / "out")
    cfg = write_config(tmp_path / "publisher.toml")
    with caplog.at_level(logging.WARNING):
        result = run("feed", "--out", out, "--config", cfg, "--base-url", "http://audio.example.org/")
    assert result.exit_code == 0, result.output
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        ("base URL http://audio.example.org/ is plain http: the Podcasting 2.0 namespace requires https: for the URLs "
         "it defines, and apps may refuse them")]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert run("feed", "--out", out, "--config", cfg, "--base-url", BASE).exit_code == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_docs_say_how_to_move_a_show_and_prune() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "audio-edition feed move" in readme and "audio-edition feed prune" in readme
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    for text in ("audio-edition feed move", "audio-edition feed prune", "podcast:guid", "itunes:new-feed-url",
                 "podcast:funding", "podcast:alternateEnclosure", "podcast:person", "itunes:episodeType"):
        assert text in guide, text
    group = main.commands["feed"]
    for name in ("move", "prune"):
        command = group.commands[name]  # type: ignore[attr-defined]
        assert command.help and all(p.help for p in command.params if p.param_type_name == "option")



def test_timecodes_need_three_chapters_from_zero_and_show_hours_past_one() -> None:
    mark = catalogue.Mark
    assert feed.timecodes([mark(0, "Intro"), mark(65_400, "One")]) == []  # two: apps make no chapters of them
    assert feed.timecodes([mark(1500, "a"), mark(2000, "b"), mark(3000, "c")]) == []  # the first must be 00:00
    assert feed.timecodes([mark(0, "Intro"), mark(65_999, "One\n two"), mark(600_000, "Appeal")]) == [
        "00:00 Intro", "01:05 One two", "10:00 Appeal"]
    assert feed.timecodes([mark(0, "Intro"), mark(59 * 60_000, "Late"), mark(3_725_000, "Later")]) == [
        "0:00:00 Intro", "0:59:00 Late", "1:02:05 Later"]
