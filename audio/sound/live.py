"""Work on each chapter as soon as its takes are spoken, while later chapters are still being spoken.

A chapter's MP3 pieces depend on its own takes only (audio/sound/pieces.py), so as soon as its takes
are ready (edition.build does this with --jobs above 1 only):
- its loudness is measured, into the cache under the piece's key, where render finds it;
- its MP3 pieces are encoded, in the same ffmpeg run, at a provisional gain: the one the first
  PROVISIONAL_SECONDS of chapters in the script's order call for (eSpeak NG's loudness varies
  little from chapter to chapter: 0.2 dB on the sample), or where that still fits, the previous
  edition's, else the newest gain a recent edition was encoded at (loudness.gain_for: an appeal every
  edition shares is then found encoded). They go into the cache under the entry render looks for.
  Render keeps the provisional gain when the whole edition's measured gain is within GAIN_SLACK of
  it, as a rebuild keeps the previous edition's, and then finds every piece made; otherwise it
  encodes them all again.
A piece made here that render does not cut the same way is simply made again: the cache keys
say what a piece sounds like, so nothing here can change the edition, only how soon it is done.
"""
from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cache import Cache
from ..config import Pauses
from ..speech.takes import Take
from ..text.script import Script
from . import loudness, mp3, pieces, render

log = logging.getLogger(__name__)

PROVISIONAL_SECONDS = 20.0  # of finished chapters, whose loudness sets the gain pieces are encoded at

Spans = list[tuple[Take | None, int, int]]


@dataclass
class _Chapter:
    index: int
    key: str  # the chapter's loudness key (the chapter as one piece); "": it shares a piece, nothing to do here
    length: int  # its samples, as one piece
    spans: Spans
    parts: list[pieces.Part]  # its MP3 pieces
    sample_rate: int


