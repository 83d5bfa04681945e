"""`serve`: out/ over HTTP with byte ranges and the types podcast apps check."""
from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from audio.errors import BadInput
from audio.site import serve

MP3 = "/moscow-times-belarus/moscow-times-belarus.mp3"


@pytest.fixture(scope="module")
def server(sample_out: Path) -> Iterator[tuple[str, int]]:
    httpd = serve.make_server(sample_out, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def get(address: tuple[str, int], path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_range_request_gets_206_and_exactly_those_bytes(server: tuple[str, int], sample_out: Path) -> None:
    whole = (sample_out / MP3.lstrip("/")).read_bytes()
    status, headers, body = get(server, MP3, Range="bytes=100-199")
    assert status == 206 and body == whole[100:200]
    assert headers["content-range"] == f"bytes 100-199/{len(whole)}"
    assert headers["content-length"] == "100" and headers["content-type"] == "audio/mpeg"
    assert headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=-10", -10, None), ("bytes=1000-", 1000, None), ("bytes=0-0", 0, 1), ("bytes=5-99999999", 5, None)],
)
def test_other_single_ranges(server: tuple[str, int], sample_out: Path, header: str, first: int, last: int | None) -> None:
    whole = (sample_out / MP3.lstrip("/")).read_bytes()
    status, headers, body = get(server, MP3, Range=header)
    assert status == 206 and body == whole[first:last]
    start = first % len(whole)
    assert headers["content-range"] == f"bytes {start}-{start + len(body) - 1}/{len(whole)}"


def test_whole_file_unsatisfiable_and_ignored_ranges(server: tuple[str, int], sample_out: Path) -> None:
    whole = (sample_out / MP3.lstrip("/")).read_bytes()
    status, headers, body = get(server, MP3)
    assert (status, body, headers["accept-ranges"]) == (200, whole, "bytes")
    status, headers, body = get(server, MP3, Range=f"bytes={len(whole)}-")
    assert (status, headers["content-range"], body) == (416, f"bytes */{len(whole)}", b"")
    status, _, body = get(server, MP3, Range="bytes=0-1,5-9")  # several ranges: the whole file
    assert (status, body) == (200, whole)
    status, _, body = get(server, MP3, Range="bytes=0-9", **{"If-Range": "Thu, 01 Jan 1970 00:00:00 GMT"})
    assert (status, body) == (200, whole)  # the client's copy is stale
    status, headers, body = get(server, MP3, "HEAD", Range="bytes=100-199")
    assert (status, headers["content-length"], body) == (206, "100", b"")


def test_sidecars_are_served_with_their_types(server: tuple[str, int]) -> None:
    status, headers, _ = get(server, "/moscow-times-belarus/chapters.json")
    assert (status, headers["content-type"]) == (200, "application/json+chapters")
    status, headers, body = get(server, "/moscow-times-belarus/transcript.vtt")
    assert (status, headers["content-type"]) == (200, "text/vtt; charset=utf-8") and body.startswith(b"WEBVTT")
    assert headers["access-control-allow-origin"] == "*"
    assert get(server, "/moscow-times-belarus/moscow-times-belarus.m4a")[1]["content-type"] == "audio/mp4"
    assert get(server, "/nothing-here.mp3")[0] == 404


def test_serve_command_serves_ranges_until_stopped(sample_out: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "audio", "serve", "--out", str(sample_out), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"Serving {sample_out} at http://127.0.0.1:"), line + (process.stderr.read() if process.stderr else "")
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        status, _, body = get(("127.0.0.1", port), MP3, Range="bytes=100-199")
        assert status == 206 and body == (sample_out / MP3.lstrip("/")).read_bytes()[100:200]
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_serve_refusals(tmp_path: Path, server: tuple[str, int]) -> None:
    with pytest.raises(BadInput, match=f"--out {tmp_path / 'none'}: no such directory"):
        serve.make_server(tmp_path / "none")
    with pytest.raises(BadInput, match=f"--port {server[1]}: already in use on 127.0.0.1; choose another port"):
        serve.make_server(tmp_path, "127.0.0.1", server[1])


@pytest.fixture
def hostile_out(tmp_path: Path) -> Iterator[tuple[Path, tuple[str, int]]]:
    """An out/ holding what must never be served beside what must: served on a port of its own."""
    out = tmp_path / "out"
    (out / "ed").mkdir(parents=True)
    (out / "ed" / "ed.mp3").write_bytes(b"ID3" + bytes(997))
    (out / "ed" / "index.html").write_text("<p>player</p>", encoding="utf-8")
    (out / "bare").mkdir()
    (out / "bare" / "bare.mp3").write_bytes(b"x")
    (out / ".lock").write_text("", encoding="utf-8")
    (out / ".ed.mp3.partial").write_bytes(b"half")
    (out / "catalogue.sqlite").write_bytes(b"SQLite format 3\x00")
    (out / "catalogue.sqlite-wal").write_bytes(b"wal")
    (out / "e").symlink_to("/etc")
    (out / "passwd.mp3").symlink_to("/etc/passwd")
    (out / "same.mp3").symlink_to(out / "ed" / "ed.mp3")  # a link that stays inside is followed
    os.mkfifo(out / "pipe.mp3")
    with serving(serve.make_server(out, "127.0.0.1", 0)) as address:
        yield out, address


@contextlib.contextmanager
def serving(httpd: http.server.ThreadingHTTPServer) -> Iterator[tuple[str, int]]:
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_only_regular_files_inside_out_are_served(hostile_out: tuple[Path, tuple[str, int]]) -> None:
    _, address = hostile_out
    for refused in ("/e/passwd", "/e/", "/passwd.mp3", "/.lock", "/.ed.mp3.partial", "/catalogue.sqlite",
                    "/catalogue.sqlite-wal", "/bare/", "/pipe.mp3", "/%00", "/ed/%00x", "/../../etc/passwd"):
        status, _, body = get(address, refused)
        assert status == 404 and b"root:" not in body, refused
    assert get(address, "/ed/")[::2] == (200, b"<p>player</p>")
    assert get(address, "/ed")[:2] == (301, {**get(address, "/ed")[1], "location": "/ed/"})
    assert get(address, "/same.mp3")[::2] == (200, b"ID3" + bytes(997))
    assert get(address, "/")[0] == 404  # no index.html in out/ yet: no listing instead


def test_a_range_of_5000_digits_is_ignored(hostile_out: tuple[Path, tuple[str, int]]) -> None:
    _, address = hostile_out
    for header in ("bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000, "bytes=-" + "9" * 5000):
        status, headers, body = get(address, "/ed/ed.mp3", Range=header)
        assert (status, headers["content-length"], len(body)) == (200, "1000", 1000)


def test_an_idle_connection_is_closed(tmp_path: Path) -> None:
    with serving(serve.make_server(tmp_path, "127.0.0.1", 0, idle=0.5)) as address:
        with socket.create_connection(address, timeout=30) as half_sent:  # (30 s: only so a broken server fails)
            half_sent.sendall(b"GET /ed/ed.mp3 HTTP/1.1\r\nHost: x\r\n")
            assert half_sent.recv(100) == b""  # closed by the server, without a reply
    assert serve.Handler.timeout == serve.IDLE_SECONDS == 30.0  # what `serve` itself gives
