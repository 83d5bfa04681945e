"""Build one article into an edition in out/<slug>/, and describe it in edition.json."""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from . import __version__, lock, publish, stops
from .cache import CACHE_ENV, Cache
from .cache import default_dir as default_cache_dir
from .cache import key as cache_key
from .config import Config
from .errors import BadInput, ToolFailed, naming
from .limits import read_settings
from .manifest import MANIFEST, Edition, refuse_foreign
from .manifest import VERSION as MANIFEST_VERSION
from .site import media
from .sound import live, render, sidecars, timeline
from .sound.mp3 import frame_samples, lame_available
from .sound.tagging import Tags
from .speech import voice
from .speech import words as take_words
from .speech.synthesis import synthesize
from .speech.takes import Take, VoiceSettings
from .text import article as article_stage
from .text import lexicon, source
from .text.lexicon import Lexicon
from .text.script import Memo, Script, make_script

log = logging.getLogger(__name__)



class BuildOptions(NamedTuple):
    out: Path = Path("out")
    formats: tuple[str, ...] = ("mp3",)
    title: str | None = None
    slug: str | None = None
    appeal_file: Path | None = None
    no_appeal: bool = False
    voice: str | None = None
    rate: int | None = None
    config: Config = Config()
    engine: str | None = None  # --engine: else the config's, else pyttsx3
    language: str | None = None  # --lang: else the page's metadata, else detected
    format_in: str | None = None  # --format-in: txt, md or html (else from the suffix, or sniffed on stdin)
    # How to build, not what: never part of the build key below.
    jobs: int | None = None  # worker processes and encoder threads; None: every core this process may use (cores)
    cache: Path | None = None  # the take cache; None: $AUDIO_EDITION_CACHE or the user cache directory
    scheduler: str | None = None  # tcp://HOST:PORT of a Dask scheduler to speak the takes
    adopt_out: bool = False  # --adopt-out: publish into a folder with content that audio-edition did not make


def prepare(
    path: Path | source.Document, options: BuildOptions, memo: Memo | None = None
) -> tuple[source.Document, article_stage.Article, Script]:
    """Everything before synthesis: fast, and where every bad input is caught. Pure but for what
    `memo` reads (every paragraph's sentences in the take cache, see script.Memo). `path`: an article
    file, or a page already read (text.fetch: a URL's)."""
    doc = path if isinstance(path, source.Document) else source.read(path, options.format_in)
    appeal_doc = source.read(options.appeal_file) if options.appeal_file else None
    try:
        art = article_stage.parse(
            doc,
            options.config,
            article_stage.ArticleOptions(options.title, options.slug, appeal_doc, options.no_appeal, options.language),
        )
    except BadInput as exc:
        if doc.url is None:
            raise
        from .text import fetch  # (urllib loads only for pages fetched)

        raise fetch.renamed(exc, doc.path, doc.url) from None  # a fetched page is known by its URL
    return doc, art, make_script(art, load_lexicon(options.config), memo)


def load_lexicon(config: Config) -> Lexicon | None:
    return lexicon.load(Path(config.lexicon)) if config.lexicon else None


def build(
    path: Path | source.Document,
    options: BuildOptions,
    *,
    on_take: Callable[[int, Take], None] | None = None,
) -> Edition:
    """Source -> article -> script -> takes -> timeline -> audio + sidecars -> out/<slug>/.

    The catalogue, feed and list of editions are the caller's to refresh (site.refresh.site), once for
    a batch.
    """
    cache = Cache(options.cache or default_cache_dir())
    for attempt in range(1, VANISHED_RETRIES + 2):
        started: list[threading.Thread] = []  # (see _import_later)
        try:
            return _build(path, options, cache, on_take, started)
        except OSError as exc:
            # A cache entry found, then removed before it was read (`cache prune`, another host's clean-up):
            # built again, the entry is looked up again, missed, and made again (a take spoken again).
            if isinstance(exc, FileNotFoundError) and attempt <= VANISHED_RETRIES and _in_cache(exc, cache.root):
                log.warning("%s: removed from the take cache during the build; building again", exc.filename)
                continue
            shown = _as_placed(exc, cache.root)
            if shown is exc:
                raise
            raise shown from exc
        finally:
            # Whatever ends the build (done, failed, stopped at any stage), the thread's cache entries end
            # whole (committed, or their partial removed), not cut off by the process's end.
            for thread in started:
                thread.join(timeout=10)
    raise AssertionError("unreachable")  # (the loop returns or raises)


