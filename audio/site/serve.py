"""Serve out/ over HTTP with byte ranges, so a podcast app or browser can subscribe and seek."""
from __future__ import annotations

import email.utils
import errno
import http.server
import logging
import os
import re
import stat
from functools import partial
from pathlib import Path
from typing import BinaryIO

from ..errors import BadInput

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_DIGITS = 18  # a byte position of more digits is past any file (10**18 bytes: an exabyte)
_CATALOGUE = "catalogue.sqlite"  # (and its -wal, -shm, -journal): the catalogue is ours, not the listeners'
# A connection that has sent nothing for this long is closed: half-sent requests each hold a thread.
IDLE_SECONDS = 30.0
# Types podcast apps and browsers check; Python's table lacks some or guesses others differently.
TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".m4b": "audio/mp4",
    ".srt": "application/x-subrip; charset=utf-8",
    ".opus": "audio/ogg",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".epub": "application/epub+zip",  # the talking book (Python's table has it only from the system's mime.types)
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

    timeout = IDLE_SECONDS  # a connection that sends nothing for this long is closed (socket timeout)

    def send_head(self) -> BinaryIO | None:
        handle = self._open()
        if handle is None:
            return None
        path = handle.name
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

    def _open(self) -> BinaryIO | None:
        """The regular file the request names inside the served folder (a folder's index.html), or
        None with the reply sent: 404 for anything else, so that a symlink out of it, a dotfile (the
        lock, a file half-written), the catalogue or a folder's listing is never served."""
        local = self.translate_path(self.path)  # (drops '..' and the query)
        route = self.path.split("?", 1)[0].split("#", 1)[0]
        if "\x00" in local:
            self.send_error(404, "File not found")
            return None
        root = os.path.realpath(self.directory)
        real = os.path.realpath(local)
        if os.path.isdir(real) and (real == root or real.startswith(root + os.sep)):
            if not route.endswith("/"):  # as the base class does: relative links in the page then work
                self.send_response(301)
                self.send_header("Location", route + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            real = os.path.realpath(os.path.join(real, "index.html"))
        inside = os.path.relpath(real, root).split(os.sep)
        if inside[0] == ".." or any(part.startswith(".") for part in inside) or inside[-1].startswith(_CATALOGUE):
            self.send_error(404, "File not found")
            return None
        try:  # (a symlink swapped in since realpath is not followed; a FIFO is not waited on)
            handle = open(real, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK))
        except OSError:
            self.send_error(404, "File not found")
            return None
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # a FIFO or device placed in out/
            handle.close()
            self.send_error(404, "File not found")
            return None
        return handle

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "File not found")  # (never reached: _open serves a folder's index.html or 404)
        return None

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
        # Browser players on other origins fetch transcripts and chapters (docs/standards.md: CORS).
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
        if max(len(match.group(1)), len(match.group(2))) > _DIGITS:
            return None  # past any file's size (and past what int() reads): ignored as invalid
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


def make_server(
    out: Path, host: str = "127.0.0.1", port: int = 8000, idle: float = IDLE_SECONDS
) -> http.server.ThreadingHTTPServer:
    """A server for out/, bound but not yet serving; port 0 picks a free one. A connection idle
    for `idle` seconds is closed."""
    if not out.is_dir():
        raise BadInput(f"--out {out}: no such directory (build an edition into it first)")
    handler = partial(type("Handler", (Handler,), {"timeout": idle}), directory=str(out))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BadInput(f"--port {port}: already in use on {host}; choose another port") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise BadInput(f"--host {host}: not an address of this machine") from None
        raise
