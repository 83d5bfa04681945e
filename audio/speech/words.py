"""Word times of a take, from its engine's own events: where each word of the take's text starts and ends in
its sound, kept in the take cache beside the take (takes/<entry>.words.json)."""
from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from ..errors import naming
from ..text.wordmap import tokens

EVENTS = ".events.json"  # what the engine heard: [[character in the text it was given, sample], ...]
# The take's words: {"frames": the take's sound, "words": [[start, end, at, to], ...] or null where the engine
# told none}. The frames tie the words to their WAV: two builds committing one take at once may pair one's
# words with the other's WAV (Piper's takes differ run to run), and such a pair is not used (matches).
WORDS = ".words.json"
_WORDY = re.compile(r"\w")


class Word(NamedTuple):
    start: int  # the take's sample where the word starts
    end: int  # where the next starts, or the take's last sound
    at: int  # the word's characters in the take's text: text[at:to]
    to: int


def events_path(wav: Path) -> Path:
    return wav.with_suffix(EVENTS)


def words_path(wav: Path) -> Path:
    return wav.with_suffix(WORDS)


def heard(wav: Path, events: Sequence[tuple[int, int]]) -> None:
    """An engine's word events for the take it has just written at `wav`: (character in the text it was given,
    sample of the take where that word starts)."""
    path = events_path(wav)
    with naming(path):
        path.write_text(json.dumps([[int(c), int(s)] for c, s in events]), encoding="utf-8")


def settle(wav: Path, text: str, origin: Sequence[int], frames: int) -> Path:
    """Write the take's words file beside `wav` from the engine's events (and remove those): `text` is the
    take's text, `origin` where each character of the engine's text comes from in it (voice.engine_origins),
    `frames` the take's sound (to its last sound). An engine that told no events (SAPI5) gives null."""
    events = events_path(wav)
    try:
        raw = json.loads(events.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raw = None
    found = None if raw is None else [list(w) for w in place(text, origin, [(int(c), int(s)) for c, s in raw], frames)]
    path = words_path(wav)
    with naming(path):
        path.write_text(json.dumps({"frames": frames, "words": found}, separators=(",", ":")), encoding="utf-8")
    events.unlink(missing_ok=True)
    return path


def place(text: str, origin: Sequence[int], events: Sequence[tuple[int, int]], frames: int) -> list[Word]:
    """The take's words from (character of the engine's text, start sample) events: each event counts for the
    word of `text` its character belongs to (the first event of a word, in order of sound, only); a word ends
    where the next one starts, the last with the take's sound; a start at or past the sound is no word."""
    spans = tokens(text)
    starts = [s for s, _ in spans]
    chosen: dict[int, int] = {}
    before: dict[int, int] = {}  # told at the punctuation before a word: counts where the word itself has none
    for character, sample in sorted(events, key=lambda e: e[1]):
        if not 0 <= character < len(origin) or not 0 <= sample < frames:
            continue
        at = origin[character]
        i = _containing(text, spans, starts, at)
        if i is not None:
            (chosen if spans[i][0] <= at else before).setdefault(i, sample)
    for i, sample in before.items():
        chosen.setdefault(i, sample)
    ordered: list[tuple[int, int]] = []  # (word index, start): both rising
    for i in sorted(chosen):
        if ordered and chosen[i] <= ordered[-1][1]:
            continue  # (said before a word it follows in the text: no time of its own)
        ordered.append((i, chosen[i]))
    words = []
    for k, (i, start) in enumerate(ordered):
        end = ordered[k + 1][1] if k + 1 < len(ordered) else frames
        words.append(Word(start, end, spans[i][0], spans[i][1]))
    return words


def _containing(text: str, spans: Sequence[tuple[int, int]], starts: Sequence[int], at: int) -> int | None:
    """The word whose span holds character `at`; for one at the punctuation before a word (an opening
    quote), that word."""
    i = bisect.bisect_right(starts, at) - 1
    if i >= 0 and at < spans[i][1]:
        return i
    if i + 1 < len(spans) and not _WORDY.search(text[at:spans[i + 1][0]]):
        return i + 1
    return None


def read(wav: Path) -> tuple[Word, ...] | None:
    """A take's words from the file beside it; None where there is none or the engine told none."""
    found = _load(wav)
    return found[1] if found is not None else None


def matches(wav: Path, frames: int) -> bool:
    """Whether the take at `wav` has its own words file beside it: whole, and made with this sound."""
    found = _load(wav)
    return found is not None and found[0] == frames


def _load(wav: Path) -> tuple[int, tuple[Word, ...] | None] | None:
    try:
        found = json.loads(words_path(wav).read_text(encoding="utf-8"))
        frames, listed = found["frames"], found["words"]
        return int(frames), None if listed is None else tuple(Word(*(int(v) for v in w)) for w in listed)
    except (OSError, ValueError, UnicodeDecodeError, TypeError, KeyError):
        return None