def _in_cache(exc: OSError, cache: Path) -> bool:
    if not isinstance(exc.filename, str):
        return False
    return Path(os.path.abspath(exc.filename)).is_relative_to(Path(os.path.abspath(cache)))


# Builds again after a cache entry vanished: each retry finds the entry missing and makes it.
VANISHED_RETRIES = 2


def _build(
    path: Path | source.Document, options: BuildOptions, cache: Cache,
    on_take: Callable[[int, Take], None] | None, later: list[threading.Thread],
) -> Edition:
    memo = Memo(cache)
    doc, art, script = prepare(path, options, memo)
    speaking = engine_of(options)
    settings = VoiceSettings(voice.choose(art.language, options.voice or options.config.voice, speaking),
                             options.rate or options.config.rate, engine=speaking)
    publish.claim(options.out, options.adopt_out)
    final = options.out / art.slug
    publish.recover(final)
    refuse_foreign(final)
    publish.sweep(final)

    jobs = options.jobs or cores()
    previous_gain = _previous_gain(final)
    # Chapters are measured, and their MP3 pieces encoded, while the later ones are still being spoken.
    # --jobs 1 is one thing at a time: nothing runs beside the speaking, render does it all after.
    beside = jobs > 1 and "mp3" in options.formats
    early = live.Live(script, options.config.pauses, cache, encode_jobs=jobs if lame_available() else 0,
                      previous_gain=previous_gain)

    def taken(index: int, take: Take) -> None:
        if beside:
            if not later:
                later.append(_import_later(memo.save))
            early.taken(index, take)
        if on_take is not None:
            on_take(index, take)

    with early:
        takes = synthesize([s.spoken for s in script.sentences], settings, workdir=None, cache=cache,
                           jobs=jobs, scheduler=options.scheduler, on_take=taken)
    memo.save()  # what the thread above has not saved (--jobs 1: all of it)
    stops.check()
    if early.gain is not None:
        previous_gain = early.gain[0]  # kept by render while it fits: the pieces made early are then used
    sample_rate = takes[0].sample_rate if takes else 22050
    # Chapters start on MP3 frames, so an unchanged chapter is an unchanged, reusable MP3 piece.
    plan = timeline.plan(script, [t.frames for t in takes], sample_rate, options.config.pauses,
                         align=frame_samples(sample_rate) if "mp3" in options.formats else 1,
                         words=[take_words.read(t.path) for t in takes])
    staging = publish.staging_dir(final)
    try:
        outputs = {fmt: staging / f"{art.slug}.{fmt}" for fmt in render.audio_formats(options.formats)}
        tags = Tags(
            title=art.title,
            artist=art.publisher,
            album=f"{art.publisher} audio edition" if art.publisher else "Audio edition",
            date=art.date or dt.date.today().isoformat(),
            comment=f"Read by {voice.engine(settings.engine).version()} from {_shown(doc.path.name)}",
            cover=_embedded_cover(options.config.feed.artwork),
        )
        rendered = render.render(takes, plan, outputs, tags, cache=cache, jobs=jobs, previous_gain=previous_gain)
        with naming(staging / "chapters.json"):
            (staging / "chapters.json").write_text(sidecars.chapters_json(plan, art.title), encoding="utf-8")
        with naming(staging / "transcript.vtt"):
            (staging / "transcript.vtt").write_text(sidecars.transcript_vtt(plan), encoding="utf-8")
        with naming(staging / "transcript.srt"):
            (staging / "transcript.srt").write_text(sidecars.transcript_srt(plan), encoding="utf-8")
        manifest = _manifest(doc, art, script, plan, staging, options, settings)
        manifest["build_key"] = build_key(doc, options)
        # Apps keep what they downloaded and fetch chapters and transcripts live: the feed names files by
        # their content, and the ones this build replaces stay published (until `feed prune`).
        manifest["superseded"] = media.version(staging, final, manifest["files"], manifest["built"])
        made_early = early.encoded if early.gain == (rendered.gain_db, rendered.limited) else 0
        manifest["render"] = {"gain_db": rendered.gain_db, "pieces": rendered.pieces,
                              "reused": rendered.reused - made_early,  # made by earlier builds
                              "encoded_during_synthesis": made_early,
                              "measured_after_synthesis": rendered.measured}
        stops.check()
        from .site import (
            player,  # imported while the takes were spoken, see _import_later
        )

        if render.BOOK in options.formats:
            from .site import epub

            manifest["files"].append(epub.write_book(staging, manifest))  # before the page, which links to it
            stops.check()
        manifest["files"].append(player.write_page(staging, manifest))  # published with the edition
        with naming(staging / MANIFEST):
            (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        publish.flush_dir(staging)  # before the lock: another build waits for the swap only
        with lock.locked(options.out):
            publish.replace_dir(staging, final)
    except BaseException as exc:
        publish.discard(staging)
        if isinstance(exc, ToolFailed) and str(staging) in exc.stderr:  # ffmpeg names the file: as it is published
            raise ToolFailed(exc.program, exc.command, exc.returncode, exc.stderr.replace(str(staging), str(final))) from exc
        raise
    return Edition(art.slug, final, manifest)


# A full disk or quota, a file past its size limit, a read-only file system, a file in the way: the cache
# as a whole is what cannot be used.
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.ENOTDIR)


