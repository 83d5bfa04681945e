"""Cut the edition into pieces at chapter pauses, each encoded on its own: in parallel, and reused when unchanged."""
from __future__ import annotations

import hashlib
import wave
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from ..cache import Cache
from ..cache import key as cache_key
from ..config import Pauses
from ..errors import ToolFailed
from ..speech.takes import Take
from ..text.script import Script
from . import mp3, mp3frames
from .mp3 import JOIN_DROP
from .timeline import Segment, Timeline

# Silence kept before a chapter's first take at the start of its piece: 104 ms at 22.05 kHz,
# a whole number of frames at every MP3 sample rate.
LEAD = 2304
_CHUNK = 1 << 16


class PieceSpec(NamedTuple):
    start: int  # sample where the piece begins in the edition (a frame boundary)
    end: int  # where the next piece begins (or the edition's end)
    feed_end: int  # the encoder is fed [start, feed_end): JOIN_DROP before `end`, the last piece to the end
    key: str  # hash of what the piece sounds like: its takes, silences and sample rate


def plan(timeline: Timeline, takes: Sequence[Take], frame: int, split: float | None = None) -> list[PieceSpec]:
    """One piece per chapter whose preceding pause is long enough to cut in, else chapters share a piece.

    When the timeline starts chapters on frame boundaries (timeline.plan(align=frame)), a
    piece begins LEAD samples before its chapter, so its samples do not depend on where it
    falls in the edition: an unchanged chapter is an unchanged piece.

    With `split` (seconds), a longer chapter is also cut at the first sentence pause past
    that length, and so on: shorter pieces keep every encoder thread busy to the end. Those
    cuts depend only on the chapter's own takes, so they too are the same in every rebuild.
    """
    chapter_starts = {span.start for span in timeline.chapters[1:]}
    longest = int(split * timeline.sample_rate) if split else None
    cuts = _cuts(timeline.segments, timeline.total, chapter_starts, frame, longest) + [timeline.total]
    take_ids = [_take_id(t) for t in takes]
    return [spec for spec, _ in _specs(cuts, timeline.segments, take_ids, timeline.sample_rate, to_the_end=True)]


def _cuts(segments: Sequence[Segment], total: int, chapter_starts: set[int], frame: int, longest: int | None) -> list[int]:
    """Where pieces begin: in the pause before each chapter (LEAD before it, on a frame), and with
    `longest`, at the first sentence pause past that length from the last cut."""
    cuts = [0]
    position = 0
    for segment in segments:
        end = position + segment.frames
        if segment.take is None and (end in chapter_starts or (longest is not None and end - cuts[-1] >= longest)):
            cut = (end - LEAD) // frame * frame
            if cut - JOIN_DROP - frame >= position and cut > cuts[-1] + JOIN_DROP and end < total:
                cuts.append(cut)
        position = end
    return cuts


Span = tuple[int | None, int, int]  # (take index or None for silence, offset into it, frames)


def _specs(
    cuts: Sequence[int], segments: Sequence[Segment], take_ids: Sequence[str], sample_rate: int, to_the_end: bool
) -> list[tuple[PieceSpec, list[Span]]]:
    """The pieces between consecutive cuts, each with its spans; every piece is fed up to JOIN_DROP
    before the next one's start, but the last when it ends the edition (`to_the_end`)."""
    found = []
    for i, (start, end) in enumerate(zip(cuts, cuts[1:])):
        feed_end = end if to_the_end and i == len(cuts) - 2 else end - JOIN_DROP
        spans = list(_spans(segments, start, feed_end))
        key = _key(sample_rate, [(take_ids[t] if t is not None else None, o, n) for t, o, n in spans])
        found.append((PieceSpec(start, end, feed_end, key), spans))
    return found


class Part(NamedTuple):
    """A piece of one chapter (chapter_pieces), placed from the start of the chapter's first piece."""

    key: str
    start: int
    length: int  # samples fed to the encoder
    spans: list[tuple[Take | None, int, int]]


