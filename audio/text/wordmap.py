"""Words of a sentence: where each one is in its text, and which words of the shown sentence each spoken word says."""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence

# A word: an eSpeak phoneme block (a lexicon entry, said as one word) or a run of non-spaces with a letter
# or digit in it; its span leaves out the punctuation around it ("(Russian)," is "Russian", "£5m." is "£5m").
_CHUNK = re.compile(r"\[\[[^\[\]]*\]\]|(?:(?!\[\[)\S)+")
_WORDY = re.compile(r"\w")


def tokens(text: str) -> list[tuple[int, int]]:
    """The (start, end) character spans of the words in `text`, in order."""
    found = []
    for match in _CHUNK.finditer(text):
        start, end = match.span()
        if text.startswith("[[", start):
            found.append((start, end))
            continue
        if not _WORDY.search(match[0]):
            continue
        while _around(text[start]):
            start += 1
        while _around(text[end - 1]):
            end -= 1
        found.append((start, end))
    return found


def _around(character: str) -> bool:
    """Punctuation that stands around words (quotes, brackets, stops), not in them ("40%", "£5m" keep theirs)."""
    return unicodedata.category(character) in ("Ps", "Pe", "Pi", "Pf") or character in _STOPS


_STOPS = frozenset(".,;:!?…\"'¡¿")


def _key(word: str) -> str:
    """A word as compared: no case, accents or punctuation ("NATO" is "Nato", "Belarus’s" is "Belarus's")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def shown_words(shown: str, spoken: str) -> list[tuple[int, int, int, int]]:
    """Which spoken words say each shown word: (shown start, shown end, first spoken word, past its last) for
    every word of `shown` that is said, indexes into tokens(spoken).

    The two sentences' words are aligned as sequences (difflib): equal words pair one to one; a run of shown
    words said as another run ("£5m" as "five million pounds", "1994" as "nineteen ninety-four", a lexicon
    entry as its respelling) shares that run out in order, pair by pair when the runs are as long; spoken
    words with no shown word ("per cent" added) belong to the shown word before them; a shown word not said
    (a symbol dropped) has no entry."""
    shown_spans = tokens(shown)
    spoken_spans = tokens(spoken)
    a = [_key(shown[s:e]) for s, e in shown_spans]
    b = [_key(spoken[s:e]) for s, e in spoken_spans]
    ranges: list[list[int] | None] = [None] * len(a)
    last: int | None = None  # the shown word said last, which takes spoken words no shown word asked for
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                ranges[i1 + k] = [j1 + k, j1 + k + 1]
            last = i2 - 1
        elif tag == "insert":
            if last is not None and ranges[last] is not None:
                ranges[last][1] = j2  # type: ignore[index]
            elif i1 < len(a):  # before any shown word: the next one starts with them
                ranges[i1] = [j1, j2]
                last = i1
        elif tag == "replace":
            n, m = i2 - i1, j2 - j1
            for k in range(n):
                lo, hi = j1 + k * m // n, j1 + (k + 1) * m // n
                if hi > lo:
                    ranges[i1 + k] = [lo, hi]
                    last = i1 + k
        # "delete": shown words not said keep None
    return [(s, e, r[0], r[1]) for (s, e), r in zip(shown_spans, ranges) if r is not None]


def said_at(shown: str, spoken: str, starts: Sequence[int | None], ends: Sequence[int | None]) -> list[tuple[int, int, int, int]]:
    """(start, end, shown start, shown end) of every shown word whose spoken words have times: `starts` and
    `ends` are the spoken words' times (None: no time), one per tokens(spoken). A shown word starts with its
    first timed spoken word and ends with its last; words come out in order, never overlapping. A shown
    word said without a time of its own is read with the timed one before it ("in the": eSpeak NG tells no
    word event for the unstressed words it joins to another), so that span grows over it."""
    out: list[tuple[int, int, int, int]] = []
    for s, e, j1, j2 in shown_words(shown, spoken):
        timed = [j for j in range(j1, j2) if j < len(starts) and starts[j] is not None and ends[j] is not None]
        if not timed:
            if out:
                out[-1] = (out[-1][0], out[-1][1], out[-1][2], e)
            continue
        start, end = starts[timed[0]], ends[timed[-1]]
        assert start is not None and end is not None
        if out and start < out[-1][1]:
            if start <= out[-1][0]:
                continue  # (not after the word before: no time of its own)
            out[-1] = (out[-1][0], start, out[-1][2], out[-1][3])
        if end > start:
            out.append((start, end, s, e))
    return out