@dataclass
class Live:
    """Feed with taken(index, take) as takes arrive (voice.synthesize's on_take); then finish()."""

    script: Script
    pauses: Pauses
    cache: Cache
    encode_jobs: int  # threads encoding MP3 pieces; 0: none are encoded here (only measured)
    previous_gain: float | None
    takes: dict[int, Take] = field(default_factory=dict)
    gain: tuple[float, bool] | None = None  # the provisional gain and limiter pieces were encoded at
    encoded: int = 0  # MP3 pieces encoded here
    _stream: _Stream | None = None

    def __post_init__(self) -> None:
        self.chapter_of: list[int] = []
        self.first: list[int] = []
        for c, chapter in enumerate(self.script.chapters):
            self.first.append(len(self.chapter_of))
            self.chapter_of += [c] * len(chapter.sentences)
        self.first.append(len(self.chapter_of))
        self.missing = [len(chapter.sentences) for chapter in self.script.chapters]

    def __enter__(self) -> Live:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.finish(abandon=kind is not None)  # the build failed or was stopped: what is queued is not wanted

    def taken(self, index: int, take: Take) -> None:
        if index in self.takes:
            return
        self.takes[index] = take
        c = self.chapter_of[index]
        self.missing[c] -= 1
        if self.missing[c]:
            return
        chapter_takes = [self.takes[i] for i in range(self.first[c], self.first[c + 1])]
        rate = chapter_takes[0].sample_rate
        frame = mp3.frame_samples(rate)
        whole = pieces.chapter_pieces(self.script, c, chapter_takes, self.pauses, rate, frame)
        if self.encode_jobs:
            parts = pieces.chapter_pieces(self.script, c, chapter_takes, self.pauses, rate, frame,
                                          split=render.PIECE_SECONDS)
            if whole and parts:
                self._put(self._encode, _Chapter(c, whole[0].key, whole[0].length, whole[0].spans, parts, rate))
            else:  # told all the same: the provisional gain waits for the chapters in their order
                self._put(self._encode, _Chapter(c, "", 0, [], [], rate))
        elif whole is not None and self.cache.read_json("loudness", whole[0].key) is None:
            self._put(self._measure, _Chapter(c, whole[0].key, whole[0].length, whole[0].spans, [], rate))

    def finish(self, abandon: bool = False) -> None:
        """Wait for the work to end; its failures are left to render, which makes whatever is missing.
        `abandon`: the chapters queued and not yet started are left out."""
        if self._stream is not None:
            self._stream.finish(abandon)

    def _put(self, work: Callable[[Iterator[_Chapter]], None], chapter: _Chapter) -> None:
        if self._stream is None:
            self._stream = _Stream(work, work.__name__.strip("_"))
        self._stream.put(chapter)

    def _measure(self, items: Iterator[_Chapter]) -> None:
        """Loudness only (no libmp3lame to encode with here): one ffmpeg run fed chapter after chapter."""
        first = next(items, None)
        if first is None:
            return
        rate = first.sample_rate
        chapters: list[_Chapter] = []

        def streams() -> Iterator[Iterator[bytes]]:
            for chapter in itertools.chain([first], items):
                if chapter.sample_rate == rate:  # (else render reports it)
                    chapters.append(chapter)
                    yield pieces.spans_pcm(chapter.spans, rate)

        self._remember(chapters, loudness.measure(streams(), rate))

    def _encode(self, items: Iterator[_Chapter]) -> None:
        """MP3 pieces at a provisional gain, and loudness, in one ffmpeg run fed chapter after chapter: its
        limiter's output is cut into the chapters' pieces, which LAME encodes in `encode_jobs` threads."""
        # The provisional gain is the one the first chapters in the script's order call for, whatever order
        # they were spoken in: a build from the same takes gets the same gain (local or on a cluster).
        first: list[_Chapter] = []
        early: dict[int, _Chapter] = {}  # finished before a chapter ahead of them
        seconds = 0.0
        following = 0
        for chapter in items:
            early[chapter.index] = chapter
            while following in early and seconds < PROVISIONAL_SECONDS:
                done = early.pop(following)
                following += 1
                if done.key:
                    first.append(done)
                    seconds += done.length / done.sample_rate
            if seconds >= PROVISIONAL_SECONDS:
                break
        later = list(early.values())  # (all there is, if the speaking ended early: a build that fails)
        if seconds < PROVISIONAL_SECONDS:
            first, later = first + [chapter for chapter in later if chapter.key], []
        if not first:
            return
        rate = first[0].sample_rate
        self.gain = gain = self._provisional(first, rate)
        if gain is None:
            return
        made: list[tuple[str, int, Path]] = []  # entry, samples fed, where the encoder writes
        measured: list[_Chapter | None] = []  # per chapter fed: the one whose loudness is still to be kept
        tracked = loudness.Tracked(rate)

        def stretches() -> Iterator[mp3.Stretch]:
            for chapter in itertools.chain(first, later, items):
                if self._stream is not None and self._stream.abandoned.is_set():
                    return  # the build failed or was stopped: no more chapters for ffmpeg
                if not chapter.key or chapter.sample_rate != rate:
                    continue
                cuts = []
                for part in chapter.parts:
                    entry = pieces.piece_entry(part.key, gain[0], gain[1], direct=True)
                    if pieces.cached_piece(self.cache, entry) is None:
                        target = self.cache.partial("pieces", entry, ".mp3")
                        made.append((entry, part.length, target))
                        cuts.append((part.start, part.length, target))
                known = self.cache.read_json("loudness", chapter.key) is not None
                if known and not cuts:
                    continue
                measured.append(None if known else chapter)
                yield tracked.stream(pieces.spans_pcm(chapter.spans, rate)), tracked.padded(chapter.length), cuts

        frame = mp3.frame_samples(rate)
        try:
            todo: Iterator[mp3.Stretch] = stretches()
            if not any(self.missing):  # all spoken: no ffmpeg run where every piece and loudness is cached
                ahead = next(todo, None)
                if ahead is None:
                    return
                todo = itertools.chain([ahead], todo)
            # else ffmpeg starts now, while the chapters still missing are spoken (a rebuild: the edited one)
            audio_filter = loudness.audio_filter(*gain) if gain[1] else "anull"  # unlimited: the gain is LAME's scale
            encoded, log_text = mp3.limit_then_encode(todo, rate, audio_filter,
                                                      self.encode_jobs, measure=loudness.EBUR128,
                                                      gain_db=0.0 if gain[1] else gain[0])
            for (entry, length, _), piece in zip(made, encoded):
                pieces.keep(piece, length, frame, entry, self.cache)
                self.encoded += 1
            self._remember(measured, tracked.results(log_text, rate))
        finally:
            for _, _, target in made:  # what was not committed is half-made
                target.unlink(missing_ok=True)

    def _remember(self, chapters: Sequence[_Chapter | None], values: list[loudness.PieceLoudness]) -> None:
        for chapter, value in zip(chapters, values):
            if chapter is not None:
                self.cache.write_json("loudness", chapter.key, {"blocks": list(value.blocks), "peak": value.peak})

    def _provisional(self, chapters: list[_Chapter], rate: int) -> tuple[float, bool] | None:
        """The gain (and whether the limiter is needed) the first finished chapters call for."""
        values: list[loudness.PieceLoudness | None] = []
        for chapter in chapters:
            known = self.cache.read_json("loudness", chapter.key)
            ok = isinstance(known, dict) and isinstance(known.get("blocks"), list)
            values.append(loudness.PieceLoudness(tuple(known["blocks"]), int(known["peak"])) if ok else None)
        missing = [i for i, value in enumerate(values) if value is None and chapters[i].sample_rate == rate]
        if missing:
            fresh = loudness.measure([pieces.spans_pcm(chapters[i].spans, rate) for i in missing], rate)
            self._remember([chapters[i] for i in missing], fresh)
            for i, value in zip(missing, fresh):
                values[i] = value
        found = [value for value in values if value is not None]
        level = loudness.integrated(found)
        if level is None:
            return None
        return loudness.gain_for(loudness.Loudness(level, loudness.peak_db(found)), loudness.ENCODER_LOSS["mp3"],
                               self.previous_gain, loudness.recent_gains(self.cache))


