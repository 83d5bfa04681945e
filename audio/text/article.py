"""Find the article in a Document: title, paragraphs, the publisher's appeal, and the residue to drop."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import TYPE_CHECKING, NamedTuple

import regex

from ..config import APPEAL_LIMIT, Config, normalize_tag
from ..errors import BadInput
from . import language as languages
from .source import STDIN, Document, without_controls

if TYPE_CHECKING:
    from . import html

TITLE_LIMIT = 80
# A title given whole (--title, a heading, the page's headline): long enough for any real headline,
# short enough for a feed item, a player's heading and one spoken sentence or two.
GIVEN_TITLE_LIMIT = 200
# A config pattern's time on one line: the defaults take microseconds.
PATTERN_SECONDS = 1.0
# Lists nested 100 deep (2 columns a level), quotes and code blocks inside them included.
MARKDOWN_INDENT_LIMIT = 200
MARKER_LIMIT = 120  # characters: an appeal's marker is a short line (a heading, a box's first line), never a paragraph
_WORD = re.compile(r"\w")


class Paragraph(NamedTuple):
    text: str
    line: int  # 1-based line of the source where it starts
    heading: str | None = None  # the section heading above it, if it opens a section


class Appeal(NamedTuple):
    title: str
    paragraphs: tuple[Paragraph, ...]
    url: str | None = None


class Article(NamedTuple):
    title: str
    title_given: bool  # False when cut from the lede: then the intro does not read it twice
    slug: str
    paragraphs: tuple[Paragraph, ...]
    appeal: Appeal | None
    residue: tuple[str, ...]
    publisher: str | None = None
    byline: str | None = None
    date: str | None = None
    language: str = "en"
    url: str | None = None


class ArticleOptions(NamedTuple):
    title: str | None = None
    slug: str | None = None
    appeal: Document | None = None  # --appeal-file
    no_appeal: bool = False
    language: str | None = None  # --lang: wins over the page's metadata and detection


class _Block(NamedTuple):
    """A paragraph-sized piece of the source, before the appeal is taken out."""

    text: str
    line: int
    heading_level: int = 0  # >0: a Markdown heading of that level
    rule: bool = False  # a Markdown thematic break (---)
    item: bool = False  # a page's list item


def parse(doc: Document, config: Config, options: ArticleOptions = ArticleOptions()) -> Article:
    """Split a Document into the article's paragraphs and its appeal; drop the residue."""
    if options.title is not None and not _is_unicode(options.title):
        raise BadInput("--title: is not valid UTF-8 text")
    markers = _compile(config.appeal_markers)
    residue_patterns = _compile(config.residue)
    page = _page(doc, markers, residue_patterns) if doc.format == "html" else None
    if page is not None:
        blocks = [_Block(b.text, b.line, heading_level=b.heading_level, item=b.item) for b in page.blocks]
    else:
        box = _Box(markers, residue_patterns)
        if doc.format == "md":
            _check_nesting(doc)
        blocks = _markdown_blocks(doc.text, box) if doc.format == "md" else _text_blocks(doc.text, box)

    kept: list[_Block] = []
    residue: list[str] = []
    for block in blocks:
        if residue_patterns.fullmatch(block.text):
            residue.append(block.text)
        else:
            kept.append(block)

    title: str | None = options.title if options.title is not None else page.meta.title if page else None
    if title is None and kept and kept[0].heading_level and not markers.fullmatch(kept[0].text):
        title = kept.pop(0).text

    body, appeal_blocks, marker_match = _take_appeal(kept, blocks, markers, residue_patterns)
    if page is not None and page.appeal:  # the page's appeal box, taken out of the body by the extractor
        appeal_blocks = [_Block(b.text, b.line, heading_level=b.heading_level) for b in page.appeal] + appeal_blocks
        marker_match = marker_match or markers.fullmatch(page.appeal[0].text)
    publisher = config.publisher or (marker_match.groupdict().get("publisher") if marker_match else None)
    if page is not None:
        publisher = publisher or page.meta.publisher

    paragraphs: list[Paragraph] = []
    heading: str | None = None
    for block in body:
        if block.rule:
            continue
        if block.heading_level:
            heading = block.text
            continue
        if not _WORD.search(block.text):
            continue  # "* * *", "—": nothing a voice can say
        paragraphs.append(Paragraph(block.text, block.line, heading))
        heading = None
    if not paragraphs:
        if any(_WORD.search(b.text) for b in body if not b.heading_level):
            raise BadInput(f"{doc.path}: no article paragraphs left after the appeal is removed")
        if appeal_blocks:
            raise BadInput(f"{doc.path}: no article paragraphs left after the appeal is removed")
        raise BadInput(f"{doc.path}: no words to read (only symbols or headings)")

    appeal: Appeal | None = None
    if options.appeal is not None:
        appeal = _appeal_from_file(options.appeal, config, markers, publisher)
    elif appeal_blocks and not options.no_appeal:
        opening = appeal_blocks[0].text
        appeal = Appeal(
            title=_appeal_title(opening, publisher) if markers.fullmatch(opening) or page is None
            else f"A Message from {publisher}" if publisher else "A Message from the Publisher",
            paragraphs=tuple(Paragraph(b.text, b.line) for b in appeal_blocks if not b.rule),
            url=config.donation_url or (page.appeal_url if page is not None else None),
        )
    if options.no_appeal:
        appeal = None

    given = title is not None
    return Article(
        title=given_title(title) or lede_title(paragraphs[0].text),
        title_given=given,
        slug=file_slug(doc, options.slug) or slugify(title or "article", doc.sha256),  # standard input: its title
        paragraphs=tuple(paragraphs),
        appeal=appeal,
        residue=tuple(residue),
        publisher=publisher,
        byline=page.meta.byline if page else None,
        date=page.meta.date if page else None,
        language=languages.choose(
            _language_option(options.language),
            page.meta.language if page else None,
            "\n".join(p.text for p in paragraphs),
            configured=config.language,
        ),
        url=page.meta.url if page else None,
    )


