"""build URL: the page fetched from a local server, bounded in time, redirects and size; errors one line."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from audio import __version__
from audio.cli.main import main
from audio.errors import BadInput
from audio.text import fetch

from ..localsite import Route, Site, page, running

STORY = page("Harbour bridge reopens after repairs",
             "The harbour bridge reopened to traffic on Monday morning after three months of repairs.",
             "Engineers said the work finished two weeks early.")


@pytest.fixture()
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")  # (a proxy the environment names is not the local site's)
    with running() as started:
        started.routes["/news/bridge-reopens.html"] = Route(STORY.encode())
        yield started


def test_a_page_is_fetched_with_our_user_agent_and_the_headers_given(site: Site) -> None:
    doc = fetch.fetch(site.url("/news/bridge-reopens.html"), [("Cookie", "session=s3cret")])
    assert doc.url == site.url("/news/bridge-reopens.html") and doc.fetched is not None
    assert doc.path.stem == "bridge-reopens" and doc.format == "html" and "harbour bridge" in doc.text
    (asked,) = site.asked("/news/bridge-reopens.html")
    assert asked.headers["user-agent"] == fetch.USER_AGENT and f"audio-edition/{__version__}" in fetch.USER_AGENT
    assert asked.headers["cookie"] == "session=s3cret"


def test_the_responses_charset_wins_over_the_pages_meta(site: Site) -> None:
    text = page("Новости", "Минск и Москва провели учения у границы в понедельник утром.")
    site.routes["/ru"] = Route(text.encode("cp1251"), headers={"Content-Type": "text/html; charset=windows-1251"})
    doc = fetch.fetch(site.url("/ru"))
    assert doc.encoding == "windows-1251" and "Минск и Москва" in doc.text


def test_redirects_are_followed_a_few_times(site: Site) -> None:
    site.routes["/old"] = Route(status=301, headers={"Location": "/older"})
    site.routes["/older"] = Route(status=302, headers={"Location": "/news/bridge-reopens.html"})
    assert fetch.fetch(site.url("/old")).url == site.url("/news/bridge-reopens.html")
    for n in range(10):
        site.routes[f"/hop{n}"] = Route(status=302, headers={"Location": f"/hop{n + 1}"})
    with pytest.raises(BadInput, match=r"/hop0: more than 5 redirects"):
        fetch.fetch(site.url("/hop0"))
    assert len(site.requests) <= 3 + 6


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/story.html"])
def test_a_redirect_to_another_scheme_is_refused(site: Site, target: str) -> None:
    site.routes["/away"] = Route(status=302, headers={"Location": target})
    with pytest.raises(BadInput) as raised:
        fetch.fetch(site.url("/away"))
    assert str(raised.value) == f"{site.url('/away')}: redirects to {target}, which is not an http(s) URL: refused"


def test_the_headers_given_are_not_sent_on_to_another_host(site: Site) -> None:
    site.routes["/elsewhere"] = Route(status=302, headers={"Location": site.url("/news/bridge-reopens.html", "localhost")})
    fetch.fetch(site.url("/elsewhere"), [("Cookie", "session=s3cret")])
    first, second = site.requests
    assert first.host.startswith("127.0.0.1") and first.headers["cookie"] == "session=s3cret"
    assert second.host.startswith("localhost") and "cookie" not in second.headers
    assert second.headers["user-agent"] == fetch.USER_AGENT


def test_a_slow_server_and_a_dripping_one_are_given_up_on(site: Site) -> None:
    site.routes["/slow"] = Route(STORY.encode(), wait=3)
    site.routes["/drip"] = Route(STORY.encode(), drip=0.05)  # each byte within the socket timeout; the whole never
    with pytest.raises(fetch.FetchFailed, match=r"/slow: no answer"):
        fetch.fetch(site.url("/slow"), timeout=1)
    with pytest.raises(fetch.FetchFailed, match=r"/drip: the page did not arrive in time \(\d+ bytes so far\)"):
        fetch.fetch(site.url("/drip"), timeout=1)


@pytest.mark.parametrize("length", [True, False])
def test_a_20_mb_page_is_refused(site: Site, length: bool) -> None:
    site.routes["/huge"] = Route(b"<html><body><p>" + b"word " * 4_000_000 + b"</p></body></html>", length=length)
    with pytest.raises(BadInput) as raised:
        fetch.fetch(site.url("/huge"))
    assert str(raised.value).startswith(f"{site.url('/huge')}: larger than the 5 MB a page may hold")


def test_errors_exit_2_or_1_with_one_line(site: Site, tmp_path: Path) -> None:
    site.routes["/broken"] = Route(b"oops", 500)
    site.routes["/picture"] = Route(b"\x89PNG\r\n", headers={"Content-Type": "image/png"})
    cases = {
        "/missing": (2, "not found (HTTP 404 Not Found)"),
        "/broken": (1, "the server failed (HTTP 500 Internal Server Error)"),
        "/picture": (2, "is image/png, not an HTML page"),
    }
    for path, (code, message) in cases.items():
        result = CliRunner().invoke(main, ["build", site.url(path), "--out", str(tmp_path / "out")])
        assert (result.exit_code, result.output) == (code, f"Error: {site.url(path)}: {message}\n")
    refused = CliRunner().invoke(main, ["build", "gopher://127.0.0.1/story", "--out", str(tmp_path / "out")])
    assert (refused.exit_code, refused.output) == (2, "Error: gopher://127.0.0.1/story: only http and https URLs are fetched\n")
    assert not list((tmp_path / "out").glob("*/edition.json"))


def test_build_url_records_where_and_when_the_page_was_fetched(site: Site, tmp_path: Path) -> None:
    site.routes["/go"] = Route(status=302, headers={"Location": "/news/bridge-reopens.html"})
    result = CliRunner().invoke(main, ["build", site.url("/go"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "bridge-reopens" / "edition.json").read_text(encoding="utf-8"))
    assert manifest["source"]["url"] == site.url("/news/bridge-reopens.html")
    assert manifest["source"]["fetched"].endswith("+00:00")
    assert manifest["url"] == site.url("/news/bridge-reopens.html")  # the page names no canonical URL
    assert manifest["title"] == "Harbour bridge reopens after repairs"


def test_the_pages_canonical_url_wins_for_the_episode(site: Site, tmp_path: Path) -> None:
    site.routes["/amp/bridge"] = Route(page("Harbour bridge reopens after repairs",
                                            "The harbour bridge reopened to traffic on Monday morning.",
                                            canonical="https://news.example/bridge").encode())
    result = CliRunner().invoke(main, ["build", site.url("/amp/bridge"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "bridge" / "edition.json").read_text(encoding="utf-8"))
    assert manifest["url"] == "https://news.example/bridge" and manifest["source"]["url"] == site.url("/amp/bridge")


@pytest.mark.parametrize("given", ["Cookie", "Cookie session", "Bad Name: x", ": empty"])
def test_a_malformed_header_is_refused(given: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "http://127.0.0.1:9/x", "--header", given, "--out", str(tmp_path)])
    assert result.exit_code == 2 and "give 'Name: value'" in result.output
