"""Stream takes and pauses into ffmpeg: loudness-normalised MP3/M4A with chapters written in."""
from __future__ import annotations

import contextlib
import logging
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from .. import stops, tools
from ..cache import Cache
from ..errors import BadInput, naming
from ..speech.takes import Take
from . import loudness, mp3, mp3frames, pieces
from .tagging import Tags, id3_tag
from .timeline import Timeline

log = logging.getLogger(__name__)

FORMATS = ("mp3", "m4a", "m4b")  # the audio rendered here
# m4b: the same AAC in MP4, branded for audiobook apps (they look for .m4b); audio/mp4 is its registered type.
BOOK = "epub"  # the EPUB talking book (site/epub.py) carries the MP3, else the M4A: alone, it brings the MP3
MIME = {"mp3": "audio/mpeg", "m4a": "audio/x-m4a", "m4b": "audio/mp4"}
BRANDS = {"m4a": "M4A ", "m4b": "M4B "}  # MP4 major brands: ffmpeg's mp4 muxer would write "isom"
BITRATE = "64k"
AAC_CODER = "fast"  # ffmpeg's AAC coder for the M4A (see _encode_m4a)
M4A_RETRY_MARGIN = 0.5  # dB more than the excess the limiter is lowered by, for each new try
M4A_TRIES = 3
PIECE_SECONDS = 15.0  # MP3 pieces are also cut at sentences past this length
PIECES_PER_RUN = 32  # one ffmpeg run encodes this many pieces at most (one encoder each)
SPLIT_MEASURE_SECONDS = 120  # measure in several ffmpeg runs only past this much audio (each run costs a start)


