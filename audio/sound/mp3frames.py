"""MP3 frames: pieces encoded apart, joined into one file sample-exact, and their Info frames read.

An MP3 encoder starts every stream with 576 samples of delay and ends it with padding, so two
files played one after the other would drift. A piece here starts on a frame boundary b and is
fed the samples [b, b' - JOIN_DROP): LAME then writes exactly (b' - b) / frame samples, so the
next piece's sound begins at b' in the decoded whole, after one LAME/Info header at the start
that tells players the delay and the padding of the joined file. The dropped samples and the
junction lie inside a pause, which is silence on both sides.
"""
from __future__ import annotations

import functools
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from ..errors import naming

JOIN_DROP = 1152  # LAME writes ceil((samples + 1152) / frame) frames, in MPEG-1 and MPEG-2 alike
_TAG_CRC_SPAN = 190  # the LAME tag's CRC covers the first 190 bytes of its frame
_BITRATES = {  # kbit/s by MPEG version (1, or 2 and 2.5) for Layer III
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def frame_samples(sample_rate: int) -> int:
    """Samples per Layer III frame: 1152 for MPEG-1 (32-48 kHz), 576 below."""
    return 1152 if sample_rate >= 32000 else 576


class Piece(NamedTuple):
    """An encoded stretch: a file holding one Info frame, then `frames` audio frames."""

    path: Path
    frames: int
    header_bytes: int  # size of the leading Info frame
    audio_bytes: int
    crc: int  # CRC-16 of the audio frames (the LAME tag's "music CRC")


# ---------------------------------------------------------------- frames and the Info tag


class _Header(NamedTuple):
    version: int  # 1, or 2 for MPEG-2 and 2.5
    sample_rate: int
    size: int  # bytes, header included
    side_info: int  # bytes of side information after the 4-byte header


def _header(raw: bytes) -> _Header | None:
    if len(raw) < 4 or raw[0] != 0xFF or (raw[1] & 0xE0) != 0xE0 or (raw[1] >> 1) & 3 != 1:  # Layer III only
        return None
    version_bits = (raw[1] >> 3) & 3
    rate_index = (raw[2] >> 2) & 3
    bitrate_index = raw[2] >> 4
    if version_bits == 1 or rate_index == 3 or bitrate_index in (0, 15):
        return None
    version = 1 if version_bits == 3 else 2
    sample_rate = _RATES[version_bits][rate_index]
    bitrate = _BITRATES[version][bitrate_index] * 1000
    padding = (raw[2] >> 1) & 1
    size = (144 if version == 1 else 72) * bitrate // sample_rate + padding
    mono = (raw[3] >> 6) == 3
    side = (17 if mono else 32) if version == 1 else (9 if mono else 17)
    return _Header(version, sample_rate, size, side)


def _tag_layout(frame: bytes) -> dict[str, int]:
    """Offsets of the Info frame's fields, from its flags (frames, bytes, TOC, quality), then the LAME tag."""
    header = _header(frame)
    if header is None:
        raise ValueError("not an MP3 frame")
    at = 4 + header.side_info
    if frame[at : at + 4] not in (b"Info", b"Xing"):
        raise ValueError("no Info/Xing tag in the first frame")
    flags = struct.unpack(">I", frame[at + 4 : at + 8])[0]
    offsets: dict[str, int] = {}
    pos = at + 8
    for name, bit, size in (("frames", 1, 4), ("bytes", 2, 4), ("toc", 4, 100), ("quality", 8, 4)):
        if flags & bit:
            offsets[name] = pos
            pos += size
    offsets["lame"] = pos
    return offsets


def read_piece(path: Path) -> Piece:
    """Check an encoded piece frame by frame; a truncated or damaged one raises ValueError."""
    with open(path, "rb") as handle:
        header, frame = _first_frame(handle, path)
        declared, _, crc = tag_values(frame)
        frames = 0
        audio = 0
        while True:
            raw = handle.read(4)
            if not raw:
                break
            this = _header(raw)
            if this is None or this.sample_rate != header.sample_rate:
                raise ValueError(f"{path}: damaged frame at byte {header.size + audio}")
            rest = handle.read(this.size - 4)
            if len(rest) != this.size - 4:
                raise ValueError(f"{path}: truncated")
            frames += 1
            audio += this.size
    if declared is not None and declared != frames:
        raise ValueError(f"{path}: {frames} frames where its header says {declared}")
    return Piece(path, frames, header.size, audio, crc)


def describe(path: Path) -> Piece:
    """A piece from its Info frame alone (frames, CRC, and the bytes it should have): what the cache
    keeps of a piece. One cut short, or damaged at its start, raises ValueError."""
    with open(path, "rb") as handle:
        header, frame = _first_frame(handle, path)
        size = os.fstat(handle.fileno()).st_size
    frames, declared, crc = tag_values(frame)
    if frames is None or declared is None:
        raise ValueError(f"{path}: its Info frame does not count frames and bytes")
    if declared != size:
        raise ValueError(f"{path}: {size} bytes where its Info frame says {declared}")
    return Piece(path, frames, header.size, size - header.size, crc)


def tag_values(frame: bytes) -> tuple[int | None, int | None, int]:
    """(audio frames, bytes, music CRC) from an Info frame with its LAME tag; None for a count it has not."""
    layout = _tag_layout(frame)

    def count(name: str) -> int | None:
        return struct.unpack(">I", frame[layout[name] : layout[name] + 4])[0] if name in layout else None

    lame = layout["lame"]
    return count("frames"), count("bytes"), struct.unpack(">H", frame[lame + 32 : lame + 34])[0]


def _first_frame(handle: BinaryIO, path: Path) -> tuple[_Header, bytes]:
    first = handle.read(4)
    header = _header(first)
    if header is None:
        raise ValueError(f"{path}: does not start with an MP3 frame")
    return header, first + handle.read(header.size - 4)


def join(pieces: Sequence[Piece], total_samples: int, out: Path, head: bytes = b"") -> None:
    """Write the pieces' audio frames one after another under one Info/LAME frame for the whole,
    after `head` (the ID3 tag)."""
    template = bytearray(pieces[0].path.read_bytes()[: pieces[0].header_bytes])
    header = _header(bytes(template))
    assert header is not None
    spf = 1152 if header.version == 1 else 576
    layout = _tag_layout(bytes(template))
    frames = sum(p.frames for p in pieces)
    audio = sum(p.audio_bytes for p in pieces)
    size = len(template) + audio
    crc = 0
    for piece in pieces:
        crc = crc16_combine(crc, piece.crc, piece.audio_bytes)
    lame = layout["lame"]
    delay = (template[lame + 21] << 4) | (template[lame + 22] >> 4)
    padding = frames * spf - delay - total_samples
    if not 0 <= padding < 4096:
        raise ValueError(f"{frames} frames cannot hold {total_samples} samples")
    if "frames" in layout:
        struct.pack_into(">I", template, layout["frames"], frames)
    if "bytes" in layout:
        struct.pack_into(">I", template, layout["bytes"], size)
    if "toc" in layout:
        # Constant bit rate: the byte offset of each percent of the duration, on a 0-255 scale.
        wanted = [min(frames - 1, i * frames // 100) for i in range(100)]
        offsets = _frame_offsets(pieces, len(template), set(wanted))
        toc = bytes(min(255, offsets[index] * 256 // size) for index in wanted)
        template[layout["toc"] : layout["toc"] + 100] = toc
    template[lame + 21 : lame + 24] = ((delay << 12) | padding).to_bytes(3, "big")
    struct.pack_into(">I", template, lame + 28, size)
    struct.pack_into(">H", template, lame + 32, crc)
    struct.pack_into(">H", template, lame + 34, 0)
    struct.pack_into(">H", template, lame + 34, crc16(bytes(template[:_TAG_CRC_SPAN])))
    with naming(out), open(out, "wb") as handle:
        handle.write(head)
        handle.write(template)
        for piece in pieces:
            with open(piece.path, "rb") as source:
                source.seek(piece.header_bytes)
                while block := source.read(1 << 20):
                    handle.write(block)


def _frame_offsets(pieces: Sequence[Piece], start: int, wanted: set[int]) -> dict[int, int]:
    """Byte offsets of the wanted audio frames in the joined file. Constant bit rate: within a piece the
    frames differ by at most the padding byte, so the offset is interpolated (exact to a byte or so,
    far finer than the TOC's 1/256 steps) instead of read frame by frame."""
    offsets: dict[int, int] = {}
    position, first = start, 0
    for piece in pieces:
        for index in wanted:
            if first <= index < first + piece.frames:
                offsets[index] = position + (index - first) * piece.audio_bytes // piece.frames
        position += piece.audio_bytes
        first += piece.frames
    return offsets


# ---------------------------------------------------------------- CRC-16 (poly 0x8005, reflected)


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _table()


def crc16(data: bytes, crc: int = 0) -> int:
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def _apply(matrix: Sequence[int], vector: int) -> int:
    result = 0
    bit = 0
    while vector:
        if vector & 1:
            result ^= matrix[bit]
        vector >>= 1
        bit += 1
    return result


def crc16_combine(crc_a: int, crc_b: int, length_b: int) -> int:
    """CRC of A+B from the CRCs of A and B: run A's register through len(B) zero bytes (as zlib does)."""
    bit = 0
    while length_b:
        if length_b & 1:
            crc_a = _apply(_zeros_operator(bit), crc_a)
        length_b >>= 1
        bit += 1
    return crc_a ^ crc_b


@functools.cache
def _zeros_operator(bit: int) -> tuple[int, ...]:
    """The register after 2**bit zero bytes, as a linear map (column i: the image of bit i)."""
    if bit == 0:
        return tuple((1 << i >> 8) ^ _CRC_TABLE[(1 << i) & 0xFF] for i in range(16))
    half = _zeros_operator(bit - 1)
    return tuple(_apply(half, column) for column in half)