def _as_placed(exc: OSError, cache: Path) -> OSError:
    """The error as its reader needs it: a file written in the hidden staging directory named by where it
    was to be published; a take cache without room, by the cache (its entries' names say nothing), and an
    entry being written there by its folder."""
    if not isinstance(exc.filename, str):
        return exc
    where = Path(exc.filename)
    published = publish.published_name(where)
    absolute, root = Path(os.path.abspath(where)), Path(os.path.abspath(cache))  # (tempfile's names are absolute)
    in_cache = absolute.is_relative_to(root)
    if published is not None:
        shown = published
    elif root.is_relative_to(absolute) and exc.errno != errno.EEXIST:  # the cache, or a folder above it, not made
        return OSError(exc.errno, f"{exc.strerror} (making the take cache there: choose another with --cache DIR "
                                  f"or ${CACHE_ENV})", str(cache))
    elif in_cache and exc.errno in _NO_ROOM:
        shown = cache
    elif in_cache and ".partial" in where.name:  # an entry being written: where it goes
        shown = where.parent
    else:
        return exc
    return OSError(exc.errno, exc.strerror, str(shown))  # (of the errno's own subclass, as raised)


def _embedded_cover(artwork: str | None) -> bytes | None:
    """The configured artwork, small, for inside the audio files; None without a local artwork file."""
    if artwork is None or artwork.startswith(("http://", "https://")):
        return None
    from .site import cover  # (Pillow: loaded only where a config names artwork)

    return cover.embedded(artwork)


def _import_later(save: Callable[[], None]) -> threading.Thread:
    """Save what prepare made for the cache and import what publishing needs (the page, the catalogue
    and the feed) in a thread while the takes are spoken, rather than before the first or after the
    last. Started with the first take: the speech workers are forked by then (a process with threads
    forks none). build() waits for it however the build ends."""

    def load() -> None:
        with contextlib.suppress(Exception):  # a failure here is met again, and reported, where it matters
            save()
        with contextlib.suppress(Exception):
            from .site import player, refresh  # noqa: F401

            player.prepare()

    thread = threading.Thread(target=load, name="import-later", daemon=True)
    thread.start()
    return thread


def cores() -> int:
    """The CPUs this process may run on, the default of --jobs: in a container given two CPUs of a large
    machine (a cpuset), or under taskset, that many, not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def build_key(doc: source.Document, options: BuildOptions) -> str:
    """What an edition was built from and how it should sound: a batch skips it while this is unchanged."""
    what = {name: getattr(options, name) for name in ("formats", "title", "slug", "no_appeal", "voice", "rate", "language",
                                                      "format_in", "engine")}
    appeal = source.read(options.appeal_file).sha256 if options.appeal_file else None
    words = read_settings(Path(options.config.lexicon), "a lexicon") if options.config.lexicon else b""  # the lexicon's entries, not its path
    return cache_key(source=doc.sha256, appeal=appeal, options=repr(what), config=repr(options.config),
                     lexicon=hashlib.sha256(words).hexdigest(),
                     engine=_engine_version(options), version=__version__, manifest=MANIFEST_VERSION)


def engine_of(options: BuildOptions) -> str:
    """The engine that speaks: --engine, else the config's, else pyttsx3."""
    return options.engine or options.config.engine or "pyttsx3"


