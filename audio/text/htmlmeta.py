"""An article page's metadata: title, byline, date, language, canonical URL and publisher from JSON-LD, og:* and the markup."""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import urlsplit

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
    publisher = _first(
        _names(ld.get("publisher"), ld.get("@graph_index", {})), meta.get("og:site_name"), meta.get("application-name")
    )
    title = _title(root, ld, meta, prop, publisher)
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
    url = _first(*(_web(u) for u in (_canonical(root), meta.get("og:url"), _text(ld.get("url")),
                                     _entity_id(ld.get("mainEntityOfPage")))))
    return PageMeta(title=title, byline=byline, date=date, language=language, url=url, publisher=publisher)


def language_tag(value: str | None) -> str | None:
    """A language tag as we store it: 'en_US', 'EN-us' -> 'en-us'; anything else -> None."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    if tag in _NOT_A_LANGUAGE or not _LANGUAGE_TAG.fullmatch(tag):
        return None
    return tag


def _web(url: str | None) -> str | None:
    """An absolute http(s) URL, or None: a page's URL becomes the feed item's link and its identity
    ("javascript:…" or a relative path is neither)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


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
            nodes.extend(_flatten(data))
        except (ValueError, RecursionError):  # (nested past Python's stack: as broken as bad syntax)
            continue  # a broken block on someone's page: the other sources still count
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


def _title(
    root: HtmlElement, ld: dict[str, Any], meta: dict[str, str], prop: dict[str, str], publisher: str | None
) -> str | None:
    """The article's own headline: the first candidate that another source of the page confirms, never a site name.

    JSON-LD's headline can be a metadata type ("Wikimedia list article") and og:title or <title> the site's
    name alone: a candidate counts when a different source (the <title>, og:title, the article's h1) holds it.
    """
    sites = _site_names(root, meta, publisher)
    tag = _title_tag(root)
    h1 = _article_h1(root)
    sources = {"ld": _text(ld.get("headline")), "name": _text(ld.get("name")) if ld else None,
               "og": meta.get("og:title"), "twitter": meta.get("twitter:title"), "micro": prop.get("headline"),
               "h1": h1, "tag": tag}
    candidates: list[tuple[str, str]] = []
    for key, value in sources.items():
        if value and key in ("og", "twitter", "tag"):  # where templates add the site's name
            value = _without_site(value, sites, sections=key == "tag")
        if value and value.casefold() not in sites:
            candidates.append((key, value))
    for key, value in candidates:
        folded = value.casefold()
        if any(other != key and text and folded in text.casefold() and 2 * len(folded) >= len(text)
               for other, text in sources.items() if other in ("og", "h1", "tag")):
            return value
    return candidates[0][1] if candidates else None


_SEPARATOR = re.compile(r"(\s+[|–—\-·•]\s+|\s*[|·•]\s*)")


def _without_site(text: str, sites: set[str], sections: bool = False) -> str:
    """A title without the ' | Site' trail that templates add (and, with sections, a <title>'s
    ' – Section – Site')."""
    pieces = _SEPARATOR.split(text)  # part, separator, part, ...
    if sections and len(pieces) >= 5 and len(pieces[0].split()) > 1:
        return pieces[0].strip()  # 'Headline - Section - Site'
    while len(pieces) >= 3 and pieces[-1].strip().casefold() in sites:
        pieces = pieces[:-2]
    return "".join(pieces).strip()


def _site_names(root: HtmlElement, meta: dict[str, str], publisher: str | None) -> set[str]:
    """The site's names: from its metadata, and the text of its links to its home page."""
    names = {meta.get("og:site_name"), meta.get("application-name"), meta.get("twitter:site"), publisher}
    for anchor in root.xpath("//a[@href='/' or @href='./' or @href='index.html']"):
        names.add(_clean(anchor.text_content()))
    return {n.casefold().lstrip("@") for n in names if n}


def _article_h1(root: HtmlElement) -> str | None:
    """The h1 inside the article (or the page's one h1); a page that marks every section with an h1 has none."""
    for scope in root.xpath("//article | //main | //*[@role='main']") or [root]:
        found = [_clean(h.text_content()) for h in scope.iter("h1")]
        found = [text for text in found if text]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def _title_tag(root: HtmlElement) -> str | None:
    for element in root.iter("title"):
        return _clean(element.text_content()) or None
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
