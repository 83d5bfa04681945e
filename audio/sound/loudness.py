"""Loudness of pieces of the edition, kept per piece so that a rebuild measures only what changed.

ffmpeg's ebur128 logs the momentary loudness of every 400 ms block, every 100 ms: exactly the
blocks BS.1770 gates to get the integrated loudness. Blocks are kept per piece, so the whole
edition's integrated loudness is the gated mean over all pieces' blocks. Pieces start and
end in silence, which the absolute gate (-70 LUFS) leaves out, so where a piece was measured
(alone or inside the whole stream) does not matter.
"""
from __future__ import annotations

import array
import logging
import math
import re
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .. import tools
from ..errors import ToolFailed

log = logging.getLogger(__name__)

ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
_BLOCK_LINE = re.compile(rb"t:\s*([\d.]+)\s+TARGET:.*?M:\s*(-?[\d.]+|-inf|nan)")


class PieceLoudness(NamedTuple):
    blocks: tuple[float, ...]  # momentary loudness of the 400 ms blocks, LUFS (as dual mono)
    peak: int  # largest absolute sample value, 0..32768


EBUR128 = "ebur128=peak=none:dualmono=true:framelog=verbose"  # logs every 400 ms block's momentary loudness
_TRUE_PEAK = re.compile(rb"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS")


def true_peak(path: Path, seconds: float = 0.0) -> float:
    """An audio file's true peak (dBTP), as ffmpeg's ebur128 finds it in the decoded file (`seconds`
    long: ffmpeg is given time for that much)."""
    command = [tools.ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path),
               "-af", "ebur128=peak=true", "-f", "null", "-"]
    done = tools.run(command, program="ffmpeg", audio_seconds=seconds)
    found = _TRUE_PEAK.search(done.stderr[done.stderr.rfind(b"Summary:") :])
    if found is None:
        raise ToolFailed("ffmpeg", command, done.returncode, "no true peak in ebur128's summary")
    return float(found.group(1))


def measure(streams: Iterable[Iterable[bytes]], sample_rate: int) -> list[PieceLoudness]:
    """Measure each stream of 16-bit mono PCM, in one ffmpeg run over them all, one after another
    (streams may still be arriving: audio/live.py feeds chapters as they are spoken)."""
    command = [tools.pcm_ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "verbose"]
    arguments, first = tools.pcm_input(sample_rate)
    command += arguments + ["-af", first + EBUR128, "-f", "null", "-"]
    tracked = Tracked(sample_rate)
    log_text = tools.feed(command, (chunk for stream in streams for chunk in tracked.stream(stream)))
    return tracked.results(log_text, sample_rate)


class Tracked:
    """Notes where each stream ends, and its peak, as its chunks pass on their way into an ffmpeg run with
    EBUR128 in its filters; then gives each stream its blocks from that run's log.

    Each stream is followed by silence up to a whole number of 100 ms hops, so that every stream starts
    on the grid of blocks ebur128 measures: a piece gets the same blocks wherever it was measured,
    alone or after others, and so a build gets the same gain whatever order its chapters came in."""

    def __init__(self, sample_rate: int) -> None:
        self.hop = max(1, sample_rate // 10)  # ebur128 steps its 400 ms blocks by a tenth of a second
        self.bounds: list[int] = []
        self.peaks: list[int] = []
        self.position = 0

    def padded(self, samples: int) -> int:
        """How many samples a stream of `samples` is fed as."""
        return samples + -samples % self.hop

    def stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        peak = 0
        start = self.position
        for chunk in chunks:
            peak = max(peak, _peak(chunk))
            self.position += len(chunk) // 2
            yield chunk
        fill = self.padded(self.position - start) - (self.position - start)
        if fill:
            yield bytes(2 * fill)
            self.position += fill
        self.bounds.append(self.position)
        self.peaks.append(peak)

    def results(self, log_text: bytes, sample_rate: int) -> list[PieceLoudness]:
        per_stream: list[list[float]] = [[] for _ in self.bounds]
        owner = 0
        for match in _BLOCK_LINE.finditer(log_text):
            # A block ends at t; it belongs to the stream that holds its middle.
            middle = (float(match.group(1)) - 0.2) * sample_rate
            while owner < len(self.bounds) - 1 and middle >= self.bounds[owner]:
                owner += 1
            value = match.group(2)
            per_stream[owner].append(float(value) if value not in (b"-inf", b"nan") else -math.inf)
        return [PieceLoudness(tuple(blocks), peak) for blocks, peak in zip(per_stream, self.peaks)]


def _peak(chunk: bytes) -> int:
    """Largest absolute sample of 16-bit little-endian PCM (audioop's C loop where there is one)."""
    if _audioop is not None and sys.byteorder == "little":
        return int(_audioop.max(chunk, 2))
    samples = array.array("h")
    samples.frombytes(chunk)
    if sys.byteorder == "big":
        samples.byteswap()
    return max(max(samples, default=0), -min(samples, default=0))


def _load_audioop() -> Any:
    """audioop (audioop-lts from Python 3.13) computes a peak 20 times faster than a Python loop."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            return None
    return audioop


_audioop = _load_audioop()


def integrated(pieces: Sequence[PieceLoudness]) -> float | None:
    """BS.1770 integrated loudness over all blocks: absolute gate, then relative gate. None for silence."""
    loud = [b for piece in pieces for b in piece.blocks if b > ABSOLUTE_GATE]
    if not loud:
        return None
    gate = _mean(loud) + RELATIVE_GATE
    kept = [b for b in loud if b > gate]
    return _mean(kept)


def peak_db(pieces: Sequence[PieceLoudness]) -> float:
    peak = max((piece.peak for piece in pieces), default=0)
    return 20 * math.log10(peak / 32768) if peak else -math.inf


def _mean(blocks: Sequence[float]) -> float:
    return 10 * math.log10(sum(10 ** (b / 10) for b in blocks) / len(blocks))