def _language_option(value: str | None) -> str | None:
    if value is None:
        return None
    tag = normalize_tag(value)
    if tag is None:
        raise BadInput(f"--lang '{value}': not a language tag (for example en, fr, pt-br)")
    return tag


def file_slug(doc: Document, slug: str | None = None) -> str | None:
    """--slug, else the file's name: the slug of an article read from a file, known without parsing it
    (None for standard input, whose slug comes from its title). A batch finds built editions by it."""
    if slug is None and doc.path == STDIN:
        return None
    return slugify(slug if slug is not None else doc.path.stem, doc.sha256)


def _page(doc: Document, markers: _Patterns, residue: _Patterns) -> html.Page:
    from . import html  # lxml and trafilatura: only for pages

    return html.extract(
        doc.text, str(doc.path), lambda text: markers.marker(text) is not None,
        lambda text: residue.fullmatch(text) is not None,
    )


def _take_appeal(
    kept: list[_Block], blocks: list[_Block], markers: _Patterns, residue: _Patterns
) -> tuple[list[_Block], list[_Block], regex.Match[str] | None]:
    """The appeal runs from its marker to the first residue line, the next heading as high, or the end.

    An appeal is a closing block of a few short paragraphs: a list item ("Support and mentor young
    engineers") never opens one, and a stretch longer than APPEAL_LIMIT is the article's own text."""
    for i, block in enumerate(kept):
        match = markers.marker(block.text) if not block.item else None
        if not match:
            continue
        end = len(kept)
        residue_after = [b.line for b in blocks if b.line > block.line and residue.fullmatch(b.text)]
        for j in range(i + 1, len(kept)):
            other = kept[j]
            if residue_after and other.line > residue_after[0]:
                end = j
                break
            if block.heading_level and other.heading_level and other.heading_level <= block.heading_level:
                end = j
                break
            if other.rule:
                end = j
                break
        if sum(len(b.text) for b in kept[i:end]) > APPEAL_LIMIT:
            continue
        return kept[:i] + kept[end:], kept[i:end], match
    return kept, [], None


