"""The catalogue of every edition ever built (out/catalogue.sqlite): the feed's episodes."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import AudioEditionError, BadInput
from ..manifest import Edition

log = logging.getLogger(__name__)

FILENAME = "catalogue.sqlite"

# One entry per schema version; PRAGMA user_version says how many have been applied.
# Append only: a released step is never edited, a change is a new step.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE episode (
        guid          TEXT PRIMARY KEY,
        slug          TEXT NOT NULL UNIQUE,
        canonical_url TEXT UNIQUE,
        title         TEXT NOT NULL,
        description   TEXT NOT NULL,
        language      TEXT NOT NULL,
        pub_date      TEXT NOT NULL,   -- ISO 8601 with its UTC offset
        duration_ms   INTEGER NOT NULL CHECK (duration_ms >= 0),
        enclosure     TEXT NOT NULL,   -- POSIX path relative to out/
        bytes         INTEGER NOT NULL CHECK (bytes >= 0),
        mime_type     TEXT NOT NULL,
        chapters      TEXT,            -- POSIX path relative to out/, or NULL
        transcript    TEXT,            -- POSIX path relative to out/, or NULL
        source_sha256 TEXT NOT NULL,
        first_built   TEXT NOT NULL,
        last_built    TEXT NOT NULL
    );
    CREATE INDEX episode_pub_date ON episode (pub_date);
    """,
    # Episodes taken out on purpose (feed remove), by the build time of the edition removed: its folder
    # stays in out/, and is not taken for a published edition the catalogue lost.
    """
    CREATE TABLE removed (
        slug  TEXT PRIMARY KEY,
        built TEXT NOT NULL
    );
    """,
    # The show's own settings that must outlive any address (podcast:guid, made once; the feed URL it moved
    # to), and what the feed says of an episode beyond its enclosure, as JSON (episode_extra below).
    """
    CREATE TABLE show (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ALTER TABLE episode ADD COLUMN extra TEXT;
    """,
    # `follow`: the feeds (or news sitemaps) followed, with what their server said for conditional
    # requests, and every item seen in them: built from which page, or failing and when to try again.
    """
    CREATE TABLE followed_feed (
        url           TEXT PRIMARY KEY,
        etag          TEXT,
        last_modified TEXT,
        checked       TEXT              -- ISO 8601 UTC, the last poll
    );
    CREATE TABLE followed_item (
        feed          TEXT NOT NULL,
        item_id       TEXT NOT NULL,    -- the feed's id (guid) for it, else its link
        link          TEXT NOT NULL,
        published     TEXT,             -- ISO 8601, as the feed dates it
        page_sha256   TEXT,             -- the page its edition was built from
        page_etag     TEXT,
        page_modified TEXT,
        slug          TEXT,
        built         TEXT,
        failures      INTEGER NOT NULL DEFAULT 0,
        error         TEXT,             -- the last failure, one line
        retry_after   TEXT,             -- ISO 8601 UTC: not tried again before
        text_sha256   TEXT,             -- of what is read aloud: a page changed around it is not built again
        PRIMARY KEY (feed, item_id)
    );
    """,
)

# Preferred enclosure when an edition has several audio files: MP3 plays everywhere.
_AUDIO_PREFERENCE = ("audio/mpeg", "audio/x-m4a", "audio/mp4", "audio/ogg")


class Media(NamedTuple):
    """A file the feed links to beside the enclosure: another format of the audio, or a transcript."""

    path: str  # POSIX path relative to out/
    mime_type: str
    bytes: int


class Mark(NamedTuple):
    """A chapter as the episode's description lists it (timecodes apps turn into chapters)."""

    start_ms: int
    title: str


