"""A real HTTP server on 127.0.0.1, started and stopped by the tests: pages and feeds that change between
requests, redirects, errors, slow and oversized answers, 304 for conditional requests. No test touches
the internet."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    etag: str | None = None  # answered 304 to a request naming it (If-None-Match)
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    wait: float = 0.0  # seconds before answering at all
    drip: float = 0.0  # seconds between the body's bytes, sent one by one


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    host: str
    at: float = 0.0  # time.monotonic() when it came


class Site:
    """routes: path -> Route (a callable route is called for each request); requests: every request seen."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[], Route]] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                with site.lock:
                    site.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                 self.headers.get("Host", ""), time.monotonic()))
                    found = site.routes.get(self.path)
                route = found() if callable(found) else found
                if route is None:
                    route = Route(b"<html><body>Not here</body></html>", 404)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(route)

            def _answer(self, route: Route) -> None:
                if route.wait:
                    time.sleep(route.wait)
                if route.etag is not None and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.etag is not None:
                    self.send_header("ETag", route.etag)
                if route.length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if route.drip:
                    for byte in route.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.drip)
                else:
                    self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # (the requests are kept in site.requests)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def asked(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


@contextlib.contextmanager
def running() -> Iterator[Site]:
    site = Site()
    site.thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()


def page(title: str, *paragraphs: str, charset: str = "utf-8", canonical: str | None = None) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!doctype html><html lang="en"><head><meta charset="{charset}"><title>{title}</title>{link}</head>'
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def rss(items: list[tuple[str, str, str]], base: str) -> bytes:
    """items: (guid, link, RFC 2822 date)."""
    entries = "".join(f"<item><title>{guid}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}</guid>"
                      f"<pubDate>{date}</pubDate></item>" for guid, link, date in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Local news</title>'
            f"<link>{base}</link><description>News</description>{entries}</channel></rss>").encode()
