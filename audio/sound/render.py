"""Stream takes and pauses into ffmpeg: loudness-normalised MP3/M4A with chapters written in."""
from __future__ import annotations

import contextlib
import logging
import math
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from .. import tools
from ..cache import Cache
from ..cache import key as cache_key
from ..errors import BadInput, ToolFailed, naming
from ..speech.takes import Take
from . import loudness, mp3, mp3frames, pieces
from .tagging import Tags, id3_tag
from .timeline import Timeline

log = logging.getLogger(__name__)

FORMATS = ("mp3", "m4a")
MIME = {"mp3": "audio/mpeg", "m4a": "audio/x-m4a"}
BITRATE = "64k"
AAC_CODER = "fast"  # ffmpeg's AAC coder for the M4A (see _encode_m4a)
# Spoken-podcast loudness: -16 LUFS as heard on two speakers (dual mono), which is -19 LUFS
# measured on the mono signal itself (AES TD1004). True peak kept under -1 dBTP with margin
# for the encoder.
TARGET_I = -16.0
TARGET_TP = -2.0
PEAK_MARGIN = 1.0  # dB between the sample-peak limit and the true-peak target
MAX_TRUE_PEAK = -1.0  # dBTP: the rule (STANDARDS.md); an M4A past it is encoded again (_encode_m4a)
M4A_RETRY_MARGIN = 0.5  # dB more than the excess the limiter is lowered by, for each new try
M4A_TRIES = 3
# Loudness the encoders take away (their low-pass removes K-weighted treble), in LU, measured
# on eSpeak NG speech at 22.05 kHz: PCM vs its MP3 (LAME, 64-96 kbit/s) and AAC at 64 kbit/s.
ENCODER_LOSS = {"mp3": 0.4, "m4a": 0.1}
GAIN_SLACK = 0.5  # dB: a gain this close to the measured one is kept when pieces are already encoded at it (gain_for)
PIECE_SECONDS = 15.0  # MP3 pieces are also cut at sentences past this length
PIECES_PER_RUN = 32  # one ffmpeg run encodes this many pieces at most (one encoder each)
SPLIT_MEASURE_SECONDS = 120  # measure in several ffmpeg runs only past this much audio (each run costs a start)