class Episode(NamedTuple):
    """One edition as the feed lists it. File fields are POSIX paths relative to out/."""

    guid: str
    slug: str
    title: str
    description: str  # the lede
    language: str
    pub_date: dt.datetime  # timezone-aware
    duration_ms: int
    enclosure: str  # e.g. "moscow-times-belarus/moscow-times-belarus.mp3"
    bytes: int
    mime_type: str
    chapters: str | None
    transcript: str | None
    source_sha256: str
    first_built: dt.datetime
    last_built: dt.datetime
    canonical_url: str | None = None
    # Recorded from schema 3 on; an episode recorded before has none until its edition is built again.
    byline: str | None = None
    marks: tuple[Mark, ...] = ()
    alternates: tuple[Media, ...] = ()  # every audio format, the enclosure's first, when there are several
    transcripts: tuple[Media, ...] = ()  # VTT first, then SRT


def path(out: Path) -> Path:
    return out / FILENAME


def record_all(
    out: Path, editions: Sequence[Edition], base_url: str | None = None, found: Sequence[Edition] = ()
) -> list[Episode]:
    """Insert each edition's episode in turn, or update it in place (same canonical URL, else same slug),
    in one transaction: a batch's editions are committed (and put on disk) once, not once each. An edition
    that cannot be read (its audio file gone, say) is left out, the others are recorded, then the first
    such error is raised. `found`: editions published earlier that the catalogue lost or never held
    (refresh.unlisted), recorded as first built when their edition.json says."""
    where = out.resolve()
    readable: list[tuple[Edition, dict[str, Any], bool]] = []
    problems: list[Exception] = []
    for edition, was_found in [(e, False) for e in editions] + [(e, True) for e in found]:  # files read before the lock
        try:
            readable.append((edition, _fields_from(where, edition), was_found))
        except (AudioEditionError, OSError) as exc:
            problems.append(exc)
    recorded = []
    if readable:
        with _connect(out) as db:
            db.execute("BEGIN IMMEDIATE")  # one writer at a time across processes (batch builds)
            for edition, fields, was_found in readable:
                recorded.append(_record_in(db, edition.slug, fields, base_url, was_found, where))
                db.execute("DELETE FROM removed WHERE slug = ?", (edition.slug,))
            db.execute("COMMIT")
    for episode in recorded:
        log.debug("catalogue %s: recorded %s (%s)", path(out), episode.slug, episode.guid)
    if problems:
        raise problems[0]
    return recorded


def unrecorded(out: Path, editions: Sequence[Edition]) -> list[Edition]:
    """The editions the catalogue does not hold as built: no episode for the slug, or one recorded from
    another source, another length, or before the edition was built (its build was stopped between
    publishing and recording, as a killed batch is)."""
    if not editions or not path(out).exists():
        return list(editions)
    with _connect(out) as db:
        rows = {row["slug"]: row for row in db.execute("SELECT slug, source_sha256, duration_ms, last_built FROM episode")}
    missed = []
    for edition in editions:
        row, manifest = rows.get(edition.slug), edition.manifest
        try:
            built = _parse_time(str(manifest["built"]))
            same = row is not None and row["source_sha256"] == manifest["source"]["sha256"] \
                and row["duration_ms"] == int(manifest["duration_ms"]) and _parse_time(row["last_built"]) >= built
        except (KeyError, TypeError, ValueError):
            same = False
        if not same:
            missed.append(edition)
    return missed


# The fields of an episode taken as they are from its edition (_fields_from).
_KEPT = ("title", "description", "language", "duration_ms", "enclosure", "bytes", "mime_type", "chapters",
         "transcript", "source_sha256", "canonical_url", "byline", "marks", "alternates", "transcripts")


