"""Pure arithmetic: where every sentence (cue) and chapter starts and ends, in samples and milliseconds."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..config import Pauses
from ..text import wordmap
from ..text.script import Script


class CueWord(NamedTuple):
    start: int  # samples
    end: int
    at: int  # the word's characters in the cue's text: text[at:to]
    to: int


class Cue(NamedTuple):
    id: str  # "c<chapter>-<sentence>", stable within an edition: the player ties text to it
    chapter: int
    text: str
    start: int  # samples
    end: int
    words: tuple[CueWord, ...] = ()  # in order, none overlapping, all inside [start, end); () without word times


class ChapterSpan(NamedTuple):
    kind: str
    title: str
    url: str | None
    start: int  # samples
    end: int
    cues: tuple[int, ...]  # indexes into Timeline.cues


class Segment(NamedTuple):
    """One piece of the audio stream: a take (by index) or silence of a number of frames."""

    take: int | None
    frames: int


class Timeline(NamedTuple):
    sample_rate: int
    total: int  # samples
    chapters: tuple[ChapterSpan, ...]
    cues: tuple[Cue, ...]
    segments: tuple[Segment, ...]

    def ms(self, samples: int) -> int:
        return (samples * 1000 + self.sample_rate // 2) // self.sample_rate

    @property
    def duration_ms(self) -> int:
        return self.ms(self.total)


def plan(script: Script, frames: Sequence[int], sample_rate: int, pauses: Pauses, align: int = 1,
         words: Sequence[Sequence[tuple[int, int, int, int]] | None] | None = None) -> Timeline:
    """Lay the takes (their frame counts, in script order) end to end with pauses between them.

    `words`: each take's word times (speech.words.Word: start, end, and characters in the spoken text), or
    None; each cue then gets the words of its shown text, placed by text.wordmap.

    A chapter starts where its first sentence starts (the first at 0) and ends where the
    next begins, so chapters are contiguous and the last ends with the file. With align > 1
    the pause before each later chapter grows by less than `align` samples so that the
    chapter starts on a multiple of it (an MP3 frame: see audio/sound/pieces.py).
    """
    if len(frames) != len(script.sentences):
        raise ValueError(f"{len(frames)} takes for {len(script.sentences)} sentences")

    def silence(ms: int) -> int:
        return ms * sample_rate // 1000

    segments: list[Segment] = []
    cues: list[Cue] = []
    starts: list[int] = []
    cue_groups: list[tuple[int, ...]] = []
    position = 0
    take = 0

    def add_silence(ms: int) -> None:
        nonlocal position
        if ms > 0:
            segments.append(Segment(None, silence(ms)))
            position += silence(ms)

    add_silence(pauses.lead_in)
    for c, chapter in enumerate(script.chapters):
        if c > 0:
            add_silence(pauses.appeal if chapter.kind == "appeal" else pauses.paragraph)
            fill = -position % align
            if fill:
                if segments and segments[-1].take is None:
                    segments[-1] = Segment(None, segments[-1].frames + fill)
                else:
                    segments.append(Segment(None, fill))
                position += fill
        starts.append(0 if c == 0 else position)
        group: list[int] = []
        for s, sentence in enumerate(chapter.sentences):
            if s > 0:
                add_silence(pauses.sentence)
            segments.append(Segment(take, frames[take]))
            group.append(len(cues))
            said = words[take] if words is not None and take < len(words) else None
            cues.append(Cue(f"c{c}-{s}", c, sentence.text, position, position + frames[take],
                            _cue_words(sentence.text, sentence.spoken, said, position, frames[take])))
            position += frames[take]
            take += 1
        cue_groups.append(tuple(group))
    add_silence(pauses.tail)

    ends = starts[1:] + [position]
    chapters = tuple(
        ChapterSpan(ch.kind, ch.title, ch.url, start, end, group)
        for ch, start, end, group in zip(script.chapters, starts, ends, cue_groups)
    )
    return Timeline(sample_rate, position, chapters, tuple(cues), tuple(segments))


def _cue_words(shown: str, spoken: str, said: Sequence[tuple[int, int, int, int]] | None, position: int,
               frames: int) -> tuple[CueWord, ...]:
    """The shown sentence's words, timed by the take's spoken words (inside the take's sound only)."""
    if not said:
        return ()
    index = {start: i for i, (start, _) in enumerate(wordmap.tokens(spoken))}
    count = len(index)
    starts: list[int | None] = [None] * count
    ends: list[int | None] = [None] * count
    for start, end, at, _to in said:
        i = index.get(at)
        if i is not None and 0 <= start < end <= frames:
            starts[i], ends[i] = start, end
    return tuple(CueWord(position + start, position + end, at, to)
                 for start, end, at, to in wordmap.said_at(shown, spoken, starts, ends))
