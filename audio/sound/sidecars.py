"""Write the sidecar files: Podcasting 2.0 chapters.json and a WebVTT (and SubRip) transcript with one cue per sentence."""
from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from .timeline import Cue, Timeline

VTT_LINE = 65  # characters: the Podcasting 2.0 advice for WebVTT lines


def chapters_json(timeline: Timeline, title: str) -> str:
    chapters: list[dict[str, Any]] = []
    for span in timeline.chapters:
        entry: dict[str, Any] = {
            "startTime": timeline.ms(span.start) / 1000,
            "endTime": timeline.ms(span.end) / 1000,
            "title": span.title,
        }
        if span.url:
            entry["url"] = span.url
        chapters.append(entry)
    return json.dumps({"version": "1.2.0", "title": title, "chapters": chapters}, ensure_ascii=False, indent=2) + "\n"


def transcript_vtt(timeline: Timeline) -> str:
    lines = ["WEBVTT", ""]
    for cue in timeline.cues:
        lines.append(cue.id)
        lines.append(f"{vtt_time(timeline.ms(cue.start))} --> {vtt_time(timeline.ms(cue.end))}")
        if cue.words:
            lines.extend(_timed_text(timeline, cue) or ["…"])
        else:
            # "-->" and a blank line would end or break the cue; the text is otherwise kept as written.
            text = cue.text.replace("-->", "→").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            lines.extend(textwrap.wrap(text, VTT_LINE, break_long_words=True, break_on_hyphens=False) or ["…"])
        lines.append("")
    return "\n".join(lines)


_ESCAPED = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}  # ("-->" is then "--&gt;": no cue timing arrow)


def _timed_text(timeline: Timeline, cue: Cue) -> list[str]:
    """The cue's text with a WebVTT cue timestamp (<00:00:01.500>) before each word: each one after the
    cue's start and the timestamp before it, and before the cue's end (WebVTT's rule), so a word that
    would start no later than the one before (the same millisecond) or at the cue's start has none. Lines
    wrapped at VTT_LINE characters of text, as the untimed cues are."""
    first, last = timeline.ms(cue.start), timeline.ms(cue.end)
    tags: dict[int, str] = {}
    before = first
    for word in cue.words:
        at = timeline.ms(word.start)
        if before < at < last:
            tags[word.at] = f"<{vtt_time(at)}>"
            before = at
    chunks: list[tuple[str, int]] = []  # each run of non-spaces (cut at VTT_LINE): its text, tags in, and width
    for match in re.finditer(r"\S+", cue.text):
        text, width = "", 0
        for i, c in enumerate(match[0]):
            shown = _ESCAPED.get(c, c)
            if width + len(shown) > VTT_LINE:
                chunks.append((text, width))
                text, width = "", 0
            text += tags.get(match.start() + i, "") + shown
            width += len(shown)
        chunks.append((text, width))
    lines: list[str] = []
    width = 0
    for text, size in chunks:
        if lines and width + 1 + size <= VTT_LINE:
            lines[-1] += " " + text
            width += 1 + size
        else:
            lines.append(text)
            width = size
    return lines


def transcript_srt(timeline: Timeline) -> str:
    """The same cues as SubRip (application/x-subrip): some podcast apps read transcripts only in SRT."""
    lines = []
    for number, cue in enumerate(timeline.cues, start=1):
        lines.append(str(number))
        lines.append(f"{srt_time(timeline.ms(cue.start))} --> {srt_time(timeline.ms(cue.end))}")
        # A blank line ends an SRT cue: the text is wrapped like the VTT's, never with an empty line.
        text = cue.text.replace("-->", "→")
        lines.extend(textwrap.wrap(text, VTT_LINE, break_long_words=True, break_on_hyphens=False) or ["…"])
        lines.append("")
    return "\n".join(lines)


def srt_time(ms: int) -> str:
    return vtt_time(ms).replace(".", ",")  # SubRip writes 00:00:01,500


def vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