def _record_in(
    db: sqlite3.Connection, slug: str, fields: dict[str, Any], base_url: str | None, found: bool, out: Path
) -> Episode:
    now = _now()
    row = _find(db, fields["canonical_url"], slug)
    if row is not None and _claims_another(row, slug, fields, out):
        # Two sources naming one canonical URL (a copied template, a page claiming another's): taking the
        # episode over would drop the other from the feed, so each stays an episode of its own.
        log.warning("%s: names the canonical URL %s of the episode %r (%s/), built from another source; "
                    "recorded as an episode of its own", slug, fields["canonical_url"], row["title"], row["slug"])
        fields = {**fields, "canonical_url": None}
        row = _find(db, None, slug)
    if row is None:
        guid = _new_guid(fields["canonical_url"], base_url, slug)
        first_built = min(fields["built"], now) if found and fields["built"] else now
        pub_date = fields["article_date"] or now
    else:
        guid = row["guid"]
        first_built = _parse_time(row["first_built"])
        # A dated article keeps its own date; an undated one keeps its first build's date,
        # so a rebuild does not jump to the top of listeners' episode lists.
        pub_date = fields["article_date"] or _parse_time(row["pub_date"])
        db.execute("DELETE FROM episode WHERE guid = ?", (guid,))
    # Another article catalogued under this slug (with another canonical URL) had its files
    # in out/<slug>/ replaced by this build; its row would point at audio that is not its own.
    for (other,) in db.execute("SELECT title FROM episode WHERE slug = ?", (slug,)).fetchall():
        log.warning("%s: replaces the episode %r, whose files were in the same folder", slug, other)
    db.execute("DELETE FROM episode WHERE slug = ?", (slug,))
    episode = Episode(guid=guid, slug=slug, pub_date=pub_date, first_built=first_built, last_built=now,
                      **{name: fields[name] for name in _KEPT})
    _insert(db, episode)
    return episode


class Listing(NamedTuple):
    recorded: dict[str, dt.datetime]  # slug: when its episode was last recorded
    removed: dict[str, str]  # slug: the build time (edition.json "built") of the edition removed on purpose


def listing(out: Path) -> Listing:
    """What the catalogue holds, in brief: enough to find published editions it does not (site.refresh)."""
    if not path(out).exists():
        return Listing({}, {})
    with _connect(out) as db:
        recorded = {row["slug"]: _parse_time(row["last_built"]) for row in db.execute("SELECT slug, last_built FROM episode")}
        removed = {row["slug"]: row["built"] for row in db.execute("SELECT slug, built FROM removed")}
    return Listing(recorded, removed)


def episodes(out: Path) -> list[Episode]:
    """Every catalogued episode, newest first; an out/ without a catalogue has none."""
    if not path(out).exists():
        return []
    with _connect(out) as db:
        rows = db.execute("SELECT * FROM episode").fetchall()
    found = [_episode(row) for row in rows]
    # Sorted here, not in SQL: ISO strings with different UTC offsets do not sort as text.
    found.sort(key=lambda e: (e.pub_date, e.first_built, e.slug), reverse=True)
    return found


def remove(out: Path, slug: str, built: str | None = None) -> None:
    """Take one episode out of the catalogue on purpose; its files in out/ are left as they are, and the
    edition there (built at `built`, its edition.json's time) is not recorded again unless built anew."""
    if not path(out).exists():
        raise BadInput(f"{path(out)}: no catalogue here (build an edition into {out} first)")
    with _connect(out) as db:
        db.execute("BEGIN IMMEDIATE")
        deleted = db.execute("DELETE FROM episode WHERE slug = ?", (slug,)).rowcount
        if deleted and built is not None:
            db.execute("INSERT OR REPLACE INTO removed (slug, built) VALUES (?, ?)", (slug, built))
        db.execute("COMMIT")
    if not deleted:
        raise BadInput(f"{slug}: no episode with this slug in {path(out)}")


# The keys of the show table.
SHOW_GUID = "podcast_guid"  # podcast:guid, made once from the feed URL of that day (or set in the config)
MOVED_TO = "new_feed_url"  # the feed URL the show moved to (feed move): itunes:new-feed-url