def chapter_pieces(
    script: Script, chapter: int, takes: Sequence[Take], pauses: Pauses, sample_rate: int, frame: int,
    split: float | None = None,
) -> list[Part] | None:
    """The pieces of one chapter, from its own takes only, as plan() will cut them from the whole
    timeline (laid out with align=frame, with the same `split`). None where the chapter would share
    a piece with a neighbour.

    This lets loudness be measured, and MP3 pieces encoded, while later chapters are still being
    spoken (audio/sound/live.py). Positions here count from the chapter's first piece's start, which is
    on a frame in the whole edition too, so the cuts and keys come out the same.
    """
    def silence(ms: int) -> int:
        return ms * sample_rate // 1000

    def pause_before(c: int) -> int:
        return silence(pauses.appeal if script.chapters[c].kind == "appeal" else pauses.paragraph)

    smallest = LEAD + JOIN_DROP + frame
    last = chapter == len(script.chapters) - 1
    if (chapter > 0 and pause_before(chapter) < smallest) or (not last and pause_before(chapter + 1) < smallest):
        return None
    segments: list[Segment] = []
    lead = LEAD if chapter > 0 else silence(pauses.lead_in)
    if lead:
        segments.append(Segment(None, lead))
    for i, take in enumerate(takes):
        if i and silence(pauses.sentence):
            segments.append(Segment(None, silence(pauses.sentence)))
        segments.append(Segment(i, take.frames))
    position = sum(s.frames for s in segments)
    if last:
        if silence(pauses.tail):
            segments.append(Segment(None, silence(pauses.tail)))
        total = position + silence(pauses.tail)
        next_start = None
    else:  # the pause before the next chapter, grown so that it starts on a frame, and a little of that chapter
        gap = pause_before(chapter + 1)
        gap += -(position + gap) % frame
        segments.append(Segment(None, gap))
        next_start = position + gap
        total = next_start + 1
    longest = int(split * sample_rate) if split else None
    cuts = _cuts(segments, total, {next_start} if next_start is not None else set(), frame, longest)
    if next_start is None:
        cuts.append(total)
    elif cuts[-1] != next_start - LEAD:
        return None
    take_ids = [_take_id(t) for t in takes]
    return [Part(spec.key, spec.start, spec.feed_end - spec.start,
                 [(takes[t] if t is not None else None, o, n) for t, o, n in spans])
            for spec, spans in _specs(cuts, segments, take_ids, sample_rate, to_the_end=last)]


def spans_pcm(spans: Sequence[tuple[Take | None, int, int]], sample_rate: int) -> Iterator[bytes]:
    """PCM of (take or None for silence, offset, frames) spans."""
    return _pcm(((t.path if t is not None else None, o, n) for t, o, n in spans), sample_rate)


def _key(sample_rate: int, spans: Sequence[tuple[str | None, int, int]]) -> str:
    length = sum(n for _, _, n in spans)
    described: list[int | str] = [sample_rate, length]
    for take_id, offset, count in spans:
        described.append(f"{take_id}:{offset}:{count}" if take_id is not None else count)
    return hashlib.sha256(repr(described).encode()).hexdigest()


def pcm(takes: Sequence[Take], timeline: Timeline, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The edition's 16-bit mono PCM from sample `start` to `end`, in chunks: memory stays flat."""
    stop = timeline.total if end is None else end
    spans = ((takes[t].path if t is not None else None, o, n) for t, o, n in _spans(timeline.segments, start, stop))
    return _pcm(spans, timeline.sample_rate)


def _pcm(spans: Iterable[tuple[Path | None, int, int]], sample_rate: int) -> Iterator[bytes]:
    zeros = bytes(_CHUNK * 2)
    for path, offset, count in spans:
        if path is None:
            while count > 0:
                n = min(count, _CHUNK)
                yield zeros[: n * 2]
                count -= n
            continue
        with wave.open(str(path), "rb") as wav:
            if wav.getframerate() != sample_rate:
                raise ToolFailed("speech engine", [str(path)], None, "takes differ in sample rate")
            wav.setpos(min(offset, wav.getnframes()))
            while count > 0:
                data = wav.readframes(min(count, _CHUNK))
                if not data:
                    break
                yield data
                count -= len(data) // 2
            if count > 0:  # a take shorter than its header said: keep the timeline exact
                yield bytes(count * 2)


def _spans(segments: Sequence[Segment], start: int, end: int) -> Iterator[Span]:
    """(take index or None for silence, offset into it, frames) for the part of each segment inside [start, end)."""
    position = 0
    for segment in segments:
        seg_end = position + segment.frames
        lo, hi = max(start, position), min(end, seg_end)
        if lo < hi:
            yield segment.take, lo - position, hi - lo
        if seg_end >= end:
            break
        position = seg_end


def _take_id(take: Take) -> str:
    """A take in the cache is named by its key; any other is known by its content."""
    name = take.path.stem
    if take.path.parent.parent.name == "takes" and len(name) == 64:
        return name
    digest = hashlib.sha256()
    with open(take.path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


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


def keep(piece: mp3.Piece, length: int, frame: int, entry: str, cache: Cache | None) -> mp3.Piece:
    """Check a fresh piece (fed `length` samples) has the frames that keep times exact, then put it in the cache."""
    wanted = -(-(length + mp3.JOIN_DROP) // frame)
    if piece.frames != wanted:
        raise ToolFailed("MP3 encoder", [str(piece.path)], None, f"{piece.frames} frames where {wanted} keep times exact")
    if cache is None:
        return piece
    final = cache.commit(piece.path, "pieces", entry, ".mp3")
    return mp3.Piece(final, piece.frames, piece.header_bytes, piece.audio_bytes, piece.crc)
