"""The catalogue and the podcast feed, read back by real podcast clients' parsers (gPodder's, feedparser)."""
from __future__ import annotations

import contextlib
import email.utils
import json
import re
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import feedparser
import podcastparser
import pytest
from click.testing import CliRunner
from lxml import etree
from PIL import Image

from audio import config, feedconfig
from audio.cli.main import main
from audio.errors import AudioEditionError, BadInput
from audio.site import catalogue, cover, feed, refresh

from ..conftest import ROOT

BASE = "http://localhost:8000/podcast/"  # a sub-path: every URL must be joined under it
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
NS = {"itunes": ITUNES, "podcast": PODCAST, "atom": "http://www.w3.org/2005/Atom"}
TRICKY = "Tom & Jerry <say> \"hi\" & 'bye' </item>"
NON_LATIN = "Минск и Москва: «учения» — 北京 ελληνικά"
TITLES = ("Makei says troops will leave", TRICKY, NON_LATIN)  # built in this order: newest last
FEED_TABLE = {
    "title": "The Moscow Times: Audio Edition",
    "description": "Articles read aloud.",
    "link": "https://www.themoscowtimes.com/",
    "language": "en",
    "owner_email": "audio@example.org",
    "category": "News",
    "subcategory": "Daily News",
    "explicit": False,
    "base_url": BASE,
}
RFC2822 = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                     r"\d{2}:\d{2}:\d{2} [+-]\d{4}")