def show_guid(out: Path, made: str, given: str | None = None) -> str:
    """The show's podcast:guid: `given` (the config's) when set, else the one stored when the first feed was
    written, else `made` (from today's feed URL), stored now and kept wherever the feed moves."""
    with _connect(out) as db:
        db.execute("BEGIN IMMEDIATE")
        stored = db.execute("SELECT value FROM show WHERE key = ?", (SHOW_GUID,)).fetchone()
        if given is not None and (stored is None or stored["value"] != given):
            if stored is not None:
                log.warning("%s: podcast:guid %s replaces %s as the config says: apps take this for another podcast",
                            path(out), given, stored["value"])
            db.execute("INSERT OR REPLACE INTO show (key, value) VALUES (?, ?)", (SHOW_GUID, given))
            value = given
        elif stored is None:
            db.execute("INSERT INTO show (key, value) VALUES (?, ?)", (SHOW_GUID, made))
            value = made
        else:
            value = str(stored["value"])
        db.execute("COMMIT")
    return value


def show_setting(out: Path, key: str) -> str | None:
    if not path(out).exists():
        return None
    with _connect(out) as db:
        row = db.execute("SELECT value FROM show WHERE key = ?", (key,)).fetchone()
    return str(row["value"]) if row is not None else None


def set_show_setting(out: Path, key: str, value: str | None) -> None:
    with _connect(out) as db:
        db.execute("BEGIN IMMEDIATE")
        if value is None:
            db.execute("DELETE FROM show WHERE key = ?", (key,))
        else:
            db.execute("INSERT OR REPLACE INTO show (key, value) VALUES (?, ?)", (key, value))
        db.execute("COMMIT")


def published_files(out: Path) -> set[str]:
    """Every file the catalogue's episodes link to, relative to out/ (what `feed prune` keeps)."""
    found: set[str] = set()
    for e in episodes(out):
        found.update(p for p in (e.enclosure, e.chapters, e.transcript) if p)
        found.update(m.path for m in e.alternates + e.transcripts)
    return found


@contextlib.contextmanager
def _connect(out: Path) -> Iterator[sqlite3.Connection]:
    out.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: transactions are the explicit BEGIN/COMMIT above; timeout lets
    # concurrent builds wait for each other's short write instead of failing.
    try:
        db = sqlite3.connect(path(out), timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise _unusable(out, exc) from None
    try:
        db.row_factory = sqlite3.Row
        _migrate(db, path(out))
        yield db
    except BaseException as exc:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # (a disk that failed the write may fail this too)
                db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise _unusable(out, exc) from None
        raise
    finally:
        db.close()


def _unusable(out: Path, exc: sqlite3.Error) -> AudioEditionError:
    """SQLite's own error (a damaged file, a full disk, a lock held past the timeout), as one line."""
    return AudioEditionError(f"{path(out)}: the catalogue cannot be used: {exc}")


def _migrate(db: sqlite3.Connection, where: Path) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == len(MIGRATIONS):
        return
    if version > len(MIGRATIONS):
        raise AudioEditionError(
            f"{where}: catalogue schema version {version} is newer than this audio-edition knows "
            f"({len(MIGRATIONS)}); upgrade audio-edition"
        )
    db.execute("BEGIN IMMEDIATE")
    # Re-read inside the lock: another process may have migrated meanwhile.
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in step.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {number}")
    db.execute("COMMIT")


def _claims_another(row: sqlite3.Row, slug: str, fields: dict[str, Any], out: Path) -> bool:
    """Whether an edition found by its canonical URL is another article's: another slug, another
    source, and that article still published (not the same article moved to a new folder)."""
    return bool(row["slug"] != slug and row["canonical_url"] == fields["canonical_url"]
            and row["source_sha256"] != fields["source_sha256"]
            and (out / row["slug"] / "edition.json").is_file())  # (edition.MANIFEST: edition imports this module)


def _find(db: sqlite3.Connection, url: str | None, slug: str) -> sqlite3.Row | None:
    if url is not None:
        row: sqlite3.Row | None = db.execute("SELECT * FROM episode WHERE canonical_url = ?", (url,)).fetchone()
        if row is not None:
            return row
    row = db.execute("SELECT * FROM episode WHERE slug = ?", (slug,)).fetchone()
    if row is not None and url is not None and row["canonical_url"] not in (None, url):
        return None  # same folder, different article: not the same episode
    return row


def _new_guid(url: str | None, base_url: str | None, slug: str) -> str:
    """Chosen once, then kept for ever; derived from a stable name where there is one."""
    if url is not None:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, url))
    if base_url is not None:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip("/") + "/" + slug + "/"))
    return str(uuid.uuid4())


