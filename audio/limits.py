"""Ceilings on what is read: every input is read in chunks up to a stated size, so a device
(/dev/zero), a pipe that never ends or a huge file is refused in bounded time and memory."""
from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import BadInput

MB = 1_000_000
# An article: 5 MB is ~800,000 words, forty novels; a larger file is not an article (or is a mistake).
ARTICLE_ENV = "AUDIO_EDITION_MAX_ARTICLE_MB"
ARTICLE_MB = 5
# A config file or a pronunciation lexicon: a few thousand entries take well under 1 MB.
SETTINGS_BYTES = 4 * MB
CHUNK = 65536


def article_bytes() -> int:
    """The article ceiling: AUDIO_EDITION_MAX_ARTICLE_MB if set (whole megabytes), else 5 MB."""
    value = os.environ.get(ARTICLE_ENV)
    if value is None or not value.strip():
        return ARTICLE_MB * MB
    try:
        megabytes = int(value)
    except ValueError:
        megabytes = 0
    if megabytes < 1:
        raise BadInput(f"{ARTICLE_ENV}={value!r}: give a whole number of megabytes, e.g. 20")
    return megabytes * MB


def describe(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit:,} bytes"


def read_path(path: Path, limit: int, what: str, hint: str = "", binary: bool = False) -> bytes:
    """The bytes of `path`, at most `limit` of them; more is a BadInput naming the file and the limit.

    A regular file is measured before it is read; a device, FIFO or pipe is read in chunks and
    given up on once past the limit. With binary=True, NUL bytes in the first chunk (and no UTF-16
    BOM) end the read at once: a binary file is told from its first block, not its whole length."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise BadInput(f"{path}: is a directory, not {what} file")
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise _too_large(path, limit, what, hint)
            return read_stream(handle, path, limit, what, hint, binary)
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory, not {what} file") from None
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read: {exc.strerror or exc}") from None


def read_stream(stream: BinaryIO, path: Path, limit: int, what: str, hint: str = "", binary: bool = False) -> bytes:
    """Read `stream` to its end in chunks, refusing it once past `limit` bytes (see read_path)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        if binary and not chunks and is_binary(chunk):
            raise BadInput(f"{path}: is a binary file (it holds NUL bytes), not {what}")
        size += len(chunk)
        if size > limit:
            raise _too_large(path, limit, what, hint)
        chunks.append(chunk)


def read_settings(path: Path, what: str) -> bytes:
    """A config file or lexicon, at most SETTINGS_BYTES."""
    return read_path(path, SETTINGS_BYTES, what, binary=True)


def is_binary(first: bytes) -> bool:
    """NUL bytes near the start, in a file that is not UTF-16 (whose text holds them)."""
    return b"\x00" in first and not first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _too_large(path: Path, limit: int, what: str, hint: str) -> BadInput:
    return BadInput(f"{path}: larger than the {describe(limit)} {what} file may hold{hint}")
