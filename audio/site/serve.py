"""Serve out/ over HTTP with byte ranges, so a podcast app or browser can subscribe and seek."""
from __future__ import annotations

import email.utils
import errno
import http.server
import logging
import os
import re
from functools import partial
from pathlib import Path
from typing import BinaryIO

from ..errors import BadInput

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# Types podcast apps and browsers check; Python's table lacks some or guesses others differently.
TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".opus": "audio/ogg",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}
NAMED_TYPES = {
    "chapters.json": "application/json+chapters",  # Podcasting 2.0 chapters
    "feed.xml": "application/rss+xml; charset=utf-8",
}


class _Unsatisfiable(Exception):
    """The range asked for starts past the end of the file: 416."""


class Handler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single byte ranges (206/416), exact types and CORS."""

    server_version = "audio-edition"
    _remaining: int | None = None  # bytes of the current file response left to send

    def send_head(self) -> BinaryIO | None:
        path = self.translate_path(self.path)
        if os.path.isdir(path) or not os.path.isfile(path):
            return super().send_head()  # directories, index.html, 404
        handle = open(path, "rb")
        try:
            size = os.fstat(handle.fileno()).st_size
            modified = email.utils.formatdate(os.fstat(handle.fileno()).st_mtime, usegmt=True)
            try:
                wanted = self._range(size, modified)
            except _Unsatisfiable:
                handle.close()
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self._common_headers(path, modified)
                self.end_headers()
                return None
            if wanted is None:
                self.send_response(200)
                start, length = 0, size
            else:
                start, end = wanted
                length = end - start + 1
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("Content-Length", str(length))
            self._common_headers(path, modified)
            self.end_headers()
            handle.seek(start)
            self._remaining = length
            return handle
        except BaseException:
            handle.close()
            raise

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:  # type: ignore[override]
        remaining = getattr(self, "_remaining", None)
        if remaining is None:  # a directory listing or index.html from the base class
            super().copyfile(source, outputfile)
            return
        try:
            while remaining > 0:
                chunk = source.read(min(_CHUNK, remaining))
                if not chunk:
                    break
                outputfile.write(chunk)
                remaining -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # players drop a range request as soon as they seek elsewhere
        finally:
            self._remaining = None

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        name = os.path.basename(os.fspath(path))
        if name in NAMED_TYPES:
            return NAMED_TYPES[name]
        return TYPES.get(os.path.splitext(name)[1].lower()) or super().guess_type(path)

    def end_headers(self) -> None:
        # Browser players on other origins fetch transcripts and chapters (STANDARDS.md: CORS).
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def _common_headers(self, path: str, modified: str) -> None:
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", modified)

    def _range(self, size: int, modified: str) -> tuple[int, int] | None:
        """(first, last) byte of the one range asked for, or None for the whole file."""
        header = self.headers.get("Range")
        if not header:
            return None
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range.strip() != modified:
            return None  # the file changed since the client's copy: send it whole
        match = _RANGE.fullmatch(header.strip())
        if not match or not (match.group(1) or match.group(2)):
            return None  # several ranges or another unit: RFC 9110 lets a server ignore Range
        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
            if last and int(last) < start:
                return None  # invalid range: ignored
        else:
            suffix = int(last)
            if suffix == 0:
                raise _Unsatisfiable
            start, end = max(0, size - suffix), size - 1
        if start >= size:
            raise _Unsatisfiable
        return start, end


def make_server(out: Path, host: str = "127.0.0.1", port: int = 8000) -> http.server.ThreadingHTTPServer:
    """A server for out/, bound but not yet serving; port 0 picks a free one."""
    if not out.is_dir():
        raise BadInput(f"--out {out}: no such directory (build an edition into it first)")
    handler = partial(Handler, directory=str(out))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BadInput(f"--port {port}: already in use on {host}; choose another port") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise BadInput(f"--host {host}: not an address of this machine") from None
        raise
