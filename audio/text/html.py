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

from ..config import APPEAL_LIMIT
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
    # reference and footnote lists, and what a page itself marks as not for print (edit links, navigation boxes)
    "references", "reflist", "refbegin", "footnotes", "footnote", "endnotes", "noprint", "editsection", "catlinks",
    "navbox", "headerlink",
}
_FURNITURE_PREFIXES = ("share", "social", "related", "comment", "advert", "newsletter", "breadcrumb", "most-read")
# Words in a class, id or aria-label that mark the publisher's appeal box.
_APPEAL_WORDS = {
    "donate", "donation", "donations", "support", "supporter", "membership", "contribute", "contribution",
    "contributions", "patron", "fundraising",
}  # not "contributor": a contributor writes or edits ("Become a Fandom Contributor!"), a contribution is money
# What an appeal box's own text says: a class word alone also names tooltips and author cards.
_APPEAL_TEXT = re.compile(r"(?i)donat|support|contribution|member|subscri|patron|fund|\bgive\b|\bgift")
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
_PERMALINK = re.compile(r"\s*[¶§#🔗⚓]\s*")
_NOTE_MARK = re.compile(r"\[(?:\d{1,3}|[a-z]|note \d{1,3}|nb \d{1,3})\]", re.IGNORECASE)
_TEX = re.compile(r"[\\{}^_]")
_MATH_LAYOUT = ("msup", "msub", "msubsup", "mfrac", "msqrt", "mroot", "munder", "mover", "munderover", "mtable",
                "mmultiscripts")
# Elements whose text belongs to the container around them (see _scores).
_PASS_THROUGH = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "dfn", "em", "font", "i", "kbd", "mark", "q", "s",
    "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr", "p", "li", "ul", "ol", "dl", "dd",
    "dt", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "td",
    "th", "caption",
})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "dd", "pre", "td")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w")


class Block(NamedTuple):
    text: str
    line: int  # source line where its element starts
    heading_level: int = 0
    item: bool = False  # a list item: one line of a list, never the opening of an appeal


class Page(NamedTuple):
    meta: PageMeta
    blocks: tuple[Block, ...]  # the article body in reading order, headings included
    appeal: tuple[Block, ...]  # the appeal box's text, taken out of the body
    appeal_url: str | None


def extract(text: str, name: str, is_marker: Matcher, is_residue: Matcher) -> Page:
    """The article body, metadata and appeal of one page; a page with no article is BadInput."""
    root = parse_page(text, name)
    _bound(root, ELEMENT_LIMIT, name, "elements")
    strip_permalinks(root)
    meta = read_meta(root)
    speak_math(root)
    strip_code(root)
    core = text_core(root)
    appeal, appeal_url = take_appeal(root, is_marker, is_residue, meta.url, core)
    standfirst = _standfirst(root, meta.title)
    strip_furniture(root, core)
    announce_tables(root)
    # The extractor's time grows with what is left: refuse a page that is no article before it starts.
    _bound(root, ARTICLE_ELEMENT_LIMIT, name, "elements besides its navigation, comments and furniture")
    length = len(root.text_content())
    if length > TEXT_LIMIT:
        raise BadInput(f"{name}: the page holds {length:,} characters of text, more than an article (limit {TEXT_LIMIT:,})")
    lines = _line_index(root)
    page_text = _text(root)
    core_length = _scores(core).get(core, 0) if core is not None else 0
    blocks = _trafilatura_blocks(root, lines)
    documents = _prose_pre(core)
    if documents and sum(len(b.text) for b in blocks) < core_length / 2 <= sum(len(_text(p)) for p in documents):
        blocks = _preformatted_blocks(documents)  # a document in <pre>: extractors take it for code
    blocks = _once([b for b in blocks if not (b.heading_level and b.text == meta.title)], page_text)
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


def strip_permalinks(root: HtmlElement) -> None:
    """Permalink anchors beside headings ("Caching builds¶"): a symbol that links to its own section."""
    _drop(a for a in root.xpath("descendant::a[starts-with(@href, '#')]") if _PERMALINK.fullmatch(a.text_content()))


def speak_math(root: HtmlElement) -> None:
    """Each formula becomes words: its text alternative, a simple one's own symbols, else "a formula".

    Left in place, a formula's markup cut its sentence or left a hole in it; and where a page hides
    its MathML behind an image (a wiki's rendering), the hidden wrapper goes with it."""
    for math in list(root.iter("math")):
        spoken = _spoken_math(math)
        target = math
        # Up through the wrappers that hide it or pair it with a fallback image: the words replace them all.
        while (parent := target.getparent()) is not None and parent.tag in ("span", "div") and (
            _hidden(parent) or all(c is target or c.tag == "img" for c in parent)
        ):
            target = parent
        _replace_with_text(target, f" {spoken} ")


