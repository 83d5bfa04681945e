"""Find the article in a saved web page: page furniture out, the appeal box set aside, the body through trafilatura."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from itertools import islice
from typing import NamedTuple
from urllib.parse import urljoin

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from ..errors import BadInput
from .htmlmeta import PageMeta, read_meta

log = logging.getLogger(__name__)

Matcher = Callable[[str], bool]

# Never read: code, forms, media, and the page's own navigation.
_DROP_TAGS = (
    "script", "style", "noscript", "template", "nav", "form", "button", "input", "select", "textarea", "iframe",
    "svg", "canvas", "figure", "figcaption", "picture", "video", "audio", "object", "embed", "dialog", "menu",
    "aside", "footer", "label",
)
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu"}
# Class or id words (split at - and _) of page furniture: share bars, captions, related links, comments, ads.
_FURNITURE_WORDS = {
    "share", "sharing", "sharedaddy", "social", "related", "relatedposts", "readmore", "comments", "comment",
    "newsletter", "signup", "ad", "ads", "advert", "advertisement", "promo", "sponsored", "caption", "credit",
    "breadcrumb", "breadcrumbs", "tags", "cookie", "cookies", "sidebar", "widget", "popular", "bio", "pagination",
    "onward", "submeta", "kicker", "toolbar", "subscribe", "paywall", "recirculation", "outbrain", "taboola",
}
_FURNITURE_PREFIXES = ("share", "social", "related", "comment", "advert", "newsletter", "breadcrumb", "most-read")
# Words in a class, id or aria-label that mark the publisher's appeal box.
_APPEAL_WORDS = {
    "donate", "donation", "donations", "support", "supporter", "membership", "contribute", "contribution",
    "contributions", "contributor", "patron", "fundraising",
}
_APPEAL_LINK = re.compile(r"(?i)donat|give|support|contribut|member|patreon|subscri|fund|pay")
# A standfirst (the line under the headline) is the journalist's text, but extractors leave it out.
_STANDFIRST_WORDS = {"standfirst", "dek", "lead", "lede", "subtitle", "subheadline", "subhead", "summary", "excerpt", "teaser"}
# "Read more" lines between paragraphs, in the languages of our fixtures and the most common others.
_READ_MORE = re.compile(
    r"(?i)^\s*(?:read more|read also|related|see also|more on this|lire aussi|à lire aussi|voir aussi|"
    r"читайте также|читайте в тему|по теме|اقرأ أيضا|اقرأ أيضاً|lesen sie auch|mehr zum thema|leer más|lee también|"
    r"leggi anche|leia também|czytaj także)\b[\s:.\-–—]*"
)
# Bounds that keep a huge page's time and memory in check (a 12 MB page with 75,000 comments has ~160,000 elements).
ELEMENT_LIMIT = 400_000
ARTICLE_ELEMENT_LIMIT = 60_000
TEXT_LIMIT = 1_000_000  # characters left after the furniture is gone: about 20 hours of speech
APPEAL_LIMIT = 3000  # characters: appeals are a few short paragraphs
_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "dd", "pre", "td")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w")


class Block(NamedTuple):
    text: str
    line: int  # source line where its element starts
    heading_level: int = 0


class Page(NamedTuple):
    meta: PageMeta
    blocks: tuple[Block, ...]  # the article body in reading order, headings included
    appeal: tuple[Block, ...]  # the appeal box's text, taken out of the body
    appeal_url: str | None


def extract(text: str, name: str, is_marker: Matcher, is_residue: Matcher) -> Page:
    """The article body, metadata and appeal of one page; a page with no article is BadInput."""
    root = parse_page(text, name)
    _bound(root, ELEMENT_LIMIT, name, "elements")
    meta = read_meta(root)
    strip_code(root)
    appeal, appeal_url = take_appeal(root, is_marker, is_residue, meta.url)
    standfirst = _standfirst(root, meta.title)
    strip_furniture(root)
    # The extractor's time grows with what is left: refuse a page that is no article before it starts.
    _bound(root, ARTICLE_ELEMENT_LIMIT, name, "elements besides its navigation, comments and furniture")
    length = len(root.text_content())
    if length > TEXT_LIMIT:
        raise BadInput(f"{name}: the page holds {length:,} characters of text, more than an article (limit {TEXT_LIMIT:,})")
    lines = _line_index(root)
    blocks = [b for b in _trafilatura_blocks(root, lines) if not (b.heading_level and b.text == meta.title)]
    if standfirst is not None and all(b.text != standfirst.text for b in blocks):
        blocks.insert(0, standfirst)
    if not any(not b.heading_level and _WORD.search(b.text) for b in blocks):
        raise BadInput(f"{name}: no article text found in the page (is it an article page?)")
    return Page(meta=meta, blocks=tuple(blocks), appeal=tuple(appeal), appeal_url=appeal_url)


def _bound(root: HtmlElement, limit: int, name: str, what: str) -> None:
    count = sum(1 for _ in islice(root.iter(), limit + 1))
    if count > limit:
        raise BadInput(f"{name}: the page has more than {limit:,} {what}; it is not an article page we can read")


def parse_page(text: str, name: str) -> HtmlElement:
    # lxml refuses str input that still declares its byte encoding; the text is decoded already.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text[:1000]) + text[1000:]
    parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise BadInput(f"{name}: not a readable HTML page ({exc})") from None
    if root is None:
        raise BadInput(f"{name}: not a readable HTML page")
    return root


def strip_code(root: HtmlElement) -> None:
    """Scripts, styles and hidden elements go first: none of them is ever read."""
    _drop(e for e in root.iter("script", "style", "noscript", "template", "svg"))
    _drop(e for e in root.xpath("descendant::*[@hidden or @aria-hidden or @style]") if _hidden(e))


def strip_furniture(root: HtmlElement) -> None:
    """Navigation, forms, captions, share bars, comments, ads and "read more" lines.

    Candidates are picked in C (by tag, by attribute, by short text) so that a page of
    hundreds of thousands of plain elements costs little Python time.
    """
    body_length = len(root.text_content())
    chosen = list(root.iter(*_DROP_TAGS))
    for element in root.xpath("descendant::*[@role or @class or @id]"):
        if element.tag in ("html", "body", "main", "article"):
            continue
        if (element.get("role") or "").lower() in _DROP_ROLES:
            chosen.append(element)
            continue
        words = _words(element)
        if words & _FURNITURE_WORDS or any(w.startswith(_FURNITURE_PREFIXES) for w in words):
            # A class on a wrapper of the whole page ("showing-comments") must not take the article with it.
            if len(element.text_content()) < body_length / 2:
                chosen.append(element)
    for text in root.xpath("descendant::text()[string-length(normalize-space(.)) < 60]"):
        if _READ_MORE.match(text):
            block = _read_more_block(text.getparent().getparent() if text.is_tail else text.getparent())
            if block is not None:
                chosen.append(block)
    _drop(chosen)


def _read_more_block(element: HtmlElement | None) -> HtmlElement | None:
    """The largest block around a "Read more:" label that is only the label and its link."""
    found = None
    while element is not None and element.tag not in ("html", "body", "main", "article"):
        text = element.text_content()
        if len(text) >= 300 or not _READ_MORE.match(text):
            break
        if element.tag in ("p", "div", "section", "li", "ul", "aside", "span"):
            found = element
        element = element.getparent()
    return found


def take_appeal(
    root: HtmlElement, is_marker: Matcher, is_residue: Matcher, base_url: str | None
) -> tuple[list[Block], str | None]:
    """Take every appeal box out of the page; the first one's text and donate link become the appeal."""
    boxes: list[HtmlElement] = []
    page_length = len(_text(root))
    # One axis step, not a union of paths: libxml2 merges unions in quadratic time.
    candidates = root.xpath(
        "descendant::*[self::div or self::section or self::aside or self::dialog or self::form or self::h2"
        " or self::h3 or self::h4 or self::h5 or self::h6 or self::p or self::strong or self::b]"
    )
    for element in candidates:
        if any(element is b or _inside(element, b) for b in boxes):
            continue
        box = _appeal_box(element, is_marker)
        # An appeal is a box beside the article, never most of the page (a body that opens with "Support for...").
        if box is not None and len(_text(box)) > min(APPEAL_LIMIT, page_length / 3):
            continue
        if box is not None and not any(_inside(b, box) for b in boxes):
            boxes = [b for b in boxes if not _inside(b, box)] + [box]
    if not boxes:
        return [], None
    first = boxes[0]
    url = _donate_link(first, base_url)
    for control in first.xpath(".//button | .//a[contains(@class, 'button') or contains(@class, 'btn')]"):
        control.drop_tree()
    blocks = [
        b for b in _element_blocks(first)
        if not is_residue(b.text) and _WORD.search(b.text)
    ]
    _drop(boxes)
    return blocks, url


