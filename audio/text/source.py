"""Read an article file: bytes, encoding and format, into a Document."""
from __future__ import annotations

import codecs
import hashlib
import re
import sys
from pathlib import Path
from typing import NamedTuple

from .. import limits
from ..errors import BadInput

FORMATS = ("txt", "md", "html")
_SUFFIXES = {
    ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".xhtml": "html",
}
STDIN = Path("-")
_LIMIT_HINT = f" (set {limits.ARTICLE_ENV} to allow more)"
# Where detection is unsure, these are the encodings newsrooms actually send.
_FALLBACKS = ("cp1251", "cp1252", "latin-1")


class Document(NamedTuple):
    path: Path
    text: str
    format: str  # "txt", "md" or "html"
    encoding: str
    sha256: str
    url: str | None = None  # a fetched page (text/fetch.py): where it came from, after redirects
    fetched: str | None = None  # and when (ISO 8601 UTC)


def read(path: Path, format: str | None = None) -> Document:
    """Read and decode one article file ("-": standard input); every refusal is a BadInput naming the file."""
    limit = limits.article_bytes()
    if path == STDIN:
        data = limits.read_stream(sys.stdin.buffer, path, limit, "an article", _LIMIT_HINT, binary=True)
    else:
        data = limits.read_path(path, limit, "an article", _LIMIT_HINT, binary=True)
    return parse_bytes(data, path, format)


def parse_bytes(data: bytes, path: Path, format: str | None = None, charset: str | None = None) -> Document:
    """`charset`: what the HTTP response said; it takes precedence over the page's own <meta>."""
    fmt = format or _SUFFIXES.get(path.suffix.lower()) or _sniff(data)
    if fmt not in FORMATS:
        raise BadInput(f"{path}: unknown input format '{fmt}' (expected one of: {', '.join(FORMATS)})")
    if limits.is_binary(data[:65536]):
        raise BadInput(f"{path}: is a binary file (it holds NUL bytes), not an article")
    text, encoding = decode_html(data, path, charset) if fmt == "html" else decode(data, path)
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


def _sniff(data: bytes) -> str:
    """Standard input and unknown suffixes: a page if it opens like one, else plain text."""
    start = data[:512].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    return "html" if start.startswith((b"<!doctype html", b"<html", b"<?xml")) else "txt"


# WHATWG's label table, for the labels whose Python codec differs (latin-1 pages are really windows-1252).
_WHATWG = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252",
    "us-ascii": "cp1252", "ascii": "cp1252", "cp819": "cp1252", "iso-8859-9": "cp1254", "latin5": "cp1254",
    "tis-620": "cp874", "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs",
    "shift_jis": "cp932", "sjis": "cp932", "euc-kr": "cp949", "utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8",
}
_DECLARED = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.+-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w:.+-]+)""", re.IGNORECASE
)
_MULTIBYTE_UTF8 = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in a <meta> (or an XML declaration) near its top."""
    match = _DECLARED.search(data[:65536])
    if not match:
        return None
    return (match[1] or match[2]).decode("ascii", "replace").lower()


def decode_html(data: bytes, path: Path, charset: str | None = None) -> tuple[str, str]:
    """A page: its BOM, else its declared charset checked against its bytes, else detection.

    A page that declares one charset and holds another is decoded as what it holds, and the
    encoding says so ("utf-8 (declared windows-1251)"); a page mixing two encodings is refused.
    """
    declared = charset.lower() if charset else declared_charset(data)
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or declared is None:
        return decode(data, path)
    try:
        codec = codecs.lookup(_WHATWG.get(declared, declared)).name
    except LookupError:
        text, found = decode(data, path)
        return text, f"{found} (declared unknown charset {declared!r})"
    is_utf8 = codec == "utf-8"
    if not is_utf8 and not data.isascii():
        try:
            return data.decode("utf-8"), f"utf-8 (declared {declared})"  # legacy bytes are almost never valid UTF-8
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        if is_utf8 and _MULTIBYTE_UTF8.search(data):
            raise BadInput(
                f"{path}: declares charset {declared} but mixes UTF-8 with another encoding "
                f"(byte {exc.start} is not UTF-8); save the page in one encoding"
            ) from None
        return _detected(data, path, declared, exc.start)
    if not is_utf8 and _garbled(data, codec):
        return _detected(data, path, declared, None)
    return text, declared if codec != "utf-8" else "utf-8"


def _garbled(data: bytes, codec: str) -> bool:
    """Whether decoding with the declared single-byte codec reads worse than what detection finds."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or codecs.lookup(best.encoding).name == codec:
        return False
    declared = from_bytes(data, cp_isolation=[codec]).best()
    return declared is None or declared.chaos > best.chaos + 0.1


def _detected(data: bytes, path: Path, declared: str, bad_byte: int | None) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not best.encoding:
        where = f": byte {bad_byte} is not valid {declared}" if bad_byte is not None else ""
        raise BadInput(f"{path}: declares charset {declared} but does not hold it{where}, and its real encoding is unclear")
    return str(best), f"{best.encoding} (declared {declared})"