def _spoken_math(math: HtmlElement) -> str:
    alt = _SPACES.sub(" ", math.get("alttext") or "").strip()
    if alt and not _TEX.search(alt):
        return alt
    for annotation in math.iter("annotation"):
        text = _text(annotation)
        if text and not _TEX.search(text):
            return text
    if not any(True for _ in math.iter(*_MATH_LAYOUT)):
        tokens = [_text(e) for e in math.iter("mi", "mn", "mo", "mtext")]
        spoken = " ".join(t for t in tokens if t)
        if spoken and len(spoken) <= 40:
            return spoken
    return "a formula"


def _replace_with_text(element: HtmlElement, text: str) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    words = text.rstrip() + tail if tail[:1] in tuple(",.;:!?)") else text + tail
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + words
    else:
        parent.text = (parent.text or "") + words
    parent.remove(element)


def text_core(root: HtmlElement) -> HtmlElement | None:
    """The element that holds most of the page's own text: its paragraphs' container, not counting link text.

    Link text is left out so that an archive or a menu of long titles never outweighs a post whose
    paragraphs are bare text between <br>s; furniture and readers' comments are never the core."""
    scores = _scores(root)
    for element in sorted(scores, key=lambda e: scores[e], reverse=True):
        # Readers' comments can outweigh a short article: they are never its core.
        if not _furniture(_words(element)) and not any(
            w.startswith("comment") for a in element.iterancestors() for w in _words(a)
        ):
            return element
    return None


def _scores(root: HtmlElement) -> dict[HtmlElement, int]:
    """Text (not in links) owned by each container: text in paragraphs, lists and inline markup counts for the
    nearest element around them that is none of these."""
    scores: dict[HtmlElement, int] = {}

    def add(start: HtmlElement | None, length: int) -> None:
        element = start
        while element is not None and element.tag in _PASS_THROUGH:
            if element.tag == "a":
                return
            element = element.getparent()
        if element is not None:
            scores[element] = scores.get(element, 0) + length

    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.text and (length := len(element.text.strip())):
            add(element, length)
        if element.tail and element is not root and (length := len(element.tail.strip())):
            add(element.getparent(), length)
    return scores


def announce_tables(root: HtmlElement) -> None:
    """A data table is not read aloud, cell after cell: it is announced ("A table of 144 rows follows, not
    read aloud."). A table whose cells hold paragraphs (a page laid out in a table) is left to be read."""
    for table in list(root.iter("table")):
        if table.find(".//table") is not None or table.getparent() is None:
            continue
        rows = [[c for c in r if isinstance(c.tag, str) and c.tag in ("td", "th")] for r in table.iter("tr")]
        cells = [c for row in rows for c in row]
        if len(rows) < 2 or max(len(row) for row in rows) < 2:
            continue
        lengths = [(len(_text(c)), c.find(".//p") is not None) for c in cells]
        if 2 * sum(n for n, paragraph in lengths if paragraph or n > 200) > sum(n for n, _ in lengths):
            continue  # most of its text in paragraphs: a layout
        count = sum(1 for row in rows if any(c.tag == "td" for c in row))
        caption = next((_text(c) for c in table.iter("caption")), "")
        words = f"A table of {count} row{'s' if count != 1 else ''} follows, not read aloud"
        announcement = lxml.html.Element("p")
        announcement.text = f"{words}: {caption.rstrip('.')}." if caption else f"{words}."
        announcement.tail = table.tail
        table.getparent().replace(table, announcement)


def strip_code(root: HtmlElement) -> None:
    """Scripts, styles and hidden elements go first: none of them is ever read."""
    _drop(e for e in root.iter("script", "style", "noscript", "template", "svg"))
    _drop(e for e in root.xpath("descendant::*[@hidden or @aria-hidden or @style]") if _hidden(e))


