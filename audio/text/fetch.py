"""Fetch an article page (or a feed) over HTTP(S): bounded in time, redirects and size; a page becomes
the Document source.read makes from a saved file."""
from __future__ import annotations

import datetime as dt
import email.message
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from .. import __version__, limits
from ..errors import AudioEditionError, BadInput
from . import source

USER_AGENT = f"audio-edition/{__version__} (reads news articles aloud; +https://pypi.org/project/audio-edition/)"
TIMEOUT = 30.0  # seconds for the whole response: a server that drips its bytes is given up on too
MAX_REDIRECTS = 5
PAGE_TYPES = ("text/html", "application/xhtml+xml")
Headers = Sequence[tuple[str, str]]


class FetchFailed(AudioEditionError):
    """The server or the network failed (refused, timed out, 5xx): worth trying again later."""

    exit_code = 1


class Response(NamedTuple):
    url: str  # where the content came from, after redirects
    status: int  # 200, or 304 for a conditional request answered "not modified"
    body: bytes
    content_type: str  # e.g. "text/html", lower case, without parameters
    charset: str | None  # from the Content-Type header
    etag: str | None
    last_modified: str | None
    fetched: str  # ISO 8601 UTC, when the response came


def check_url(url: str) -> str:
    """An http(s) URL with a host; anything else is a BadInput naming it."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise BadInput(f"{url}: only http and https URLs are fetched")
    if not parts.hostname:
        raise BadInput(f"{url}: names no host")
    return url


def header(text: str) -> tuple[str, str]:
    """--header 'Name: value' (a paywall cookie, a token)."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
        raise BadInput(f"--header {text!r}: give 'Name: value', e.g. 'Cookie: session=…'")
    return name.strip(), value.strip()