def _appeal_title(marker_text: str, publisher: str | None) -> str:
    text = marker_text.strip().rstrip(":.,!").strip()
    if re.match(r"(?i)dear\b", text):
        return f"A Message from {publisher}" if publisher else "A Message from the Publisher"
    return text


def _appeal_from_file(doc: Document, config: Config, markers: _Patterns, publisher: str | None) -> Appeal:
    residue = _compile(config.residue)
    blocks = [b for b in _text_blocks(doc.text, _Box(markers, residue)) if not residue.fullmatch(b.text)]
    if not blocks:
        raise BadInput(f"{doc.path}: the appeal file has no text")
    first = markers.fullmatch(blocks[0].text)
    title = _appeal_title(blocks[0].text, publisher or (first.groupdict().get("publisher") if first else None))
    if not first:
        title = f"A Message from {publisher}" if publisher else "A Message from the Publisher"
    return Appeal(title=title, paragraphs=tuple(Paragraph(b.text, b.line) for b in blocks), url=config.donation_url)


class _Patterns:
    """Several whole-line patterns, tried in order (each may name its own groups). They come from a
    publisher's config, so each match runs under a time bound (the regex module's timeout): a
    pattern that backtracks without end, such as (a|aa)+$, is named instead of holding the build."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        compiled = []
        for pattern in patterns:
            try:
                compiled.append(regex.compile(pattern, regex.IGNORECASE | regex.VERSION0))
            except regex.error as exc:
                raise BadInput(f"config: pattern {pattern!r} does not compile: {exc}") from None
        self._compiled = tuple(compiled)

    def fullmatch(self, text: str) -> regex.Match[str] | None:
        for pattern in self._compiled:
            try:
                found = pattern.fullmatch(text, timeout=PATTERN_SECONDS)
            except TimeoutError:
                raise BadInput(
                    f"config: pattern {pattern.pattern!r} took more than {PATTERN_SECONDS:g} s on one line "
                    f"of {len(text):,} characters (it backtracks: simplify it)"
                ) from None
            if found:
                return found
        return None

    def marker(self, text: str) -> regex.Match[str] | None:
        """The match of a line short enough to be an appeal's marker (MARKER_LIMIT)."""
        return self.fullmatch(text) if len(text) <= MARKER_LIMIT else None


def _compile(patterns: tuple[str, ...]) -> _Patterns:
    return _Patterns(patterns)


class _Box:
    """Tells a box pasted from a page, one paragraph a line, from hard-wrapped prose, among lines that
    blank lines do not separate: it opens with an appeal's marker ("A Message from …:") and every line
    ends a sentence or a clause, or is residue (a button label such as "Share this article"), where
    wrapped prose breaks its lines mid-sentence. Its lines are then paragraphs of their own: so the
    appeal is found, and its button labels are never read."""

    _END = re.compile(r"[.,:;!?…\"'”’»)\]]$")

    def __init__(self, markers: _Patterns, residue: _Patterns) -> None:
        self.markers, self.residue = markers, residue

    def __call__(self, lines: list[str]) -> bool:
        return len(lines) > 1 and self.markers.marker(lines[0]) is not None and all(
            self._END.search(line) or self.residue.fullmatch(line) for line in lines)


