"""ID3 tags and chapters for the MP3: CHAP frames under an ordered, top-level CTOC (nested past 255)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .timeline import Timeline

if TYPE_CHECKING:
    from mutagen.id3 import CTOC, ID3
# mutagen is imported where tags are written, after the takes are spoken: not while a build starts.

CTOC_LIMIT = 255  # a CTOC's entry count is one byte


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str | None
    album: str | None
    date: str | None
    comment: str | None


@functools.cache
def _chapter_order_id3() -> type[ID3]:
    from mutagen.id3 import ID3
    from mutagen.id3._tags import save_frame

    class _ChapterOrderID3(ID3):
        """mutagen sorts frames by size; ffprobe and some players list CHAP frames in file order: keep ours."""

        def _write(self, config: Any) -> bytes:
            tables = [f for f in self.values() if f.FrameID in ("CTOC", "CHAP")]
            for frame in tables:
                del self[frame.HashKey]
            try:
                head = super()._write(config)
                return bytes(head) + b"".join(save_frame(f, config=config) for f in tables)
            finally:
                for frame in tables:
                    self.add(frame)

    return _ChapterOrderID3


def tag_mp3(path: Path, timeline: Timeline, tags: Tags) -> None:
    from mutagen.id3 import CHAP, COMM, TALB, TDRC, TIT2, TPE1

    id3 = _chapter_order_id3()()
    id3.add(TIT2(encoding=3, text=[tags.title]))
    if tags.artist:
        id3.add(TPE1(encoding=3, text=[tags.artist]))
    if tags.album:
        id3.add(TALB(encoding=3, text=[tags.album]))
    if tags.date:
        id3.add(TDRC(encoding=3, text=[tags.date]))
    if tags.comment:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=[tags.comment]))
    chapters = [
        CHAP(
            element_id=f"chp{i}",
            start_time=timeline.ms(span.start),
            end_time=timeline.ms(span.end),
            sub_frames=[TIT2(encoding=3, text=[span.title])],
        )
        for i, span in enumerate(timeline.chapters)
    ]
    for table in tables_of_contents([f"chp{i}" for i in range(len(chapters))], tags.title):
        id3.add(table)
    for chapter in chapters:
        id3.add(chapter)
    # ID3v2.3: the version every podcast app and car stereo reads.
    id3.save(str(path), v2_version=3)


def tables_of_contents(chapter_ids: list[str], title: str) -> list[CTOC]:
    """One ordered top-level CTOC; past 255 chapters it lists child CTOCs of at most 255 each."""
    from mutagen.id3 import CTOC, TIT2, CTOCFlags

    top = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    name = [TIT2(encoding=3, text=[title])]
    if len(chapter_ids) <= CTOC_LIMIT:
        return [CTOC(element_id="toc", flags=top, child_element_ids=chapter_ids, sub_frames=name)]
    groups = [chapter_ids[i : i + CTOC_LIMIT] for i in range(0, len(chapter_ids), CTOC_LIMIT)]
    group_ids = [f"toc{g}" for g in range(len(groups))]
    tables = [CTOC(element_id="toc", flags=top, child_element_ids=group_ids, sub_frames=name)]
    for group_id, group in zip(group_ids, groups):
        tables.append(CTOC(element_id=group_id, flags=CTOCFlags.ORDERED, child_element_ids=group, sub_frames=[]))
    return tables
