"""ID3 tags and chapters for the MP3: CHAP frames under an ordered, top-level CTOC (nested past 255).

An ID3v2.3 tag (the version every podcast app and car stereo reads), written here byte by byte
(ID3 v2.3.0 and the ID3v2 Chapter Frame Addendum 1.0) ahead of the audio frames as the MP3 is
joined: no library to import, no second pass over the file. The tests read it back with mutagen
and ffprobe. Frames go in file order: the text frames, the tables of contents, then the chapters
in time order (ffprobe and some players list CHAP frames in file order).
"""
from __future__ import annotations

import re
import struct
from typing import NamedTuple

from .timeline import Timeline

CTOC_LIMIT = 255  # a CTOC's entry count is one byte
_TOP_LEVEL, _ORDERED = 2, 1  # CTOC flags
_NO_OFFSET = 0xFFFFFFFF  # CHAP: no byte offsets, the times are what counts
_DATE = re.compile(r"(\d{4})(?:-(\d{2})-(\d{2}))?")


class Tags(NamedTuple):
    title: str
    artist: str | None
    album: str | None
    date: str | None
    comment: str | None
    cover: bytes | None = None  # a JPEG: ID3 APIC front cover, MP4 covr


def id3_tag(timeline: Timeline, tags: Tags) -> bytes:
    """The whole tag: title, artist, album, date and comment, the tables of contents, the chapters."""
    frames = [_text("TIT2", tags.title)]
    if tags.artist:
        frames.append(_text("TPE1", tags.artist))
    if tags.album:
        frames.append(_text("TALB", tags.album))
    frames += _date(tags.date)
    if tags.comment:
        frames.append(_frame("COMM", b"\x01" + b"eng" + _utf16("") + b"\x00\x00" + _utf16(tags.comment)))
    if tags.cover:  # APIC: encoding 0, MIME type, picture type 3 (front cover), an empty description
        frames.append(_frame("APIC", b"\x00image/jpeg\x00\x03\x00" + tags.cover))
    ids = [f"chp{i}" for i in range(len(timeline.chapters))]
    frames += tables_of_contents(ids, tags.title)
    for element_id, span in zip(ids, timeline.chapters):
        times = struct.pack(">IIII", timeline.ms(span.start), timeline.ms(span.end), _NO_OFFSET, _NO_OFFSET)
        link = _link(span.url) if span.url else b""  # the appeal's donation link, in the file too
        frames.append(_frame("CHAP", _id(element_id) + times + _text("TIT2", span.title) + link))
    body = b"".join(frames)
    return b"ID3\x03\x00\x00" + _synchsafe(len(body)) + body


def tables_of_contents(chapter_ids: list[str], title: str) -> list[bytes]:
    """One ordered top-level CTOC; past 255 chapters it lists child CTOCs of at most 255 each."""
    if len(chapter_ids) <= CTOC_LIMIT:
        return [_toc("toc", _TOP_LEVEL | _ORDERED, chapter_ids, _text("TIT2", title))]
    groups = [chapter_ids[i : i + CTOC_LIMIT] for i in range(0, len(chapter_ids), CTOC_LIMIT)]
    group_ids = [f"toc{g}" for g in range(len(groups))]
    tables = [_toc("toc", _TOP_LEVEL | _ORDERED, group_ids, _text("TIT2", title))]
    for group_id, group in zip(group_ids, groups):
        tables.append(_toc(group_id, _ORDERED, group, b""))
    return tables


def _toc(element_id: str, flags: int, children: list[str], sub_frames: bytes) -> bytes:
    entries = b"".join(_id(child) for child in children)
    return _frame("CTOC", _id(element_id) + bytes([flags, len(children)]) + entries + sub_frames)


def _date(date: str | None) -> list[bytes]:
    """ID3v2.3 has no TDRC: the year in TYER, the day and month (DDMM) in TDAT."""
    found = _DATE.match(date or "")
    if found is None:
        return []
    year, month, day = found.groups()
    frames = [_text("TYER", year)]
    if month and day:
        frames.append(_text("TDAT", day + month))
    return frames


def _link(url: str) -> bytes:
    """WXXX: encoding 0, an empty description, then the URL, which ID3 keeps in ISO-8859-1 (non-ASCII
    characters percent-encoded, as a URL carries them)."""
    from urllib.parse import quote

    ascii_url = quote(url, safe=":/?#[]@!$&'()*+,;=%~")
    return _frame("WXXX", b"\x00\x00" + ascii_url.encode("latin-1"))


def _text(frame_id: str, text: str) -> bytes:
    return _frame(frame_id, b"\x01" + _utf16(text))  # encoding 1: UTF-16 with a byte order mark


def _utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")


def _id(element_id: str) -> bytes:
    return element_id.encode("latin-1") + b"\x00"


def _frame(frame_id: str, content: bytes) -> bytes:
    return frame_id.encode("ascii") + struct.pack(">IH", len(content), 0) + content  # v2.3: a plain 32-bit size


def _synchsafe(size: int) -> bytes:
    if size >= 1 << 28:
        raise ValueError(f"an ID3 tag of {size} bytes is over the format's 256 MB")
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