def _fields_from(out: Path, edition: Edition) -> dict[str, Any]:
    """What the catalogue keeps of an edition; `out` resolved (its files' paths are kept relative to it)."""
    manifest = edition.manifest
    files = manifest.get("files") or []
    audio = [f for f in files if f.get("role") == "audio"]
    if not audio:
        raise AudioEditionError(f"{edition.directory / 'edition.json'}: the edition lists no audio file")
    audio.sort(key=lambda f: _AUDIO_PREFERENCE.index(f["type"]) if f["type"] in _AUDIO_PREFERENCE else 99)
    enclosure = edition.directory / _published(audio[0])

    def relative(role: str) -> str | None:
        named = [_published(f) for f in files if f.get("role") == role]
        return _relative(out, edition.directory / named[0]) if named else None

    def listed(entries: list[dict[str, Any]]) -> tuple[Media, ...]:
        found = []
        for entry in entries:
            file = edition.directory / _published(entry)
            found.append(Media(_relative(out, file), str(entry["type"]), file.stat().st_size))
        return tuple(found)

    marks = tuple(Mark(int(c["start_ms"]), str(c["title"])) for c in manifest.get("chapters") or []
                  if isinstance(c, dict) and isinstance(c.get("start_ms"), int) and c.get("title"))

    return {
        "canonical_url": manifest.get("url") or None,
        "title": manifest["title"],
        "description": manifest.get("lede") or manifest["title"],
        "language": manifest.get("language") or "en",
        "article_date": _article_date(manifest.get("date")),
        "duration_ms": int(manifest["duration_ms"]),
        "enclosure": _relative(out, enclosure),
        "bytes": enclosure.stat().st_size,  # the file as served, not what the manifest remembers
        "mime_type": audio[0]["type"],
        "chapters": relative("chapters"),
        "transcript": relative("transcript"),
        "source_sha256": manifest["source"]["sha256"],
        "built": _built_time(manifest.get("built")),
        "byline": manifest.get("byline") or None,
        "marks": marks,
        "alternates": listed(audio) if len(audio) > 1 else (),
        "transcripts": listed([f for f in files if f.get("role") == "transcript"]),
    }


def _published(entry: dict[str, Any]) -> str:
    """The name the feed links to: the file's versioned name (media.version), or, in an edition built
    before files were versioned, its own."""
    return str(entry.get("versioned") or entry["name"])


def _built_time(value: Any) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _relative(out: Path, file: Path) -> str:
    """file's path inside out (resolved already), symbolic links followed."""
    try:
        return file.resolve().relative_to(out).as_posix()
    except ValueError:
        raise AudioEditionError(f"{file}: the edition is not inside {out}") from None


