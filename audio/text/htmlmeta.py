"""An article page's metadata: title, byline, date, language, canonical URL and publisher from JSON-LD, og:* and the markup."""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from lxml.html import HtmlElement

# schema.org types that describe the article itself (not the page, breadcrumbs or the site).
_ARTICLE_TYPES = re.compile(r"(?:\w*Article|BlogPosting|Report|LiveBlogPosting)$")
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_NOT_A_LANGUAGE = {"und", "mul", "zxx", "x-default"}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class PageMeta(NamedTuple):
    title: str | None = None
    byline: str | None = None
    date: str | None = None  # ISO 8601 date of publication, as the publisher dated it
    language: str | None = None  # lower-case BCP 47 tag, e.g. "en-us"
    url: str | None = None  # canonical URL
    publisher: str | None = None


def read_meta(root: HtmlElement) -> PageMeta:
    """Metadata in order of trust: the article's JSON-LD, then og:/article: tags, microdata, then the markup."""
    ld = _json_ld_article(root)
    meta = _meta_tags(root)
    prop = _microdata(root)
    title = _first(
        _text(ld.get("headline")), meta.get("og:title"), meta.get("twitter:title"), prop.get("headline"), _h1(root),
        _title_tag(root, meta.get("og:site_name")),
    )
    byline = _first(
        _names(ld.get("author"), ld.get("@graph_index", {})),
        _not_url(meta.get("author")),
        _not_url(meta.get("article:author")),
        _names(prop.get("author"), {}),
        _rel_author(root),
    )
    date = _first(
        *(_iso_date(value) for value in (
            _text(ld.get("datePublished")), meta.get("article:published_time"), prop.get("datePublished"),
            meta.get("og:published_time"), meta.get("date"), meta.get("pubdate"), meta.get("dc.date.issued"),
            meta.get("dc.date"), _time_pubdate(root),
        ))
    )
    language = _first(
        *(language_tag(value) for value in (
            _text(ld.get("inLanguage")), root.get("lang"), root.get("xml:lang"), meta.get("og:locale"),
            meta.get("content-language"), meta.get("language"),
        ))
    )
    url = _first(_canonical(root), meta.get("og:url"), _text(ld.get("url")), _entity_id(ld.get("mainEntityOfPage")))
    publisher = _first(
        _names(ld.get("publisher"), ld.get("@graph_index", {})), meta.get("og:site_name"), meta.get("application-name")
    )
    return PageMeta(title=title, byline=byline, date=date, language=language, url=url, publisher=publisher)


def language_tag(value: str | None) -> str | None:
    """A language tag as we store it: 'en_US', 'EN-us' -> 'en-us'; anything else -> None."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    if tag in _NOT_A_LANGUAGE or not _LANGUAGE_TAG.fullmatch(tag):
        return None
    return tag


def _first(*values: str | None) -> str | None:
    for value in values:
        if value and value.strip():
            return value.strip()
    return None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    return _clean(value) if isinstance(value, str) and value.strip() else None


def _not_url(value: str | None) -> str | None:
    return None if not value or re.match(r"(?i)https?://|www\.", value.strip()) else value


def _json_ld_article(root: HtmlElement) -> dict[str, Any]:
    """The first JSON-LD node typed as an article, with an index of the page's @id nodes to resolve references."""
    nodes: list[dict[str, Any]] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text, strict=False)
        except ValueError:
            continue  # a broken block on someone's page: the other sources still count
        nodes.extend(_flatten(data))
    index = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    for node in nodes:
        types = node.get("@type")
        names = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and _ARTICLE_TYPES.match(t) for t in names):
            return {**node, "@graph_index": index}
    return {}


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"])


def _names(value: Any, index: dict[str, Any]) -> str | None:
    """Authors or a publisher: a string, a Person/Organization (maybe by @id reference), or a list of them."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, dict) and "name" not in item and isinstance(item.get("@id"), str):
            item = index.get(item["@id"], item)
        name = _text(item) if isinstance(item, (str, dict)) else None
        if name and _not_url(name) and name not in names:
            names.append(name)
    if not names:
        return None
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _entity_id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url")
    return value if isinstance(value, str) and value.startswith("http") else None


def _meta_tags(root: HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in root.iter("meta"):
        key = (tag.get("property") or tag.get("name") or tag.get("http-equiv") or "").strip().lower()
        content = tag.get("content")
        if key and content and content.strip() and key not in found:
            found[key] = _clean(content)
    return found


def _microdata(root: HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in root.xpath("//*[@itemprop]"):
        for key in str(element.get("itemprop")).split():
            if key in found:
                continue
            value = element.get("datetime") or element.get("content") or element.text_content()
            if value and value.strip():
                found[key] = _clean(value)
    return found


def _h1(root: HtmlElement) -> str | None:
    for element in root.iter("h1"):
        text = _clean(element.text_content())
        if text:
            return text
    return None


def _title_tag(root: HtmlElement, site: str | None) -> str | None:
    """<title> without the ' | Site' or ' – Site' suffix that templates add."""
    for element in root.iter("title"):
        text = _clean(element.text_content())
        if site and text.endswith(site):
            text = re.sub(r"\s*[|–—\-:·•]\s*$", "", text[: -len(site)]).strip() or text
        return text or None
    return None


def _rel_author(root: HtmlElement) -> str | None:
    for element in root.xpath("//a[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]"):
        text = _clean(element.text_content())
        if text:
            return text
    return None


def _time_pubdate(root: HtmlElement) -> str | None:
    for element in root.xpath("//time[@pubdate or contains(@class, 'published')][@datetime]"):
        return str(element.get("datetime"))
    return None


def _canonical(root: HtmlElement) -> str | None:
    for element in root.iter("link"):
        if "canonical" in (element.get("rel") or "").lower().split() and element.get("href"):
            return str(element.get("href")).strip()
    return None


def _iso_date(value: str | None) -> str | None:
    """The calendar date a timestamp starts with, if it is a real date."""
    if not value:
        return None
    match = _DATE.search(value)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None
