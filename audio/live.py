"""Measure each chapter's loudness while later chapters are still being spoken, into the cache.

A chapter's MP3 piece depends on its own takes only (audio/pieces.py), so as soon as its takes
are ready its loudness can be measured, by one ffmpeg run fed chapter after chapter beside the
speaking workers. The results go into the cache under the piece's key, where render finds
them; a piece measured here that render does not cut the same way is simply measured again.
"""
from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from . import loudness, pieces
from .cache import Cache
from .config import Pauses
from .script import Script
from .voice import Take

log = logging.getLogger(__name__)


class LiveLoudness:
    """Feed with add(index, take) as takes arrive (voice.synthesize's on_take); then finish()."""

    def __init__(self, script: Script, pauses: Pauses, cache: Cache, frame_of: Any) -> None:
        self.script = script
        self.pauses = pauses
        self.cache = cache
        self.frame_of = frame_of  # sample rate -> MP3 frame size
        self.takes: dict[int, Take] = {}
        self.chapter_of: list[int] = []
        self.first: list[int] = []
        for c, chapter in enumerate(script.chapters):
            self.first.append(len(self.chapter_of))
            self.chapter_of += [c] * len(chapter.sentences)
        self.first.append(len(self.chapter_of))
        self.missing = [len(chapter.sentences) for chapter in script.chapters]
        self.ready: queue.Queue[tuple[str, list[Any]] | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.failed: BaseException | None = None

    def add(self, index: int, take: Take) -> None:
        if index in self.takes:
            return
        self.takes[index] = take
        c = self.chapter_of[index]
        self.missing[c] -= 1
        if self.missing[c] == 0:
            chapter_takes = [self.takes[i] for i in range(self.first[c], self.first[c + 1])]
            rate = chapter_takes[0].sample_rate
            piece = pieces.chapter_piece(self.script, c, chapter_takes, self.pauses, rate, self.frame_of(rate))
            if piece is None or self.cache.read_json("loudness", piece[0]) is not None:
                return
            if self.thread is None:
                self.thread = threading.Thread(target=self._measure, args=(rate,), daemon=True)
                self.thread.start()
            self.ready.put(piece)

    def finish(self) -> None:
        """Wait for the measuring to end; its failures are left to render's own measuring."""
        self.ready.put(None)
        if self.thread is not None:
            self.thread.join()
        if self.failed is not None:
            log.debug("live loudness measuring failed: %s", self.failed)

    def _measure(self, sample_rate: int) -> None:
        keys: list[str] = []

        def streams() -> Iterator[Iterator[bytes]]:
            while (item := self.ready.get()) is not None:
                keys.append(item[0])
                yield pieces.spans_pcm(item[1], sample_rate)

        try:
            results = loudness.measure(streams(), sample_rate)
            for key, value in zip(keys, results):
                self.cache.write_json("loudness", key, {"blocks": list(value.blocks), "peak": value.peak})
        except Exception as exc:  # noqa: BLE001 - render measures whatever is missing
            self.failed = exc
            while self.ready.get() is not None:  # let finish() return
                pass


@contextlib.contextmanager
def measuring(
    script: Script, pauses: Pauses, cache: Cache, enabled: bool, on_take: Callable[[int, Take], None] | None
) -> Iterator[Callable[[int, Take], None]]:
    """A take callback for voice.synthesize that also measures finished chapters (when enabled)."""
    from .mp3 import frame_samples

    live = LiveLoudness(script, pauses, cache, frame_samples) if enabled else None

    def taken(index: int, take: Take) -> None:
        if live is not None:
            live.add(index, take)
        if on_take is not None:
            on_take(index, take)

    try:
        yield taken
    finally:
        if live is not None:
            live.finish()