def _appeal_box(element: HtmlElement, is_marker: Matcher) -> HtmlElement | None:
    if element.tag in ("html", "body", "main", "article", "head"):
        return None
    if element.tag in ("div", "section", "aside", "dialog", "form") and _words(element, aria=True) & _APPEAL_WORDS:
        return element if len(_text(element)) >= 60 else None
    if element.tag in ("h2", "h3", "h4", "h5", "h6", "p", "strong", "b"):
        raw = element.text_content()
        if len(raw) > 240:
            return None  # cheap refusal: markers are short
        marker = _SPACES.sub(" ", raw).strip()
        if not marker or not is_marker(marker):  # (is_marker refuses lines longer than a marker is)
            return None
        box = element
        while True:
            parent = box.getparent()
            if parent is None or parent.tag in ("html", "body", "main", "article") or not _text(parent).startswith(marker):
                break
            box = parent
        if box is not element and len(_text(box)) >= len(marker) + 40:
            return box
    return None


def _donate_link(box: HtmlElement, base_url: str | None) -> str | None:
    links: list[tuple[str, str]] = []
    for anchor in box.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(base_url or "", href)
        if url.startswith(("http://", "https://")):
            links.append((url, _text(anchor)))
    for url, label in links:
        if _APPEAL_LINK.search(url) or _APPEAL_LINK.search(label):
            return url
    return links[0][0] if links else None


