"""Write the sidecar files: Podcasting 2.0 chapters.json and a WebVTT (and SubRip) transcript with one cue per sentence."""
from __future__ import annotations

import json
import textwrap
from typing import Any

from .timeline import Timeline

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
        # "-->" and a blank line would end or break the cue; the text is otherwise kept as written.
        text = cue.text.replace("-->", "→").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines.extend(textwrap.wrap(text, VTT_LINE, break_long_words=True, break_on_hyphens=False) or ["…"])
        lines.append("")
    return "\n".join(lines)


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
