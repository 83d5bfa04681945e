"""What every engine makes and every later stage reads: takes (16-bit mono WAVs), voices and settings."""
from __future__ import annotations

import os
import re
import struct
import wave
from pathlib import Path
from typing import BinaryIO, NamedTuple

from ..cache import Cache
from . import words

DEFAULT_RATE = 175
# Seconds one take may take before its speaker is taken for hung: a pool worker is replaced (pool.Pool),
# a batch worker too (audio/batch.py), a build speaking its takes itself ends (synthesis._hang_alarm).
TAKE_TIMEOUT = 120.0


class VoiceSettings(NamedTuple):
    voice: str | None = None  # the engine's id of the voice (voice.choose resolves it); None: its default
    rate: int = DEFAULT_RATE  # words per minute
    # (word, what to say instead): whole words, any case, replaced before the engine speaks.
    lexicon: tuple[tuple[str, str], ...] = ()
    engine: str = "pyttsx3"  # which engine speaks (voice.ENGINES)


class Take(NamedTuple):
    path: Path
    frames: int
    sample_rate: int


class VoiceInfo(NamedTuple):
    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None


# A take lasting less than this share of its words at the rate is taken for cut short: well below the
# least seen on real articles (docs/reliability.md).
SHORTEST = 0.45


def verify(path: Path, text: str, rate: int, shortest: float = SHORTEST) -> tuple[Take | None, str]:
    """A take must exist, be a valid 16-bit mono WAV, and last about as long as its text needs."""
    if not path.exists():
        return None, "no file written"
    try:
        with wave.open(str(path), "rb") as wav:
            frames, sample_rate = wav.getnframes(), wav.getframerate()
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                return None, "not 16-bit mono"
    except (wave.Error, EOFError) as exc:
        return None, f"not a valid WAV: {exc}"
    seconds = frames / sample_rate if sample_rate else 0.0
    words = max(1, len(re.findall(r"\w+", text)))
    longest = 3.0 + 0.5 * len(text) * 175 / rate
    if not shortest * words * 60 / rate <= seconds <= longest:
        return None, f"{seconds:.2f} s is implausible for {words} words"
    spoken = wav_frames(path)  # up to the take's last sound, as a cached take counts (a pyttsx3 WAV)
    return Take(path, spoken[0] if spoken else frames, sample_rate), ""


_WAV_HEADER = 44  # the RIFF header Python's wave module (pyttsx3, Piper) writes: no extra chunks


def wav_frames(path: Path) -> tuple[int, int] | None:
    """(spoken frames, sample rate) of a 16-bit mono WAV whose header and size agree, else None.

    The spoken frames end with the take's last sound. eSpeak NG ends every take with 0.3-0.4 s of
    digital silence (samples exactly 0), its own pause after a sentence; the timeline puts the
    configured pauses after each take, so a take counts up to its last sound: the pause heard is
    `[pauses] sentence`, and a sentence's cue ends with its words. The WAV itself is kept whole (it
    is the cached take). A take of silence only keeps its length."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_WAV_HEADER)
            size = os.fstat(handle.fileno()).st_size
            if len(head) < _WAV_HEADER or head[:4] != b"RIFF" or head[8:16] != b"WAVEfmt " or head[36:40] != b"data":
                return None
            riff_size, = struct.unpack("<I", head[4:8])
            fmt, channels, rate = struct.unpack("<HHI", head[20:28])
            bits, = struct.unpack("<H", head[34:36])
            data, = struct.unpack("<I", head[40:44])
            if fmt != 1 or channels != 1 or bits != 16 or rate == 0:
                return None
            if data == 0 or data % 2 or size != _WAV_HEADER + data or riff_size != size - 8:
                return None
            return _spoken(handle, data // 2), rate
    except OSError:
        return None


_TAIL_BLOCK = 1 << 14  # bytes read at a time from a take's end, looking for its last sound


def _spoken(handle: BinaryIO, frames: int) -> int:
    """`frames` less the trailing samples that are exactly 0 (none less if all are)."""
    position = _WAV_HEADER + 2 * frames
    while position > _WAV_HEADER:
        start = max(_WAV_HEADER, position - _TAIL_BLOCK)
        handle.seek(start)
        sound = handle.read(position - start).rstrip(b"\0")
        if sound:  # (a sample's high byte alone may have been stripped: it counts whole)
            return (start - _WAV_HEADER + len(sound) + 1) // 2
        position = start
    return frames


def cached(cache: Cache, entry: str) -> Take | None:
    """A cached take; a missing, truncated or damaged one is None.

    A damaged entry is left where it is, for the take made again to replace (Cache.commit): removing it
    here could remove the good take another build has just committed under the same name.

    A take without its own words file (made before takes kept their word times, its words pruned or
    damaged) is None too, and spoken again: its word times can only come from the engine's events as it
    speaks, and guessing them from the sound would put made-up times in the transcript. It costs one
    cold build."""
    path = cache.path("takes", entry, ".wav")
    found = wav_frames(path)
    if found is None or not words.matches(path, found[0]):
        return None
    cache.touch(path)
    cache.touch(words.words_path(path))
    return Take(path, found[0], found[1])