def get(
    url: str,
    headers: Headers = (),
    *,
    limit: int | None = None,
    timeout: float = TIMEOUT,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
) -> Response:
    """GET `url`: at most MAX_REDIRECTS redirects, each to http(s) only; at most `limit` bytes (the article
    ceiling by default); the whole response within `timeout` seconds. With `etag`/`last_modified`, a
    conditional request: an unchanged resource answers 304 with no body."""
    check_url(url)
    limit = limits.article_bytes() if limit is None else limit
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": accept,
                                                   "Accept-Encoding": "identity", **dict(headers)})
    if etag:
        request.add_header("If-None-Match", etag)
    if last_modified:
        request.add_header("If-Modified-Since", last_modified)
    opener = urllib.request.build_opener(_Redirects(headers))
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as answer:
            body = _read(answer, url, limit, deadline)
            return _response(answer.geturl(), answer.status, body, answer.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code == 304:
                return _response(exc.geturl() or url, 304, b"", exc.headers)
            raise _status_error(url, exc.code, exc.reason) from None
    except urllib.error.URLError as exc:
        raise _network_error(url, exc.reason) from None
    except (TimeoutError, socket.timeout):
        raise FetchFailed(f"{url}: no answer within {timeout:g} s") from None
    except (ConnectionError, ssl.SSLError, OSError) as exc:
        raise _network_error(url, exc) from None
    except ValueError as exc:  # http.client: a malformed URL or response line
        raise BadInput(f"{url}: {exc}") from None


def fetch(url: str, headers: Headers = (), *, timeout: float = TIMEOUT, limit: int | None = None) -> source.Document:
    """The article page at `url`, read as a saved page would be (source.parse_bytes), with the response's
    charset taking precedence over the page's <meta>, as a browser does."""
    response = get(url, headers, timeout=timeout, limit=limit)
    return page(url, response)


def page(url: str, response: Response) -> source.Document:
    """A response as the Document of an article page; `url`: the one asked for."""
    if response.content_type and response.content_type not in PAGE_TYPES:
        raise BadInput(f"{url}: is {response.content_type}, not an HTML page")
    name = Path(page_name(response.url))
    try:
        doc = source.parse_bytes(response.body, name, "html", charset=response.charset)
    except BadInput as exc:
        raise renamed(exc, name, url) from None
    return doc._replace(url=response.url, fetched=response.fetched)


def renamed(exc: BadInput, name: Path, url: str) -> BadInput:
    """A refusal that names the page's file name, naming its URL instead."""
    text = str(exc)
    return BadInput(url + text[len(str(name)):]) if text.startswith(f"{name}:") else exc


def page_name(url: str) -> str:
    """A file name for the page (its edition's slug is made from it): the URL's last path segment, without
    a page suffix, with its query if any ("story?id=7" -> "story-id-7.html"), else the host."""
    parts = urllib.parse.urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    stem = urllib.parse.unquote(segments[-1]) if segments else (parts.hostname or "page")
    suffix = PurePosixPath(stem).suffix.lower()
    if suffix in (".html", ".htm", ".xhtml", ".php", ".asp", ".aspx", ".jsp", ".shtml"):
        stem = stem[: -len(suffix)]
    if parts.query:
        stem = f"{stem}-{urllib.parse.unquote_plus(parts.query)}"
    stem = "".join(c if c not in "/\\\x00" else "-" for c in stem)[:150] or "page"
    return f"{stem}.html"


class _Redirects(urllib.request.HTTPRedirectHandler):
    """At most MAX_REDIRECTS; to http(s) only (urllib alone would follow one to ftp:); the headers the user
    gave (a cookie, a token) are sent to the host asked for only, not to another one a redirect names."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, headers: Headers) -> None:
        super().__init__()
        self.given = {name.lower() for name, _ in headers}

    def http_error_302(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                       headers: Any) -> Any:
        # Checked before urllib's own check, whose error would read as a failed redirect, not a refused one.
        target = headers.get("Location") or headers.get("URI")
        if target is not None:
            newurl = urllib.parse.urljoin(req.full_url, target.strip())
            if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):
                fp.close()
                raise BadInput(f"{req.full_url}: redirects to {newurl}, which is not an http(s) URL: refused")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).hostname != urllib.parse.urlsplit(req.full_url).hostname:
            for name in list(new.headers):
                if name.lower() in self.given:
                    del new.headers[name]
        return new


def _read(answer: Any, url: str, limit: int, deadline: float) -> bytes:
    """The body in chunks as they come (read1: what has arrived, not a full chunk), refused past `limit`
    bytes or past the deadline."""
    length = answer.headers.get("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > limit:
        raise BadInput(f"{url}: larger than the {limits.describe(limit)} a page may hold "
                       f"({int(length):,} bytes; set {limits.ARTICLE_ENV} to allow more)")
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchFailed(f"{url}: the page did not arrive in time ({size:,} bytes so far)")
        chunk = answer.read1(limits.CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BadInput(f"{url}: larger than the {limits.describe(limit)} a page may hold "
                           f"(set {limits.ARTICLE_ENV} to allow more)")
        chunks.append(chunk)


def _response(url: str, status: int, body: bytes, headers: email.message.Message) -> Response:
    content_type = (headers.get_content_type() if headers.get("Content-Type") else "").lower()
    charset = headers.get_content_charset() if headers.get("Content-Type") else None
    return Response(url, status, body, content_type, charset, headers.get("ETag"), headers.get("Last-Modified"),
                    dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))


def _status_error(url: str, code: int, reason: str) -> AudioEditionError:
    told = f"HTTP {code}{' ' + reason if reason else ''}"
    if 300 <= code < 400:  # (urllib gives up on a redirect loop, or past max_redirections, so)
        return BadInput(f"{url}: more than {MAX_REDIRECTS} redirects, or a redirect loop ({told})")
    if code in (404, 410):
        return BadInput(f"{url}: not found ({told})")
    if code in (401, 403):
        return BadInput(f"{url}: access refused ({told}); a --header 'Cookie: …' may be needed")
    if code == 429 or code >= 500:
        return FetchFailed(f"{url}: the server failed ({told})")
    return BadInput(f"{url}: refused ({told})")


def _network_error(url: str, reason: object) -> AudioEditionError:
    if isinstance(reason, AudioEditionError):  # (raised by _Redirects, wrapped by urllib)
        return reason
    if isinstance(reason, socket.gaierror):
        return BadInput(f"{url}: no such host ({reason.strerror or reason})")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return FetchFailed(f"{url}: no answer in time")
    if isinstance(reason, ConnectionRefusedError):
        return FetchFailed(f"{url}: connection refused")
    text = getattr(reason, "strerror", None) or str(reason)
    return FetchFailed(f"{url}: {text}")