def _text_blocks(text: str, box: _Box | None = None) -> list[_Block]:
    """Paragraphs separated by blank lines (lines joined, but for a pasted box: see _Box), or one
    paragraph per line when there are none."""
    lines = text.split("\n")
    has_blank_separators = any(not line.strip() for line in lines[1:-1]) and any(
        lines[i].strip() and lines[i + 1].strip() for i in range(len(lines) - 1)
    )
    blocks: list[_Block] = []
    if not has_blank_separators:
        return [_Block(_clean(line), n) for n, line in enumerate(lines, 1) if line.strip()]
    current: list[str] = []
    start = 0
    for n, line in enumerate(lines + [""], 1):
        if line.strip():
            if not current:
                start = n
            current.append(_clean(line))
        elif current:
            if box is not None and box(current):
                blocks += [_Block(part, start + k) for k, part in enumerate(current)]
            else:
                blocks.append(_Block(" ".join(current), start))  # (each line cleaned as it came)
            current = []
    return blocks


def _check_nesting(doc: Document) -> None:
    """Refuse Markdown indented past MARKDOWN_INDENT_LIMIT columns: the parser's time grows with the
    cube of list nesting (2,000 nested lists: 1.4 s; 10,000: 103 s), and no article nests that deep."""
    for number, line in enumerate(doc.text.split("\n"), 1):
        lead = line[: len(line) - len(line.lstrip(" \t>"))]
        if len(lead) * 4 > MARKDOWN_INDENT_LIMIT and len(lead.expandtabs(4)) > MARKDOWN_INDENT_LIMIT:
            raise BadInput(f"{doc.path}: line {number} is nested {len(lead.expandtabs(4))} columns deep, "
                           f"more than an article's Markdown (limit {MARKDOWN_INDENT_LIMIT})")


def _markdown_blocks(text: str, box: _Box | None = None) -> list[_Block]:
    """Markdown through a real parser: headings, paragraphs, list items; markup never survives.
    A paragraph that is a pasted box (see _Box) gives a block a line."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[_Block] = []
    level = 0
    for token in tokens:
        if token.type == "heading_open":
            level = int(token.tag[1])
        elif token.type == "heading_close":
            level = 0
        elif token.type == "hr":
            blocks.append(_Block("", (token.map or [0])[0] + 1, rule=True))
        elif token.type == "inline":
            lines: list[list[str]] = [[]]
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    lines[-1].append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    lines.append([])
            first = (token.map or [0])[0] + 1
            cleaned = [_clean("".join(parts)) for parts in lines]
            if not level and box is not None and box([line for line in cleaned if line]):
                blocks += [_Block(line, first + k) for k, line in enumerate(cleaned) if line]
            else:
                joined = _clean(" ".join(cleaned))
                if joined:
                    blocks.append(_Block(joined, first, heading_level=level))
        elif token.type in ("fence", "code_block"):
            continue  # code is never read aloud
    return blocks


def _is_unicode(text: str) -> bool:
    """False for lone surrogates: what Python makes of command-line bytes that are not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def given_title(title: str | None) -> str | None:
    """A title from --title, a heading or the page, cut at a word to GIVEN_TITLE_LIMIT characters
    (a 100,000-character headline is shown, and spoken, as its start); None if nothing is left."""
    if title is None:
        return None
    cleaned = cut_words(without_controls(title[: GIVEN_TITLE_LIMIT * 4]), GIVEN_TITLE_LIMIT)
    return cleaned or None


def lede_title(lede: str) -> str:
    """The lede's first sentence, cut at a word boundary to at most TITLE_LIMIT characters."""
    first = re.split(r"(?<=[.!?])\s+", lede, maxsplit=1)[0].strip()
    return cut_words(first, TITLE_LIMIT)


def cut_words(text: str, limit: int) -> str:
    text = _clean(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


def slugify(name: str, fallback_seed: str) -> str:
    """A filesystem- and URL-safe slug; names with no Latin letters get a stable hashed one."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80].strip("-")
    if not slug:
        # (surrogatepass: a file name or --slug of bytes that are not UTF-8 reaches here as lone surrogates)
        slug = "article-" + hashlib.sha256((name + fallback_seed).encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return slug

