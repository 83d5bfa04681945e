"""Read an article file: bytes, encoding and format, into a Document."""
from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInput

FORMATS = ("txt", "md")
_SUFFIXES = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}
# Where detection is unsure, these are the encodings newsrooms actually send.
_FALLBACKS = ("cp1251", "cp1252", "latin-1")


@dataclass(frozen=True)
class Document:
    path: Path
    text: str
    format: str  # "txt" or "md"
    encoding: str
    sha256: str


def read(path: Path, format: str | None = None) -> Document:
    """Read and decode one article file; every refusal is a BadInput naming the file."""
    if not path.exists():
        raise BadInput(f"{path}: no such file")
    if path.is_dir():
        raise BadInput(f"{path}: is a directory, not an article file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_bytes(data, path, format)


def parse_bytes(data: bytes, path: Path, format: str | None = None) -> Document:
    fmt = format or _SUFFIXES.get(path.suffix.lower(), "txt")
    if fmt not in FORMATS:
        raise BadInput(f"{path}: unknown input format '{fmt}' (expected one of: {', '.join(FORMATS)})")
    if b"\x00" in data[:65536] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise BadInput(f"{path}: is a binary file (it holds NUL bytes), not an article")
    text, encoding = decode(data, path)
    # Line ends: CRLF and lone CR become LF; other control characters are never spoken.
    text = without_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise BadInput(f"{path}: is empty (no text to read)")
    return Document(path=path, text=text, format=fmt, encoding=encoding, sha256=hashlib.sha256(data).hexdigest())


def without_controls(text: str) -> str:
    """Drop control characters (NUL would cut the engine's C string short); keep newlines and tabs."""
    return "".join(ch for ch in text if ch in "\n\t" or ch >= " " and not 0x7F <= ord(ch) <= 0x9F)


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; otherwise detect, and say which."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8", path), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", path), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        return str(best), best.encoding
    for encoding in _FALLBACKS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise BadInput(f"{path}: text encoding could not be detected (save it as UTF-8)")


def _strict(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: declares {encoding} but byte {exc.start} is not valid {encoding}") from None