class _Stream:
    """A thread that works through items as they are put, until finish()."""

    def __init__(self, work: Callable[[Iterator[Any]], None], name: str) -> None:
        self.name = name
        self.queue: queue.Queue[Any] = queue.Queue()
        self.failed: BaseException | None = None
        self.abandoned = threading.Event()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(work,), name=f"live-{name}", daemon=True)
        self.thread.start()

    def put(self, item: Any) -> None:
        self.queue.put(item)

    def finish(self, abandon: bool = False) -> None:
        if abandon:
            self.abandoned.set()
        self.queue.put(None)
        # Waited for on an event of ours: a Thread.join() interrupted by a signal's exception (Ctrl-C,
        # SIGTERM) takes the thread for ended when it is not (Python 3.11's bpo-45274 fix), and a second
        # join() returns at once; the thread's half-made pieces were then left in the cache.
        try:
            self.ended.wait()
        except BaseException:  # stopped while waiting: the rest is not wanted, but what the thread
            self.abandoned.set()  # has half-made is its to remove: wait for it (briefly, now)
            self.ended.wait()
            raise
        self.thread.join()
        if self.failed is not None:
            log.debug("live %s failed: %s", self.name, self.failed)

    def _items(self) -> Iterator[Any]:
        while not self.abandoned.is_set() and (item := self.queue.get()) is not None:
            yield item

    def _run(self, work: Callable[[Iterator[Any]], None]) -> None:
        items = self._items()
        try:
            work(items)
        except Exception as exc:  # noqa: BLE001 - render makes whatever is missing
            self.failed = exc
        finally:
            for _ in items:  # until finish(): put() never blocks
                pass
            self.ended.set()