def parse_formats(value: str) -> tuple[str, ...]:
    """'mp3,m4a' -> ('mp3', 'm4a'), 'epub' -> ('mp3', 'epub'); unknown names are BadInput naming the option."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in (*FORMATS, BOOK)]
    if unknown or not chosen:
        raise BadInput(f"--format '{value}': unknown format (choose from: {', '.join((*FORMATS, BOOK))})")
    if not any(f in FORMATS for f in chosen):
        chosen = ("mp3", *chosen)
    return chosen


def audio_formats(formats: tuple[str, ...]) -> tuple[str, ...]:
    """The formats render makes: all but the book."""
    return tuple(f for f in formats if f in FORMATS)


class Rendered(NamedTuple):
    """What render did: recorded in edition.json, and the next build keeps the gain when it still fits."""

    gain_db: float  # the MP3's gain
    limited: bool  # whether the MP3 went through the limiter
    pieces: int
    reused: int  # MP3 pieces taken from the cache
    measured: int  # pieces whose loudness was measured here (not found in the cache)


def render(
    takes: Sequence[Take],
    timeline: Timeline,
    outputs: dict[str, Path],
    tags: Tags,
    *,
    cache: Cache | None = None,
    jobs: int = 1,
    previous_gain: float | None = None,
) -> Rendered:
    """Encode the edition into each output path (keyed by format), chapters included.

    The PCM is streamed from the takes, never held whole. Loudness is measured per piece (see
    audio/sound/pieces.py), then the MP3 is encoded piece by piece on `jobs` threads and its frames
    joined sample-exact; pieces whose sound and gain are unchanged come from the cache. The
    M4A is one ffmpeg run beside them. The output keeps the takes' sample rate, so chapter
    times stay sample-exact.
    """
    tools.ffmpeg()  # a missing ffmpeg is reported even when every piece comes from the cache
    frame = mp3.frame_samples(timeline.sample_rate)
    specs = pieces.plan(timeline, takes, frame)  # chapters: their loudness is measured while they are spoken
    per_piece, measured_now = _loudness(specs, takes, timeline, cache, jobs)
    # MP3 pieces: long chapters cut at sentences too, so that no thread is left with a long one at the end.
    # (Whatever --jobs is: the same pieces, the same cache entries.)
    specs = pieces.plan(timeline, takes, frame, split=PIECE_SECONDS)
    level = loudness.integrated(per_piece)
    measured = loudness.Loudness(level, loudness.peak_db(per_piece)) if level is not None else None
    known = loudness.recent_gains(cache) if cache is not None else []
    direct = mp3.lame_available()

    def cached_samples(gain: float, limited: bool) -> int:
        """Samples of the edition already in the cache as MP3 pieces at this gain."""
        assert cache is not None
        return sum(spec.feed_end - spec.start for spec in specs
                   if cache.path("pieces", pieces.piece_entry(spec.key, gain, limited, direct), ".mp3").exists())

    gain, limited = loudness.gain_for(measured, loudness.ENCODER_LOSS["mp3"], previous_gain, known,
                             cached_samples if cache is not None and "mp3" in outputs else None)
    reused = 0
    given_up = threading.Event()  # the build failed or was stopped: the M4A's ffmpeg run ends without the rest
    with contextlib.ExitStack() as scope, ThreadPoolExecutor(1) as threads:
        try:
            wholes = [threads.submit(_encode_m4a, takes, timeline, outputs[fmt], tags, measured, given_up, BRANDS[fmt])
                      for fmt in BRANDS if fmt in outputs]
            if "mp3" in outputs:
                # The pieces go into the cache; only without one do they need a directory of their own.
                tmp = None if cache is not None else Path(scope.enter_context(tempfile.TemporaryDirectory(prefix="audio-edition-")))
                encoded, reused = _mp3_pieces(specs, takes, timeline, gain, limited, cache, jobs, tmp)
                mp3frames.join(encoded, timeline.total, outputs["mp3"], head=id3_tag(timeline, tags))
            for whole in wholes:
                whole.result()
        except BaseException:
            given_up.set()  # (else the executor waits here for the whole M4A: 0.6-1.3 s on the sample)
            raise
    if cache is not None and "mp3" in outputs and measured is not None:
        loudness.note_gain(cache, gain, known)
    return Rendered(gain, limited, len(specs), reused, measured_now)


def _loudness(
    specs: Sequence[pieces.PieceSpec], takes: Sequence[Take], timeline: Timeline, cache: Cache | None, jobs: int
) -> tuple[list[loudness.PieceLoudness], int]:
    """Each piece's loudness blocks: from the cache, else measured (in up to `jobs` ffmpeg runs);
    and how many were measured."""
    found: list[loudness.PieceLoudness | None] = [None] * len(specs)
    if cache is not None:
        for i, spec in enumerate(specs):
            found[i] = loudness.cached(cache, spec.key)
    missing = [i for i, value in enumerate(found) if value is None]
    log.debug("loudness: %d of %d pieces to measure", len(missing), len(specs))
    length = sum(specs[i].feed_end - specs[i].start for i in missing)
    runs = min(jobs, len(missing)) if length > SPLIT_MEASURE_SECONDS * timeline.sample_rate else 1
    groups = _groups(missing, [s.feed_end - s.start for s in specs], runs, per_run=len(specs) or 1)

    def run(group: list[int]) -> None:
        streams = [pieces.pcm(takes, timeline, specs[i].start, specs[i].feed_end) for i in group]
        for i, value in zip(group, loudness.measure(streams, timeline.sample_rate)):
            found[i] = value
            if cache is not None:
                loudness.remember(cache, specs[i].key, value)

    with ThreadPoolExecutor(max(1, runs)) as threads:
        list(threads.map(run, groups))
    return [value for value in found if value is not None], len(missing)


def _mp3_pieces(
    specs: Sequence[pieces.PieceSpec], takes: Sequence[Take], timeline: Timeline, gain: float, limited: bool,
    cache: Cache | None, jobs: int, tmp: Path | None,
) -> tuple[list[mp3.Piece], int]:
    """Every piece's MP3 frames: from the cache when its sound, gain and encoder are the same, else encoded
    (in `jobs` threads or ffmpeg runs). Returns the pieces and how many came from the cache."""
    direct = mp3.lame_available()  # libmp3lame here: limited or not, the frames come from it
    frame = mp3.frame_samples(timeline.sample_rate)
    found: list[mp3.Piece | None] = [None] * len(specs)
    entries = [pieces.piece_entry(spec.key, gain, limited, direct) for spec in specs]
    targets: dict[int, Path] = {}

    def length(i: int) -> int:
        return specs[i].feed_end - specs[i].start

    def pcm(i: int) -> Iterator[bytes]:
        return pieces.pcm(takes, timeline, specs[i].start, specs[i].feed_end)

    def encode_one(i: int) -> None:
        found[i] = pieces.keep(mp3.encode(pcm(i), timeline.sample_rate, gain, targets[i]), length(i), frame, entries[i], cache)

    def through_ffmpeg(group: list[int], limiter_only: bool) -> None:
        """Consecutive pieces in one ffmpeg run: its filter only (LAME here encodes), or filter and encoders."""
        if limiter_only:
            made, _ = mp3.limit_then_encode([(pcm(i), length(i), [(0, length(i), targets[i])]) for i in group],
                                            timeline.sample_rate, loudness.audio_filter(gain, limited), jobs)
        else:
            chunks = (chunk for i in group for chunk in pcm(i))
            made = mp3.encode_with_ffmpeg(chunks, timeline.sample_rate, loudness.audio_filter(gain, limited),
                                          [length(i) for i in group], [targets[i] for i in group])
        for i, piece in zip(group, made):
            found[i] = pieces.keep(piece, length(i), frame, entries[i], cache)

    try:
        for i, entry in enumerate(entries):
            if cache is not None:
                found[i] = pieces.cached_piece(cache, entry)
                if found[i] is None:
                    with stops.deferred():  # (listed for removal below before a stop can leave it)
                        targets[i] = cache.partial("pieces", entry, ".mp3")
            else:
                assert tmp is not None  # (render gives one when there is no cache)
                targets[i] = tmp / f"piece-{i:05d}.mp3"
        reused = len(specs) - len(targets)
        todo = sorted(targets)
        if direct and limited and todo:  # one ffmpeg limiter pass, pieces encoded in `jobs` threads
            through_ffmpeg(todo, limiter_only=True)
        elif direct:  # the gain is LAME's own scale: no ffmpeg at all
            with ThreadPoolExecutor(max(1, jobs)) as threads:
                list(threads.map(encode_one, todo))
        else:  # one ffmpeg run (one start, one limiter pass) per group of about equal length
            with ThreadPoolExecutor(max(1, jobs)) as threads:
                groups = _groups(todo, [s.feed_end - s.start for s in specs], jobs)
                list(threads.map(lambda group: through_ffmpeg(group, limiter_only=False), groups))
    finally:
        if cache is not None:  # committed pieces were renamed away: what is left is half-made
            for path in targets.values():
                path.unlink(missing_ok=True)
    return [piece for piece in found if piece is not None], reused


def _groups(todo: Sequence[int], lengths: Sequence[int], jobs: int, per_run: int = PIECES_PER_RUN) -> list[list[int]]:
    """Contiguous groups of about equal length: one a job, and at most `per_run` pieces in one ffmpeg run."""
    total = sum(lengths[i] for i in todo)
    runs = max(1, min(len(todo), max(jobs, -(-len(todo) // per_run))))
    groups: list[list[int]] = [[] for _ in range(runs)]
    done = 0
    for i in todo:  # contiguous groups of about equal length
        groups[min(runs - 1, done * runs // max(1, total))].append(i)
        done += lengths[i]
    return [g for g in groups if g]


class _GivenUp(Exception):
    """The M4A is not wanted any more (render's caller failed or was stopped)."""


def _until(given_up: threading.Event, chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        if given_up.is_set():
            raise _GivenUp  # tools.feed closes ffmpeg's input and waits: it ends with what it has had
        yield chunk


def _encode_m4a(
    takes: Sequence[Take], timeline: Timeline, path: Path, tags: Tags, measured: loudness.Loudness | None,
    given_up: threading.Event | None = None, brand: str = BRANDS["m4a"],
) -> None:
    """The M4A (or M4B) in one ffmpeg run over the whole stream, its chapters and tags from an FFMETADATA file.

    Branded "M4A " (Apple's audio brand; ffmpeg's mp4 muxer says "isom"), or "M4B " for audiobook apps. ffmpeg writes the chapters
    twice: a QuickTime chapter text track, which holds them all (Apple Podcasts, Pocket Casts, VLC and
    ffprobe read it), and a Nero chpl list, whose count is one byte: it stops at 255.

    AAC's decoded waveform overshoots the limiter's ceiling by up to 2.3 dB on the sample (12 cold
    builds: -2.4 to -0.7 dBTP from a -3 dBFS ceiling; the MP3 -3.2 in all), so the file's own true
    peak is measured, and past loudness.MAX_TRUE_PEAK it is encoded again with the ceiling lowered by the
    excess and M4A_RETRY_MARGIN."""
    with tempfile.TemporaryDirectory(prefix="audio-edition-") as tmp:
        meta = Path(tmp) / "chapters.ffmeta"
        with naming(meta):
            meta.write_text(ffmetadata(timeline, tags), encoding="utf-8")
        gain, limited = loudness.gain_for(measured, loudness.ENCODER_LOSS["m4a"])
        ceiling = loudness.TARGET_TP - loudness.PEAK_MARGIN
        arguments, first = tools.pcm_input(timeline.sample_rate)
        inputs = [tools.ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
                  *arguments, "-f", "ffmetadata", "-i", str(meta)]
        picture: list[str] = []
        if tags.cover:  # covr: the cover players of a downloaded file show
            cover = Path(tmp) / "cover.jpg"
            with naming(cover):
                cover.write_bytes(tags.cover)
            inputs += ["-i", str(cover)]
            picture = ["-map", "2:v", "-c:v", "copy", "-disposition:v", "attached_pic"]
        # AAC_CODER: for eSpeak NG's voice ffmpeg's fast coder comes closer than its default (twoloop), at
        # a fraction of the CPU (docs/performance.md; scripts/mp3_quality.py --aac-coder twoloop fast).
        output = ["-ac", "1", "-b:a", BITRATE, "-map_metadata", "1", "-map_chapters", "1", "-c:a", "aac",
                  "-aac_coder", AAC_CODER, "-movflags", "+faststart", "-brand", brand, "-f", "mp4", str(path)]
        for attempt in range(1, M4A_TRIES + 1):
            chunks = pieces.pcm(takes, timeline)
            tools.feed([*inputs, "-map", "0:a", *picture, "-af", first + loudness.audio_filter(gain, limited, ceiling), *output],
                       chunks if given_up is None else _until(given_up, chunks))
            peak = loudness.true_peak(path, timeline.duration_ms / 1000)
            if peak <= loudness.MAX_TRUE_PEAK:
                return
            log.debug("m4a: true peak %.1f dBTP after encoding %d of %d", peak, attempt, M4A_TRIES)
            ceiling -= peak - loudness.MAX_TRUE_PEAK + M4A_RETRY_MARGIN
            limited = True
        log.warning("%s: true peak %.1f dBTP after %d encodings, above %.1f", path.name, peak, M4A_TRIES, loudness.MAX_TRUE_PEAK)


def ffmetadata(timeline: Timeline, tags: Tags) -> str:
    """FFMETADATA with TIMEBASE=1/1000 in every chapter (without it START/END are nanoseconds)."""
    lines = [";FFMETADATA1", f"title={_escape(tags.title)}"]
    if tags.artist:
        lines.append(f"artist={_escape(tags.artist)}")
    if tags.album:
        lines.append(f"album={_escape(tags.album)}")
    if tags.date:
        lines.append(f"date={_escape(tags.date)}")
    if tags.comment:
        lines.append(f"comment={_escape(tags.comment)}")
    for span in timeline.chapters:
        title = span.title.encode("utf-8")[:255].decode("utf-8", "ignore")  # MP4 chapter titles: 255 bytes
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={timeline.ms(span.start)}", f"END={timeline.ms(span.end)}"]
        lines.append(f"title={_escape(title)}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", value)