def write_config(path: Path, drop: tuple[str, ...] = (), **feed_values: Any) -> Path:
    """A publisher config whose [feed] table is FEED_TABLE changed by feed_values (None drops a key)."""
    table = {**FEED_TABLE, **feed_values}
    lines = ['publisher = "The Moscow Times"', "", "[feed]"]
    for key, value in table.items():
        if value is None or key in drop:
            continue
        lines.append(f"{key} = {json.dumps(value)}")  # JSON strings, numbers and booleans are valid TOML
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def article(folder: Path, name: str, sentences: int = 2) -> Path:
    path = folder / f"{name}.txt"
    lines = ["Minsk and Kyiv talked on Wednesday.", "The drills ended near the border.", "Nobody wants a war."]
    path.write_text("\n\n".join(lines[:sentences]) + "\n", encoding="utf-8")
    return path


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An out/ with three real editions built through the CLI with a feed config: treat as read-only."""
    folder = tmp_path_factory.mktemp("three")
    cfg = write_config(folder / "publisher.toml")
    out = folder / "out"
    for number, title in enumerate(TITLES):
        result = run("build", article(folder, f"story-{number}"), "--out", out, "--title", title, "--config", cfg)
        assert result.exit_code == 0, result.output
    return out


def parse_gpodder(out: Path) -> dict[str, Any]:
    with open(out / "feed.xml", "rb") as stream:
        parsed: dict[str, Any] = podcastparser.parse(BASE + "feed.xml", stream)
    return parsed


def test_a_build_without_base_url_is_catalogued_but_writes_no_feed(sample_out: Path, sample_edition: Any) -> None:
    [episode] = catalogue.episodes(sample_out)
    manifest = sample_edition.manifest
    mp3 = sample_out / "moscow-times-belarus" / "moscow-times-belarus.mp3"
    assert episode.slug == "moscow-times-belarus"
    # MP3 before M4A, under a name made from its content (the same file as the plain name the page plays)
    assert re.fullmatch(r"moscow-times-belarus/moscow-times-belarus\.[0-9a-f]{12}\.mp3", episode.enclosure)
    assert (sample_out / episode.enclosure).samefile(mp3)
    assert (episode.bytes, episode.mime_type) == (mp3.stat().st_size, "audio/mpeg")
    assert episode.duration_ms == manifest["duration_ms"]
    assert episode.description == manifest["lede"]
    assert re.fullmatch(r"moscow-times-belarus/chapters\.[0-9a-f]{12}\.json", episode.chapters or "")
    assert re.fullmatch(r"moscow-times-belarus/transcript\.[0-9a-f]{12}\.vtt", episode.transcript or "")
    assert episode.source_sha256 == manifest["source"]["sha256"]
    assert episode.pub_date.tzinfo is not None and episode.first_built <= episode.last_built
    assert uuid.UUID(episode.guid)
    assert not (sample_out / "feed.xml").exists()


def test_gpodder_parser_reads_every_episode_exactly(three: Path) -> None:
    parsed = parse_gpodder(three)
    listed = catalogue.episodes(three)
    assert [e["title"] for e in parsed["episodes"]] == list(reversed(TITLES))  # newest first, exact
    assert [e["guid"] for e in parsed["episodes"]] == [e.guid for e in listed]
    for got, episode in zip(parsed["episodes"], listed):
        audio = three / episode.slug / f"{episode.slug}.mp3"
        assert got["enclosures"] == [
            {"url": BASE + episode.enclosure, "file_size": audio.stat().st_size, "mime_type": "audio/mpeg"}
        ]
        assert (three / episode.enclosure).samefile(audio)
        assert got["total_time"] == round(episode.duration_ms / 1000) > 0
        assert got["description"].startswith("Minsk and Kyiv talked on Wednesday.")
    assert parsed["title"] == FEED_TABLE["title"]
    assert parsed["cover_url"] == BASE + "cover.png"
    assert parsed["itunes_categories"] == [["News", "Daily News"]]
    assert parsed["explicit"] is False
    # gPodder's parser maps podcast: tags only under the namespace's old GitHub URI, not the
    # https://podcastindex.org/namespace/1.0 the namespace defines: it sees no chapters URL here.
    assert "chapters_json_url" not in parsed["episodes"][0]


def test_feedparser_reads_enclosures_chapters_and_transcripts(three: Path) -> None:
    parsed = feedparser.parse(str(three / "feed.xml"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == list(reversed(TITLES))
    for entry, episode in zip(parsed.entries, catalogue.episodes(three)):
        folder = f"{BASE}{episode.slug}/"
        [enclosure] = entry.enclosures
        assert (enclosure.href, int(enclosure.length), enclosure.type) == (
            BASE + episode.enclosure, (three / episode.enclosure).stat().st_size, "audio/mpeg")
        assert enclosure.href.startswith(folder) and (three / episode.enclosure).samefile(three / episode.slug / f"{episode.slug}.mp3")
        assert entry.id == episode.guid
        assert entry.itunes_duration == str(round(episode.duration_ms / 1000))
        assert entry.podcast_chapters == {"url": BASE + str(episode.chapters), "type": "application/json+chapters"}
        # feedparser keeps the last podcast:transcript: the SRT, written after the VTT
        assert entry.podcast_transcript == {
            "url": BASE + episode.transcripts[1].path, "type": "application/x-subrip", "language": "en"}
    assert parsed.feed.podcast_guid == feed.show_guid(BASE + "feed.xml")


def test_apple_required_tags_and_offline_namespace_rules(three: Path) -> None:
    raw = (three / "feed.xml").read_bytes()
    root = etree.fromstring(raw)
    assert root.tag == "rss" and root.get("version") == "2.0" and root.nsmap["itunes"] == ITUNES
    assert root.nsmap["podcast"] == PODCAST
    channel = root.find("channel")
    assert channel is not None

    def one(parent: Any, path: str) -> Any:
        found = parent.findall(path, NS)
        assert len(found) == 1, path
        return found[0]

    assert one(channel, "title").text == FEED_TABLE["title"]
    assert 0 < len(one(channel, "description").text.encode()) <= 4000
    assert one(channel, "language").text == "en"
    assert one(channel, "link").text == FEED_TABLE["link"]
    assert one(channel, "atom:link").attrib == {"href": BASE + "feed.xml", "rel": "self", "type": "application/rss+xml"}
    category = one(channel, "itunes:category")
    assert category.get("text") in feedconfig.CATEGORIES
    assert one(category, "itunes:category").get("text") in feedconfig.CATEGORIES[category.get("text")]
    assert one(channel, "itunes:explicit").text == "false"  # true/false, never feedgen's yes/no
    image_url = one(channel, "itunes:image").get("href")
    assert image_url.startswith(BASE) and image_url.endswith(".png")
    with Image.open(three / image_url[len(BASE):]) as image:  # artwork size from the image itself
        assert (image.format, image.size, image.mode) == ("PNG", (3000, 3000), "RGB")
    assert one(channel, "podcast:guid").text == str(
        uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "localhost:8000/podcast/feed.xml"))
    locked = one(channel, "podcast:locked")
    assert (locked.text, locked.get("owner")) == ("no", "audio@example.org")
    owner = one(channel, "itunes:owner")
    assert one(owner, "itunes:email").text == "audio@example.org"

    items = channel.findall("item")
    assert len(items) == 3
    guids = set()
    for item in items:
        assert one(item, "title").text in TITLES
        enclosure = one(item, "enclosure")
        assert set(enclosure.attrib) == {"url", "length", "type"} and enclosure.get("url").startswith(BASE)
        assert int(enclosure.get("length")) == (three / enclosure.get("url")[len(BASE):]).stat().st_size
        assert enclosure.get("type") in ("audio/mpeg", "audio/x-m4a")
        guid = one(item, "guid")
        assert guid.get("isPermaLink") == "false"
        guids.add(guid.text)
        date = one(item, "pubDate").text
        assert RFC2822.fullmatch(date) and email.utils.parsedate_to_datetime(date).tzinfo is not None
        assert re.fullmatch(r"[1-9]\d*", one(item, "itunes:duration").text)
        chapters = one(item, "podcast:chapters")
        assert chapters.get("type") == "application/json+chapters"
        data = json.loads((three / chapters.get("url")[len(BASE):]).read_text(encoding="utf-8"))
        starts = [c["startTime"] for c in data["chapters"]]
        assert data["version"] == "1.2.0" and starts == sorted(starts)
        vtt, srt = item.findall("podcast:transcript", NS)
        assert (vtt.get("type"), srt.get("type")) == ("text/vtt", "application/x-subrip")
        assert (three / vtt.get("url")[len(BASE):]).read_text(encoding="utf-8").startswith("WEBVTT")
        assert (three / srt.get("url")[len(BASE):]).read_text(encoding="utf-8").startswith("1\n00:00:00,")
    assert len(guids) == 3


def test_show_guid_follows_the_podcast_namespace_example() -> None:
    # Podcast Index lists https://podnews.net/rss with this podcast:guid.
    assert feed.show_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert feed.show_guid("http://podnews.net/rss/") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_rebuilding_an_article_updates_its_episode_in_place(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "publisher.toml")
    out = tmp_path / "out"
    story = article(tmp_path, "story", sentences=1)
    assert run("build", story, "--out", out, "--config", cfg).exit_code == 0
    [before] = catalogue.episodes(out)
    article(tmp_path, "story", sentences=3)  # the journalist adds two paragraphs
    assert run("build", story, "--out", out, "--config", cfg).exit_code == 0
    [after] = catalogue.episodes(out)
    assert after.guid == before.guid and after.first_built == before.first_built and after.pub_date == before.pub_date
    assert after.bytes > before.bytes and after.duration_ms > before.duration_ms
    assert after.source_sha256 != before.source_sha256 and after.last_built > before.last_built
    [item] = parse_gpodder(out)["episodes"]
    assert item["guid"] == before.guid
    assert item["enclosures"][0]["file_size"] == after.bytes == (out / "story" / "story.mp3").stat().st_size


def test_feed_remove_takes_one_episode_out_on_purpose(three: Path, tmp_path: Path) -> None:
    out = shutil.copytree(three, tmp_path / "out")
    cfg = write_config(tmp_path / "publisher.toml")
    slug = catalogue.episodes(out)[1].slug
    assert f'href="{slug}/' in (out / "index.html").read_text(encoding="utf-8")
    refused = run("feed", "remove", slug, "--out", out)  # no config: the feed could not be rewritten
    assert refused.exit_code == 2
    assert refused.output == (
        "Error: [feed] title is missing: give --config FILE with a [feed] table (see samples/moscow-times.toml)\n")
    assert len(catalogue.episodes(out)) == 3
    result = run("feed", "remove", slug, "--out", out, "--config", cfg)
    assert result.exit_code == 0, result.output
    assert result.output == f"removed {slug}; {out / 'feed.xml'} lists 2 episodes\n"
    assert [e["title"] for e in parse_gpodder(out)["episodes"]] == [NON_LATIN, TITLES[0]]
    assert (out / slug / f"{slug}.mp3").exists()  # its files stay
    assert f'href="{slug}/' not in (out / "index.html").read_text(encoding="utf-8")  # nor listed on the page
    again = run("feed", "remove", slug, "--out", out, "--config", cfg)
    assert (again.exit_code, again.output) == (2, f"Error: {slug}: no episode with this slug in {out / 'catalogue.sqlite'}\n")


def test_a_damaged_catalogue_is_one_line_not_a_traceback(three: Path, tmp_path: Path) -> None:
    """SQLite's own errors (a damaged file here; a full disk, a lock held past 30 s) ended a build or
    `feed` in a traceback."""
    out = shutil.copytree(three, tmp_path / "out")
    (out / "catalogue.sqlite").write_bytes(b"not a database, whatever it was " * 64)
    cfg = write_config(tmp_path / "publisher.toml")
    result = run("feed", "--out", out, "--config", cfg, "--base-url", "https://audio.example.org/mt")
    assert (result.exit_code, result.output) == (
        1, f"Error: {out / 'catalogue.sqlite'}: the catalogue cannot be used: file is not a database\n")
    with pytest.raises(AudioEditionError, match="the catalogue cannot be used: file is not a database"):
        catalogue.episodes(out)


def test_feed_command_limit_and_base_url(three: Path, tmp_path: Path) -> None:
    out = shutil.copytree(three, tmp_path / "out")
    cfg = write_config(tmp_path / "publisher.toml")
    result = run("feed", "--out", out, "--config", cfg, "--limit", "2", "--base-url", "https://audio.example.org/mt")
    assert result.exit_code == 0, result.output
    assert result.output == f"{out / 'feed.xml'}  2 episodes, at https://audio.example.org/mt/feed.xml\n"
    episodes = parse_gpodder(out)["episodes"]
    assert [e["title"] for e in episodes] == [NON_LATIN, TRICKY]
    assert episodes[0]["enclosures"][0]["url"].startswith("https://audio.example.org/mt/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Error: no base URL for the feed: give --base-url or set base_url in the config's [feed] table\n"),
        (("--base-url", "ftp://example.org/"), "Error: --base-url: 'ftp://example.org/' is not an absolute http:// or https:// URL\n"),
        (("--base-url", "http://x.org/"), "Error: [feed] title is missing: give --config FILE with a [feed] table (see samples/moscow-times.toml)\n"),
        (("--limit", "0"), "Error: Invalid value for '--limit': 0 is not in the range x>=1.\n"),
    ],
)
def test_feed_command_refusals(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = run("feed", "--out", tmp_path / "out", *args)
    assert result.exit_code == 2
    assert result.output == message or result.output.endswith("\n\n" + message)  # click's usage lines first
    assert not (tmp_path / "out" / "feed.xml").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"drop": ("category", "subcategory")}, "[feed] category is missing; the podcast feed needs it"),
        ({"drop": ("explicit",)}, "[feed] explicit is missing; the podcast feed needs it"),
        ({"category": "Newz"}, "feed.category 'Newz' is not an Apple Podcasts category"),
        ({"subcategory": "Golf"}, "feed.subcategory 'Golf' is not in the category 'News'"),
        ({"explicit": "no"}, "feed.explicit must be true or false"),
        ({"language": "English"}, "feed.language 'English' is not an ISO 639 language code such as en or en-us"),
        ({"base_url": "localhost:8000"}, "feed.base_url: 'localhost:8000' is not an absolute http:// or https:// URL"),
        ({"colour": "red"}, "unknown key feed.colour"),
        ({"artwork": "missing.png"}, "feed.artwork '{folder}/missing.png' not found"),
        ({"artwork": "https://example.org/cover.gif"}, "feed.artwork URL 'https://example.org/cover.gif' must end in .png or .jpg"),
        ({"owner_email": "nobody"}, "feed.owner_email 'nobody' is not an e-mail address"),
        ({"limit": 0}, "feed.limit must be a whole number of episodes, at least 1"),
    ],
)
def test_bad_feed_config_is_refused_before_building(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    cfg = write_config(tmp_path / "publisher.toml", **change)
    result = run("build", article(tmp_path, "story"), "--out", tmp_path / "out", "--config", cfg)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {cfg}: {message.format(folder=tmp_path)}"), result.output
    assert not (tmp_path / "out").exists()  # refused before anything was synthesised


def test_given_artwork_is_checked_and_published_under_its_hash(tmp_path: Path) -> None:
    Image.new("RGB", (1400, 1400), (200, 30, 30)).save(tmp_path / "art.jpg", format="JPEG")
    Image.new("RGB", (1000, 1000)).save(tmp_path / "small.png")
    Image.new("RGB", (1400, 1400)).save(tmp_path / "png-named.jpg", format="PNG")
    Image.new("CMYK", (1400, 1400)).save(tmp_path / "cmyk.jpg", format="JPEG")
    out = tmp_path / "out"
    name = cover.ensure(out, str(tmp_path / "art.jpg"), "The Moscow Times")
    assert re.fullmatch(r"cover-[0-9a-f]{12}\.jpg", name)
    assert (out / name).read_bytes() == (tmp_path / "art.jpg").read_bytes()
    for bad, message in [
        ("small.png", "artwork is 1000x1000; it must be square, 1400 to 3000 px"),
        ("png-named.jpg", "artwork is PNG but named .jpg; the extension must match the type"),
        ("cmyk.jpg", "artwork colour mode is CMYK; Apple Podcasts needs RGB"),
    ]:
        with pytest.raises(BadInput) as caught:
            cover.ensure(out, str(tmp_path / bad), "x")
        assert str(caught.value) == f"{tmp_path / bad}: {message}"


def test_generated_cover_is_remade_only_when_the_name_changes(tmp_path: Path) -> None:
    assert cover.ensure(tmp_path, None, "Новая газета") == "cover.png"
    first = (tmp_path / "cover.png").stat().st_mtime_ns
    cover.ensure(tmp_path, None, "Новая газета")
    assert (tmp_path / "cover.png").stat().st_mtime_ns == first
    before = (tmp_path / "cover.png").read_bytes()
    cover.ensure(tmp_path, None, "The Moscow Times")
    assert (tmp_path / "cover.png").read_bytes() != before
    with Image.open(tmp_path / "cover.png") as image:
        assert (image.format, image.size, image.mode) == ("PNG", (3000, 3000), "RGB")


def test_catalogue_schema_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    assert catalogue.episodes(tmp_path) == [] and not (tmp_path / "catalogue.sqlite").exists()
    with pytest.raises(BadInput):
        catalogue.remove(tmp_path, "nothing")
    with contextlib.closing(sqlite3.connect(tmp_path / "catalogue.sqlite")) as db:
        db.execute("PRAGMA user_version = 0")
    assert catalogue.episodes(tmp_path) == []  # migrates the empty file
    with contextlib.closing(sqlite3.connect(tmp_path / "catalogue.sqlite")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(catalogue.MIGRATIONS)
        db.execute(f"PRAGMA user_version = {len(catalogue.MIGRATIONS) + 1}")
    with pytest.raises(AudioEditionError, match="is newer than this audio-edition knows"):
        catalogue.episodes(tmp_path)


def test_sample_config_and_demo_publish_a_feed() -> None:
    loaded = config.load(ROOT / "samples" / "moscow-times.toml")
    assert loaded.publisher == "The Moscow Times" and loaded.donation_url
    assert loaded.feed.base_url == "http://localhost:8000/"
    loaded.feed.require()
    assert "--config samples/moscow-times.toml" in (ROOT / "scripts" / "demo").read_text(encoding="utf-8")


def test_readme_documents_feed_and_serve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in ("audio-edition feed", "audio-edition feed remove", "audio-edition serve", "--base-url", "--limit", "--port", "--host"):
        assert text in readme, text
    remove = main.commands["feed"].commands["remove"]  # type: ignore[attr-defined]
    assert remove.help and all(p.help for p in remove.params if p.param_type_name == "option")


def copy_at(sample_edition: Any, out: Path, slug: str, **manifest: Any) -> Any:
    """The sample edition copied to out/<slug>/, its manifest changed by `manifest`."""
    folder = shutil.copytree(sample_edition.directory, out / slug, dirs_exist_ok=True)
    return type(sample_edition)(slug, folder, {**sample_edition.manifest, "slug": slug, **manifest})


def test_catalogue_identity_follows_the_canonical_url_then_the_slug(sample_edition: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"

    def edition_at(slug: str, **manifest: Any) -> Any:
        return copy_at(sample_edition, out, slug, **manifest)

    def record(edition: Any, base_url: str | None = BASE) -> catalogue.Episode:
        return catalogue.record_all(out, [edition], base_url)[0]

    first = record(edition_at("a", url="https://example.org/1", date="2022-02-16"))
    assert first.guid == str(uuid.uuid5(uuid.NAMESPACE_URL, "https://example.org/1"))
    assert first.pub_date.isoformat() == "2022-02-16T00:00:00+00:00"  # the article's own date
    moved = record(edition_at("b", url="https://example.org/1"))  # same article, new slug
    assert (moved.guid, moved.slug) == (first.guid, "b") and moved.first_built == first.first_built
    assert [e.slug for e in catalogue.episodes(out)] == ["b"]
    other = record(edition_at("b", url="https://example.org/2"))  # another article in b/
    assert other.guid != first.guid
    assert [e.guid for e in catalogue.episodes(out)] == [other.guid]  # b/ holds only the new article's files
    plain = record(edition_at("c"))
    assert plain.guid == str(uuid.uuid5(uuid.NAMESPACE_URL, BASE + "c/"))
    assert record(edition_at("c"), None).guid == plain.guid
    assert [e.slug for e in catalogue.episodes(out)] == ["c", "b"]


def test_a_batch_is_catalogued_in_one_transaction_as_if_one_by_one(
    sample_edition: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"

    def edition_at(slug: str, **manifest: Any) -> Any:
        return copy_at(sample_edition, out, slug, **manifest)

    connections = []
    connect = sqlite3.connect
    monkeypatch.setattr(catalogue.sqlite3, "connect", lambda *a, **k: connections.append(a) or connect(*a, **k))
    batch = [edition_at("a", url="https://example.org/1"), edition_at("b", url="https://example.org/1"),
             edition_at("c")]
    recorded = catalogue.record_all(out, batch, BASE)
    assert len(connections) == 1  # one connection, one commit, for the three
    # Each edition sees the ones before it: b is article 1 moved to a new folder, so a is gone.
    assert recorded[1].guid == recorded[0].guid == str(uuid.uuid5(uuid.NAMESPACE_URL, "https://example.org/1"))
    assert sorted(e.slug for e in catalogue.episodes(out)) == ["b", "c"]

    broken = edition_at("d")
    for entry in broken.manifest["files"]:  # its audio file is gone, under both names: it cannot be catalogued
        if entry["role"] == "audio":
            (broken.directory / entry["name"]).unlink()
            (broken.directory / entry["versioned"]).unlink()
    with pytest.raises(FileNotFoundError):
        catalogue.record_all(out, [broken, edition_at("e")], BASE)
    assert sorted(e.slug for e in catalogue.episodes(out)) == ["b", "c", "e"]  # the others are, then it is said

    with pytest.raises(FileNotFoundError):  # a batch's refresh: the list of editions is written all the same
        refresh.site(out, config.Config(), [broken, edition_at("f")])
    listed = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="f/' in listed and 'href="d/' not in listed


def test_render_drops_only_the_characters_xml_cannot_carry() -> None:
    import datetime as dt

    now = dt.datetime(2024, 2, 29, 23, 5, 7, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    episode = catalogue.Episode(
        guid="g", slug="s", title="Bell\x07 & tab\there", description="Line one\nline two \x01", language="ru",
        pub_date=now, duration_ms=1499, enclosure="s/s.mp3", bytes=10, mime_type="audio/mpeg", chapters=None,
        transcript=None, source_sha256="0" * 64, first_built=now, last_built=now,
    )
    table = {k: v for k, v in FEED_TABLE.items() if k != "base_url"}
    settings = config.from_mapping({"feed": table}, "test.toml").feed
    xml = feed.render(settings, [episode], BASE, BASE + "cover.png")
    item = etree.fromstring(xml).find("channel/item")
    assert item is not None
    assert item.findtext("title") == "Bell & tab\there" and item.findtext("description") == "<p>Line one\nline two </p>"
    assert item.findtext("pubDate") == "Thu, 29 Feb 2024 23:05:07 +0300"
    assert item.findtext(f"{{{ITUNES}}}duration") == "1"
    assert item.find(f"{{{PODCAST}}}chapters") is None and item.find("link") is None