def _standfirst(root: HtmlElement, title: str | None) -> Block | None:
    """The short paragraph right under the headline, marked as such by its class."""
    headline = next(root.iter("h1"), None)
    if headline is None:
        return None
    for element in headline.itersiblings():
        candidates = [element, *element.iter("p")] if isinstance(element.tag, str) else []
        for candidate in candidates:
            if _words(candidate) & _STANDFIRST_WORDS:
                text = _text(candidate)
                if 20 <= len(text) <= 400 and text != title:
                    return Block(text, candidate.sourceline or 1)
        if isinstance(element.tag, str) and element.tag == "p" and len(_text(element)) > 200:
            break  # the body has begun
    return None


def _trafilatura_blocks(root: HtmlElement, lines: dict[str, int]) -> list[Block]:
    import trafilatura

    xml = trafilatura.extract(
        root, output_format="xml", include_comments=False, include_tables=False, include_images=False,
        include_links=False, include_formatting=False, with_metadata=False, deduplicate=False,
    )
    if not xml:
        return []
    doc = lxml.etree.fromstring(xml.encode("utf-8"), parser=lxml.etree.XMLParser(huge_tree=True))
    main = doc.find("main")
    blocks: list[Block] = []
    last_line = 1
    for element in main.iter("p", "head", "item", "quote", "cell") if main is not None else ():
        if element.tag == "quote" and element.find(".//p") is not None:
            continue  # its paragraphs come on their own
        text = _SPACES.sub(" ", "".join(str(t) for t in element.itertext())).strip()
        if not text:
            continue
        line = lines.get(text) or lines.get(text[:60]) or last_line
        last_line = line
        level = 0
        if element.tag == "head":
            rend = element.get("rend") or "h2"
            level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
        blocks.append(Block(text, line, level))
    return blocks


def _element_blocks(box: HtmlElement) -> list[Block]:
    """Paragraph-sized text of one element (an appeal box), headings marked."""
    blocks: list[Block] = []
    for element in box.iter(*_BLOCK_TAGS):
        if any(a.tag in _BLOCK_TAGS for a in element.iterancestors()):
            continue
        text = _text(element)
        if text:
            level = int(element.tag[1]) if re.fullmatch(r"h[1-6]", str(element.tag)) else 0
            blocks.append(Block(text, element.sourceline or 1, level))
    if not blocks and _text(box):
        blocks.append(Block(_text(box), box.sourceline or 1))
    return blocks


def _line_index(root: HtmlElement) -> dict[str, int]:
    """Source line of each block's text (and of its first 60 characters), for the script's line numbers."""
    lines: dict[str, int] = {}
    for element in root.iter(*_BLOCK_TAGS, "div"):
        if element.tag == "div" and not (element.text or "").strip():
            continue  # a wrapper: its text is its children's
        text = _text(element)
        if text and element.sourceline:
            lines.setdefault(text, element.sourceline)
            lines.setdefault(text[:60], element.sourceline)
    return lines


def _words(element: HtmlElement, aria: bool = False) -> set[str]:
    value = f"{element.get('class') or ''} {element.get('id') or ''}"
    if aria:
        value += f" {element.get('aria-label') or ''}"
    return set(re.split(r"[^a-z0-9]+", value.lower())) - {""}


def _hidden(element: HtmlElement) -> bool:
    if not isinstance(element.tag, str) or element.tag in ("html", "body"):
        return False
    if element.get("hidden") is not None or (element.get("aria-hidden") or "").lower() == "true":
        return True
    style = (element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _text(element: HtmlElement) -> str:
    return _SPACES.sub(" ", element.text_content()).strip()


def _inside(element: HtmlElement, container: HtmlElement) -> bool:
    return any(a is container for a in element.iterancestors())


def _drop(elements: Iterable[HtmlElement]) -> None:
    """Remove elements (their tail text stays); collected first, since the tree must not change while walked."""
    chosen = list(elements)
    gone: set[int] = set()
    for element in chosen:
        if any(id(a) in gone for a in element.iterancestors()):
            continue
        gone.add(id(element))
    for element in chosen:
        parent = element.getparent()
        if id(element) not in gone or parent is None:
            continue
        if element.tail and element.tail.strip():
            element.drop_tree()  # keeps the words after it
        else:
            parent.remove(element)  # drop_tree would pile up whitespace tails: quadratic on big pages
