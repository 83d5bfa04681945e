"""A page's canonical URL is its episode's identity and its feed link: only http(s) URLs are taken, and
a page claiming another article's URL is reported, never merged into that article's episode."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from audio import config
from audio.site import catalogue
from audio.text import article, source

from .test_feed import BASE, copy_at


def page(canonical: str, og_url: str | None = None) -> bytes:
    og = f'<meta property="og:url" content="{og_url}">' if og_url else ""
    return (f'<!doctype html><html lang="en"><head><title>Roads</title><link rel="canonical" href="{canonical}">{og}'
            "</head><body><article><p>The council met on Tuesday and agreed the budget for the roads.</p>"
            "</article></body></html>").encode()


@pytest.mark.parametrize("canonical", ["javascript:alert(document.cookie)", "/relative/path", "data:text/html,x",
                                       "ftp://example.org/a", "https:no-host"])
def test_only_an_http_url_is_a_pages_url(canonical: str) -> None:
    parsed = article.parse(source.parse_bytes(page(canonical), Path("p.html")), config.Config())
    assert parsed.url is None
    fallback = article.parse(source.parse_bytes(page(canonical, "https://example.org/roads"), Path("p.html")),
                             config.Config())
    assert fallback.url == "https://example.org/roads"  # the next source of the URL that is one


def test_two_sources_claiming_one_canonical_url_stay_two_episodes(
    sample_edition: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    url = "https://example.org/1"
    first = catalogue.record_all(out, [copy_at(sample_edition, out, "a", url=url)], BASE)[0]
    other_source = {**sample_edition.manifest["source"], "sha256": "0" * 64}
    with caplog.at_level(logging.WARNING, logger="audio.site.catalogue"):
        second = catalogue.record_all(out, [copy_at(sample_edition, out, "b", url=url, source=other_source)], BASE)[0]
    assert second.guid != first.guid and second.canonical_url is None
    assert sorted((e.slug, e.guid, e.canonical_url) for e in catalogue.episodes(out)) == [
        ("a", first.guid, url), ("b", second.guid, None)]
    assert [r.getMessage() for r in caplog.records] == [
        f"b: names the canonical URL {url} of the episode {first.title!r} (a/), built from another source; "
        "recorded as an episode of its own"]