def parse_formats(value: str) -> tuple[str, ...]:
    """'mp3,m4a' -> ('mp3', 'm4a'); unknown names are BadInput naming the option."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise BadInput(f"--format '{value}': unknown format (choose from: {', '.join(FORMATS)})")
    return chosen


class Rendered(NamedTuple):
    """What render did: recorded in edition.json, and the next build keeps the gain when it still fits."""

    loudness: Loudness | None
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
    audio/pieces.py), then the MP3 is encoded piece by piece on `jobs` threads and its frames
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
    measured = Loudness(level, loudness.peak_db(per_piece)) if level is not None else None
    known = recent_gains(cache) if cache is not None else []
    direct = mp3.lame_available()

    def cached_samples(gain: float, limited: bool) -> int:
        """Samples of the edition already in the cache as MP3 pieces at this gain."""
        assert cache is not None
        return sum(spec.feed_end - spec.start for spec in specs
                   if cache.path("pieces", piece_entry(spec.key, gain, limited, direct), ".mp3").exists())

    gain, limited = gain_for(measured, ENCODER_LOSS["mp3"], previous_gain, known,
                             cached_samples if cache is not None and "mp3" in outputs else None)
    reused = 0
    given_up = threading.Event()  # the build failed or was stopped: the M4A's ffmpeg run ends without the rest
    with contextlib.ExitStack() as scope, ThreadPoolExecutor(1) as threads:
        try:
            whole = None
            if "m4a" in outputs:
                whole = threads.submit(_encode_m4a, takes, timeline, outputs["m4a"], tags, measured, given_up)
            if "mp3" in outputs:
                # The pieces go into the cache; only without one do they need a directory of their own.
                tmp = None if cache is not None else Path(scope.enter_context(tempfile.TemporaryDirectory(prefix="audio-edition-")))
                encoded, reused = _mp3_pieces(specs, takes, timeline, gain, limited, cache, jobs, tmp)
                mp3frames.join(encoded, timeline.total, outputs["mp3"], head=id3_tag(timeline, tags))
            if whole is not None:
                whole.result()
        except BaseException:
            given_up.set()  # (else the executor waits here for the whole M4A: 0.6-1.3 s on the sample)
            raise
    if cache is not None and "mp3" in outputs and measured is not None:
        note_gain(cache, gain, known)
    return Rendered(measured, gain, limited, len(specs), reused, measured_now)


def gain_for(
    measured: Loudness | None, encoder_loss: float, previous: float | None = None, known: Sequence[float] = (),
    encoded: Callable[[float, bool], int] | None = None,
) -> tuple[float, bool]:
    """The gain to the target and whether peaks need the limiter.

    Any gain within GAIN_SLACK of the measured one will do, so the one at which more of the edition
    is already encoded is taken (`encoded(gain, limited)`: its samples in the cache as MP3 pieces at
    that gain): on a rebuild, the previous edition's (`previous`), so that a small edit does not
    re-encode every unchanged piece; for a new article, the one at which the appeal every edition
    shares was encoded (`known`: the gains recent editions were encoded at, newest first). Of equals,
    the previous gain, then the newest known one, then the measured one: editions gather on a few
    gains, and so share their pieces."""
    if measured is None:
        return 0.0, False
    own = round(TARGET_I - measured.integrated + encoder_loss, 2)
    ceiling_db = TARGET_TP - PEAK_MARGIN

    def limited(gain: float) -> bool:
        return measured.peak + gain > ceiling_db

    preferred = [*([] if previous is None else [previous]), *known, own]
    fitting = [g for g in dict.fromkeys(preferred) if abs(g - own) <= GAIN_SLACK]  # (own is always there)
    if encoded is None:
        gain = fitting[0]
    else:
        samples = [encoded(g, limited(g)) for g in fitting]
        gain = fitting[samples.index(max(samples))]  # (the first of equals)
    return gain, limited(gain)


# The gains recent editions' MP3s were encoded at, newest first, in the cache (gain_for).
_RECENT = cache_key(recent_gains="mp3")
RECENT_GAINS = 16


def recent_gains(cache: Cache) -> list[float]:
    found = cache.read_json("gains", _RECENT)
    if not isinstance(found, list):
        return []
    return [float(g) for g in found if isinstance(g, (int, float)) and not isinstance(g, bool) and math.isfinite(g)]


def note_gain(cache: Cache, gain: float, known: Sequence[float]) -> None:
    """Add an edition's gain to the recent ones (a gain already there is not written again). Only later
    builds gain by it: a cache that cannot take it (read-only, full) fails no build."""
    if gain not in known:
        try:
            cache.write_json("gains", _RECENT, [gain, *known][:RECENT_GAINS])
        except OSError as error:
            log.debug("gains: not noted in the cache (%s)", error)


def _loudness(
    specs: Sequence[pieces.PieceSpec], takes: Sequence[Take], timeline: Timeline, cache: Cache | None, jobs: int
) -> tuple[list[loudness.PieceLoudness], int]:
    """Each piece's loudness blocks: from the cache, else measured (in up to `jobs` ffmpeg runs);
    and how many were measured."""
    found: list[loudness.PieceLoudness | None] = [None] * len(specs)
    if cache is not None:
        for i, spec in enumerate(specs):
            value = cache.read_json("loudness", spec.key)
            if isinstance(value, dict) and isinstance(value.get("blocks"), list):
                found[i] = loudness.PieceLoudness(tuple(value["blocks"]), int(value["peak"]))
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
                cache.write_json("loudness", specs[i].key, {"blocks": list(value.blocks), "peak": value.peak})

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
    entries = [piece_entry(spec.key, gain, limited, direct) for spec in specs]
    targets: dict[int, Path] = {}
    for i, entry in enumerate(entries):
        if cache is not None:
            found[i] = cached_piece(cache, entry)
            if found[i] is None:
                targets[i] = cache.partial("pieces", entry, ".mp3")
        else:
            assert tmp is not None  # (render gives one when there is no cache)
            targets[i] = tmp / f"piece-{i:05d}.mp3"
    reused = len(specs) - len(targets)
    todo = sorted(targets)

    def length(i: int) -> int:
        return specs[i].feed_end - specs[i].start

    def pcm(i: int) -> Iterator[bytes]:
        return pieces.pcm(takes, timeline, specs[i].start, specs[i].feed_end)

    def encode_one(i: int) -> None:
        found[i] = keep(mp3.encode(pcm(i), timeline.sample_rate, gain, targets[i]), length(i), frame, entries[i], cache)

    def through_ffmpeg(group: list[int], limiter_only: bool) -> None:
        """Consecutive pieces in one ffmpeg run: its filter only (LAME here encodes), or filter and encoders."""
        if limiter_only:
            made, _ = mp3.limit_then_encode([(pcm(i), length(i), [(0, length(i), targets[i])]) for i in group],
                                            timeline.sample_rate, audio_filter(gain, limited), jobs)
        else:
            chunks = (chunk for i in group for chunk in pcm(i))
            made = mp3.encode_with_ffmpeg(chunks, timeline.sample_rate, audio_filter(gain, limited),
                                          [length(i) for i in group], [targets[i] for i in group])
        for i, piece in zip(group, made):
            found[i] = keep(piece, length(i), frame, entries[i], cache)

    try:
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


def piece_entry(key: str, gain: float, limited: bool, direct: bool) -> str:
    """The cache entry of an MP3 piece: its sound (the piece's key), gain and limiter, the encoder and its settings."""
    return cache_key(piece=key, gain=gain, limited=limited, kbps=mp3.BITRATE_KBPS, quality=mp3.QUALITY,
                     encoder="lame" if direct else "ffmpeg")


def cached_piece(cache: Cache, entry: str) -> mp3.Piece | None:
    """An MP3 piece from the cache, if it is there and whole: its Info frame says how many bytes it has."""
    path = cache.path("pieces", entry, ".mp3")
    try:
        piece = mp3frames.describe(path)
    except (OSError, ValueError):
        return None
    cache.touch(path)
    return piece


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


def keep(piece: mp3.Piece, length: int, frame: int, entry: str, cache: Cache | None) -> mp3.Piece:
    """Check a fresh piece (fed `length` samples) has the frames that keep times exact, then put it in the cache."""
    wanted = -(-(length + mp3.JOIN_DROP) // frame)
    if piece.frames != wanted:
        raise ToolFailed("MP3 encoder", [str(piece.path)], None, f"{piece.frames} frames where {wanted} keep times exact")
    if cache is None:
        return piece
    final = cache.commit(piece.path, "pieces", entry, ".mp3")
    return mp3.Piece(final, piece.frames, piece.header_bytes, piece.audio_bytes, piece.crc)


def audio_filter(gain: float, limited: bool, ceiling_db: float = TARGET_TP - PEAK_MARGIN) -> str:
    """ffmpeg's filter for the gain, and the limiter (at ceiling_db, sample peak) where peaks need it."""
    if not limited:
        return f"volume={gain:.2f}dB"
    ceiling = 10 ** (ceiling_db / 20)
    return f"volume={gain:.2f}dB,alimiter=limit={ceiling:.4f}:attack=1:release=50:level=false:latency=1"


class _GivenUp(Exception):
    """The M4A is not wanted any more (render's caller failed or was stopped)."""


def _until(given_up: threading.Event, chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        if given_up.is_set():
            raise _GivenUp  # tools.feed closes ffmpeg's input and waits: it ends with what it has had
        yield chunk


def _encode_m4a(
    takes: Sequence[Take], timeline: Timeline, path: Path, tags: Tags, measured: Loudness | None,
    given_up: threading.Event | None = None,
) -> None:
    """The M4A in one ffmpeg run over the whole stream, its chapters and tags from an FFMETADATA file.

    AAC's decoded waveform overshoots the limiter's ceiling by up to 2.3 dB on the sample (12 cold
    builds: -2.4 to -0.7 dBTP from a -3 dBFS ceiling; the MP3 -3.2 in all), so the file's own true
    peak is measured, and past MAX_TRUE_PEAK it is encoded again with the ceiling lowered by the
    excess and M4A_RETRY_MARGIN."""
    with tempfile.TemporaryDirectory(prefix="audio-edition-") as tmp:
        meta = Path(tmp) / "chapters.ffmeta"
        with naming(meta):
            meta.write_text(ffmetadata(timeline, tags), encoding="utf-8")
        gain, limited = gain_for(measured, ENCODER_LOSS["m4a"])
        ceiling = TARGET_TP - PEAK_MARGIN
        arguments, first = tools.pcm_input(timeline.sample_rate)
        inputs = [tools.ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
                  *arguments, "-f", "ffmetadata", "-i", str(meta)]
        # AAC_CODER: for eSpeak NG's voice ffmpeg's fast coder comes closer than its default (twoloop), at
        # 15-24% of the CPU (README, "Speed"; scripts/mp3_quality.py --aac-coder twoloop fast).
        output = ["-ac", "1", "-b:a", BITRATE, "-map_metadata", "1", "-map_chapters", "1", "-c:a", "aac",
                  "-aac_coder", AAC_CODER, "-movflags", "+faststart", "-f", "mp4", str(path)]
        for attempt in range(1, M4A_TRIES + 1):
            chunks = pieces.pcm(takes, timeline)
            tools.feed([*inputs, "-map", "0:a", "-af", first + audio_filter(gain, limited, ceiling), *output],
                       chunks if given_up is None else _until(given_up, chunks))
            peak = loudness.true_peak(path, timeline.duration_ms / 1000)
            if peak <= MAX_TRUE_PEAK:
                return
            log.debug("m4a: true peak %.1f dBTP after encoding %d of %d", peak, attempt, M4A_TRIES)
            ceiling -= peak - MAX_TRUE_PEAK + M4A_RETRY_MARGIN
            limited = True
        log.warning("%s: true peak %.1f dBTP after %d encodings, above %.1f", path.name, peak, M4A_TRIES, MAX_TRUE_PEAK)


class Loudness(NamedTuple):
    integrated: float  # LUFS, measured as dual mono (mono as heard on two speakers)
    peak: float  # dBFS (sample peak)


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
