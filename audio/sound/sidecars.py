"""Write the sidecar files: Podcasting 2.0 chapters.json and a WebVTT transcript with one cue per sentence."""
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


def vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
