"""Loudness of pieces of the edition, kept per piece so that a rebuild measures only what changed, and the
gain that takes the edition to the target (one home for the loudness rules: render and live use them).

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .. import tools
from ..cache import Cache
from ..cache import key as cache_key
from ..errors import ToolFailed

log = logging.getLogger(__name__)

# Spoken-podcast loudness: -16 LUFS as heard on two speakers (dual mono), which is -19 LUFS
# measured on the mono signal itself (AES TD1004). True peak kept under -1 dBTP with margin
# for the encoder.
TARGET_I = -16.0
TARGET_TP = -2.0
PEAK_MARGIN = 1.0  # dB between the sample-peak limit and the true-peak target
MAX_TRUE_PEAK = -1.0  # dBTP: the rule (docs/standards.md); an M4A past it is encoded again (_encode_m4a)
# Loudness the encoders take away (their low-pass removes K-weighted treble), in LU, measured
# on eSpeak NG speech at 22.05 kHz: PCM vs its MP3 (LAME, 64-96 kbit/s) and AAC at 64 kbit/s.
ENCODER_LOSS = {"mp3": 0.4, "m4a": 0.1, "m4b": 0.1}
GAIN_SLACK = 0.5  # dB: a gain this close to the measured one is kept when pieces are already encoded at it (gain_for)

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
    (streams may still be arriving: audio/sound/live.py feeds chapters as they are spoken)."""
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
    """audioop (audioop-lts from Python 3.13): a peak far faster than a Python loop (docs/performance.md)."""
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


class Loudness(NamedTuple):
    integrated: float  # LUFS, measured as dual mono (mono as heard on two speakers)
    peak: float  # dBFS (sample peak)


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


def audio_filter(gain: float, limited: bool, ceiling_db: float = TARGET_TP - PEAK_MARGIN) -> str:
    """ffmpeg's filter for the gain, and the limiter (at ceiling_db, sample peak) where peaks need it."""
    if not limited:
        return f"volume={gain:.2f}dB"
    ceiling = 10 ** (ceiling_db / 20)
    return f"volume={gain:.2f}dB,alimiter=limit={ceiling:.4f}:attack=1:release=50:level=false:latency=1"


def cached(cache: Cache, key: str) -> PieceLoudness | None:
    """A piece's loudness as measured before (the cache's "loudness" entries)."""
    value = cache.read_json("loudness", key)
    if isinstance(value, dict) and isinstance(value.get("blocks"), list):
        return PieceLoudness(tuple(value["blocks"]), int(value["peak"]))
    return None


def remember(cache: Cache, key: str, value: PieceLoudness) -> None:
    cache.write_json("loudness", key, {"blocks": list(value.blocks), "peak": value.peak})