def strip_furniture(root: HtmlElement, core: HtmlElement | None = None) -> None:
    """Navigation, forms, captions, share bars, comments, ads, reference lists and "read more" lines.

    Candidates are picked in C (by tag, by attribute, by short text) so that a page of
    hundreds of thousands of plain elements costs little Python time. The text's core
    (see text_core) and its ancestors are never furniture, whatever their class says.
    """
    body_length = len(root.text_content())
    # The elements themselves are held, not their id(): lxml makes a new proxy (and id) for an unreferenced node.
    kept = set([core, *core.iterancestors()] if core is not None else [])
    chosen = [e for e in root.iter(*_DROP_TAGS) if e not in kept]
    # Footnote markers in the text ("[12]"): their lists are dropped, and a voice reading "[12]" says nothing useful.
    chosen += [e for e in root.iter("sup") if _NOTE_MARK.fullmatch(_text(e))]
    for element in root.xpath("descendant::*[@role or @class or @id]"):
        if element.tag in ("html", "body", "main", "article") or element in kept:
            continue
        if (element.get("role") or "").lower() in _DROP_ROLES:
            chosen.append(element)
            continue
        words = _words(element)
        if _furniture(words) and not (element.get("id") and _is_section_anchor(element, element.get("id") or "")
                                      and not _furniture(_words(element, anchor_ids=False))):
            # A class on a wrapper of the whole page ("showing-comments") must not take the article with it.
            if len(element.text_content()) < body_length / 2:
                chosen.append(element)
    chosen += [e for e in root.xpath("descendant::li[img or picture] | descendant::div[img or picture]")
               if e not in kept and _is_caption(e)]
    for text in root.xpath("descendant::text()[string-length(normalize-space(.)) < 60]"):
        if _READ_MORE.match(text):
            block = _read_more_block(text.getparent().getparent() if text.is_tail else text.getparent())
            if block is not None:
                chosen.append(block)
    _drop(chosen)
    # The extractor has furniture rules of its own, by the same words: a section's anchor id ("sharing-a-cache")
    # is its heading's slug, not a role, so it is not shown to the extractor.
    for element in root.xpath("descendant::*[@id][h1 or h2 or h3 or h4 or h5 or h6 or self::h1 or self::h2 or self::h3"
                              " or self::h4 or self::h5 or self::h6]"):
        if _is_section_anchor(element, element.get("id") or ""):
            del element.attrib["id"]


def _is_caption(element: HtmlElement) -> bool:
    """An image and one short line beside it, and nothing else: a caption (a card has a heading too)."""
    children = [c for c in element if isinstance(c.tag, str)]
    texts = [c for c in children if c.tag not in ("img", "picture", "a", "br")]
    return (len(texts) == 1 and texts[0].tag in ("p", "span", "div", "small") and 0 < len(_text(texts[0])) <= 200
            and not (element.text or "").strip() and not any(t.tag in _HEADINGS for t in texts[0].iter()))


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
    root: HtmlElement, is_marker: Matcher, is_residue: Matcher, base_url: str | None,
    core: HtmlElement | None = None,
) -> tuple[list[Block], str | None]:
    """Take every appeal box out of the page; the first one's text and donate link become the appeal.

    An appeal stands in or after the article's text, or outside the article: a box in the article's head,
    before its text begins (a tooltip by the byline), is not one."""
    boxes: list[HtmlElement] = []
    page_length = len(_text(root))
    body = _article_element(core)
    # The article's first paragraph: the first block of the core's own text.
    opening = next((c for c in core.iterchildren() if c.tag in _PASS_THROUGH and _text(c)), None) if core is not None \
        else None
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
        if box is not None and opening is not None and body is not None and _inside(box, body) \
                and _before(box, opening):
            continue  # in the article's head, before its text: a byline's tooltip, an author's card
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
        text = _text(element)
        return element if len(text) >= 60 and _APPEAL_TEXT.search(text) else None
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


def _article_element(core: HtmlElement | None) -> HtmlElement | None:
    """The element the article's text lives in: the <article> or <main> around the core, else the core."""
    if core is None:
        return None
    for element in [core, *core.iterancestors()]:
        if element.tag in ("article", "main") or (element.get("role") or "").lower() in ("main", "article"):
            return element
    return core


def _before(first: HtmlElement, second: HtmlElement) -> bool:
    """Whether first comes before second in the document (neither holding the other)."""
    path = [first, *first.iterancestors()]
    for element in [second, *second.iterancestors()]:
        parent = element.getparent()
        if parent is not None and parent in path:
            if parent is first:
                return False  # first holds second
            branch = path[path.index(parent) - 1]
            return bool(parent.index(branch) < parent.index(element))
    return False


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
    while (parent := headline.getparent()) is not None and parent.tag == "div" and len(parent) == 1:
        headline = parent  # a headline in its own wrapper: the standfirst is the wrapper's neighbour
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
    # Each block is read from its own text only: a list item holding a heading and a paragraph (a feature
    # card) or a definition holding paragraphs gives those, once each, never their text glued together too.
    for element in main.iter(*_EMITTED) if main is not None else ():
        level = 0
        if element.tag == "head":
            rend = element.get("rend") or "h2"
            level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
        for segment in _own_segments(element):
            text = _SPACES.sub(" ", segment).strip()
            if not text:
                continue
            line = lines.get(text) or lines.get(text[:60]) or last_line
            last_line = line
            blocks.append(Block(text, line, level, element.tag == "item"))
    return blocks