def _engine_version(options: BuildOptions) -> str:
    """The engine's version for the build key; Piper's with the model's hash when the voice names one
    file (a folder's model depends on the article's language: the takes' own keys then tell)."""
    speaker = voice.engine(engine_of(options))
    wanted = options.voice or options.config.voice
    if speaker.name == "piper":
        from .speech.piper_engine import BUNDLED

        with contextlib.suppress(BadInput):
            return speaker.version(wanted or BUNDLED)
    return speaker.version()


def _model_record(settings: VoiceSettings) -> dict[str, Any]:
    """edition.json's record of a Piper voice: which model, its hash and licence line (pyttsx3: nothing more)."""
    if settings.engine != "piper":
        return {}
    from .speech import piper_engine

    info = piper_engine.voice_info(settings.voice or piper_engine.BUNDLED)
    return {"model": {"name": info.name, "language": info.language, "sample_rate": info.sample_rate,
                      "quality": info.quality, "origin": info.origin,
                      "sha256": piper_engine.model_hash(info.model), "config_sha256": piper_engine.config_hash(info.model),
                      "licence": info.licence}}


def _previous_gain(final: Path) -> float | None:
    """The MP3 gain of the edition being replaced: kept when it still fits, so unchanged pieces are reused."""
    try:
        gain = json.loads((final / MANIFEST).read_text(encoding="utf-8"))["render"]["gain_db"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(gain) if isinstance(gain, (int, float)) else None


def _published_path(path: Path) -> str:
    """The source as edition.json records it (serve publishes the file): relative to the working
    directory when inside it, else its name only, so that no folder of the machine is made public."""
    if path == source.STDIN:
        return str(path)
    absolute = Path(os.path.abspath(path))
    here = Path(os.path.abspath(os.curdir))
    return str(absolute.relative_to(here)) if absolute.is_relative_to(here) else absolute.name


def _shown(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (lone surrogates here) become U+FFFD, which files can hold."""
    return os.fsencode(name).decode("utf-8", "replace")


def _manifest(
    doc: source.Document,
    art: article_stage.Article,
    script: Script,
    plan: timeline.Timeline,
    staging: Path,
    options: BuildOptions,
    settings: VoiceSettings,
) -> dict[str, Any]:
    files: list[dict[str, Any]] = [
        {"name": f"{art.slug}.{fmt}", "type": render.MIME[fmt], "role": "audio"} for fmt in render.audio_formats(options.formats)
    ] + [
        {"name": "chapters.json", "type": "application/json+chapters", "role": "chapters"},
        {"name": "transcript.vtt", "type": "text/vtt", "role": "transcript"},
        {"name": "transcript.srt", "type": "application/x-subrip", "role": "transcript"},
    ]
    for entry in files:
        entry["bytes"] = (staging / str(entry["name"])).stat().st_size
    sentences = script.sentences
    return {
        "version": MANIFEST_VERSION,
        "slug": art.slug,
        "title": art.title,
        "publisher": art.publisher,
        "byline": art.byline,
        "date": art.date,
        "language": art.language,
        "url": art.url or doc.url,  # the page's canonical URL, else the one it was fetched from
        "lede": art.paragraphs[0].text,
        "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": {
            "path": doc.url if doc.url is not None else _shown(_published_path(doc.path)),
            **({"url": doc.url, "fetched": doc.fetched} if doc.url is not None else {}),
            "sha256": doc.sha256,
            "encoding": doc.encoding,
            "format": doc.format,
        },
        "engine": voice.engine(settings.engine).version(),
        "voice": settings.voice,
        **_model_record(settings),
        "rate": settings.rate,
        "duration_ms": plan.duration_ms,
        "files": files,
        "chapters": [
            {
                "kind": span.kind,
                "title": span.title,
                "start_ms": plan.ms(span.start),
                "end_ms": plan.ms(span.end),
                "url": span.url,
                "cues": [plan.cues[i].id for i in span.cues],
            }
            for span in plan.chapters
        ],
        "cues": [
            {
                "id": cue.id,
                "chapter": cue.chapter,
                "start_ms": plan.ms(cue.start),
                "end_ms": plan.ms(cue.end),
                "text": cue.text,
                "spoken": sentence.spoken,
                # Each shown word the voice said, with its time (text[at:at + len(word)] is the word).
                "words": [{"start_ms": plan.ms(w.start), "end_ms": plan.ms(w.end), "at": w.at, "text": cue.text[w.at:w.to]}
                          for w in cue.words],
            }
            for cue, sentence in zip(plan.cues, sentences)
        ],
        "residue": list(art.residue),
    }