def _article_date(value: Any) -> dt.datetime | None:
    """The article's own date: a day alone means midnight UTC; a time without zone means UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        log.warning("article date %r is not ISO 8601; using the build time", value)
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _insert(db: sqlite3.Connection, e: Episode) -> None:
    db.execute(
        "INSERT INTO episode (guid, slug, canonical_url, title, description, language, pub_date, duration_ms,"
        " enclosure, bytes, mime_type, chapters, transcript, source_sha256, first_built, last_built, extra)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            e.guid, e.slug, e.canonical_url, e.title, e.description, e.language, e.pub_date.isoformat(),
            e.duration_ms, e.enclosure, e.bytes, e.mime_type, e.chapters, e.transcript, e.source_sha256,
            e.first_built.isoformat(), e.last_built.isoformat(), _extra(e),
        ),
    )


def _extra(e: Episode) -> str:
    return json.dumps({"byline": e.byline, "marks": [list(m) for m in e.marks],
                       "alternates": [list(m) for m in e.alternates], "transcripts": [list(m) for m in e.transcripts]},
                      ensure_ascii=False)


def _from_extra(text: str | None) -> dict[str, Any]:
    """The extra fields of a row; a row recorded before schema 3 (NULL) has none."""
    try:
        raw = json.loads(text) if text else {}
        return {
            "byline": raw.get("byline") or None,
            "marks": tuple(Mark(int(m[0]), str(m[1])) for m in raw.get("marks") or []),
            "alternates": tuple(Media(str(m[0]), str(m[1]), int(m[2])) for m in raw.get("alternates") or []),
            "transcripts": tuple(Media(str(m[0]), str(m[1]), int(m[2])) for m in raw.get("transcripts") or []),
        }
    except (ValueError, TypeError, IndexError, AttributeError):
        log.warning("catalogue: an episode's extra fields cannot be read; left out of the feed until it is rebuilt")
        return {}


def _episode(row: sqlite3.Row) -> Episode:
    return Episode(
        guid=row["guid"],
        slug=row["slug"],
        title=row["title"],
        description=row["description"],
        language=row["language"],
        pub_date=_parse_time(row["pub_date"]),
        duration_ms=row["duration_ms"],
        enclosure=row["enclosure"],
        bytes=row["bytes"],
        mime_type=row["mime_type"],
        chapters=row["chapters"],
        transcript=row["transcript"],
        source_sha256=row["source_sha256"],
        first_built=_parse_time(row["first_built"]),
        last_built=_parse_time(row["last_built"]),
        canonical_url=row["canonical_url"],
        **_from_extra(row["extra"]),
    )


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)  # microseconds kept: they order builds within a second


class FeedState(NamedTuple):
    etag: str | None = None
    last_modified: str | None = None
    checked: str | None = None


class Item(NamedTuple):
    """One item of a followed feed, as last seen (follow.py)."""

    feed: str
    item_id: str
    link: str
    published: str | None = None
    page_sha256: str | None = None
    page_etag: str | None = None
    page_modified: str | None = None
    slug: str | None = None
    built: str | None = None
    failures: int = 0
    error: str | None = None
    retry_after: str | None = None
    text_sha256: str | None = None


def feed_state(out: Path, url: str) -> FeedState:
    if not path(out).exists():
        return FeedState()
    with _connect(out) as db:
        row = db.execute("SELECT etag, last_modified, checked FROM followed_feed WHERE url = ?", (url,)).fetchone()
    return FeedState(row["etag"], row["last_modified"], row["checked"]) if row is not None else FeedState()


def followed_items(out: Path, url: str) -> dict[str, Item]:
    """Every item seen in the feed at `url`, by its id."""
    if not path(out).exists():
        return {}
    with _connect(out) as db:
        rows = db.execute("SELECT * FROM followed_item WHERE feed = ?", (url,)).fetchall()
    return {row["item_id"]: Item(**{name: row[name] for name in Item._fields}) for row in rows}


def save_followed(out: Path, url: str, state: FeedState | None, items: Sequence[Item]) -> None:
    """Record a poll: the feed's validators (None: as they were) and the items seen or tried, in one transaction."""
    with _connect(out) as db:
        db.execute("BEGIN IMMEDIATE")
        if state is not None:
            db.execute("INSERT OR REPLACE INTO followed_feed (url, etag, last_modified, checked) VALUES (?, ?, ?, ?)",
                       (url, *state))
        for item in items:
            db.execute(f"INSERT OR REPLACE INTO followed_item ({', '.join(Item._fields)}) "
                       f"VALUES ({', '.join('?' * len(Item._fields))})", tuple(item))
        db.execute("COMMIT")