_EMITTED = ("p", "head", "item", "quote", "cell")
_SENTENCE_END = re.compile(r"[.!?…:;\"'”’»)]$")


def _own_segments(element: lxml.etree._Element) -> list[str]:
    """The element's text without that of the emitted blocks inside it, split where a line break follows
    the end of a sentence (paragraphs written as text between <br>s, as blog posts often are)."""
    segments = [""]

    def walk(node: lxml.etree._Element) -> None:
        segments[-1] += node.text or ""
        for child in node:
            if child.tag == "lb":
                if _SENTENCE_END.search(segments[-1].strip()):
                    segments.append("")
                else:
                    segments[-1] += " "
            elif child.tag not in _EMITTED:
                walk(child)
            segments[-1] += child.tail or ""

    walk(element)
    return segments


def _prose_pre(core: HtmlElement | None) -> list[HtmlElement]:
    """The core's <pre> elements that hold prose, not code (no <code> inside, no highlighter's class)."""
    if core is None:
        return []
    return [pre for pre in core.iter("pre") if pre.find(".//code") is None
            and not any(w in _CODE_WORDS or w.startswith("language") for e in (pre, pre.getparent())
                        if e is not None for w in _words(e))]


_CODE_WORDS = {"highlight", "code", "sourcecode", "codehilite", "prettyprint", "hljs", "shiki", "console", "terminal"}


def _preformatted_blocks(documents: list[HtmlElement]) -> list[Block]:
    """A plain-text document inside <pre> (an RFC, a draft): paragraphs at blank lines, wrapped lines joined.

    A line alone, not indented and not ending a sentence, is a section heading; lines centred far in are
    the document's title; lines in columns (the page headers and footers "Okafor  Expires …  [Page 1]")
    are not read."""
    blocks: list[Block] = []
    for pre in documents:
        start = pre.sourceline or 1
        group: list[tuple[int, str]] = []
        lines = pre.text_content().replace("\f", "\n").split("\n")
        for number, line in enumerate([*lines, ""]):
            if line.strip():
                group.append((start + number, line.rstrip()))
                continue
            if not group:
                continue
            texts = [text for _, text in group]
            first_line = group[0][0]
            group = []
            if sum(1 for text in texts if _COLUMNS.search(text.strip())) * 2 > len(texts):
                continue
            joined = _SPACES.sub(" ", " ".join(texts)).strip()
            if all(len(text) - len(text.lstrip()) >= 10 for text in texts):
                blocks.append(Block(joined, first_line, 1))
            elif len(texts) == 1 and not texts[0][0].isspace() and len(joined) <= 80 \
                    and not _SENTENCE_END.search(joined):
                blocks.append(Block(joined, first_line, 2))
            else:
                blocks.append(Block(joined, first_line))
    return blocks


_COLUMNS = re.compile(r"\S {3,}\S")


def _once(blocks: list[Block], page_text: str) -> list[Block]:
    """No paragraph read twice, unless the page's own text holds it twice."""
    seen: dict[str, int] = {}
    kept: list[Block] = []
    for block in blocks:
        count = seen.get(block.text, 0)
        if count and not block.heading_level and page_text.count(block.text) <= count:
            continue
        seen[block.text] = count + 1
        kept.append(block)
    return kept


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


def _words(element: HtmlElement, aria: bool = False, anchor_ids: bool = True) -> set[str]:
    """Words of its class and id (and aria-label); an id made from its own heading ("sharing-a-cache") names
    a section of the text, not furniture, unless anchor_ids."""
    ident = element.get("id") or ""
    if ident and not anchor_ids and _is_section_anchor(element, ident):
        ident = ""
    value = f"{element.get('class') or ''} {ident}"
    if aria:
        value += f" {element.get('aria-label') or ''}"
    return set(re.split(r"[^a-z0-9]+", value.lower())) - {""}


def _furniture(words: set[str]) -> bool:
    return bool(words & _FURNITURE_WORDS) or any(w.startswith(_FURNITURE_PREFIXES) for w in words)


def _is_section_anchor(element: HtmlElement, ident: str) -> bool:
    heading = element if element.tag in _HEADINGS else next(element.iterchildren(*_HEADINGS), None)
    if heading is None:
        return False
    slug = re.sub(r"[^a-z0-9]+", "-", _text(heading).lower()).strip("-")
    return bool(slug) and slug == re.sub(r"[^a-z0-9]+", "-", ident.lower()).strip("-")


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
