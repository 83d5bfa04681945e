"""Turn an Article into a Script: chapters of sentences, each with the text shown and the text spoken."""
from __future__ import annotations

import functools
import hashlib
import re
import threading
from typing import TYPE_CHECKING, Any, NamedTuple

from . import normalize
from .article import Article, cut_words, lede_title
from .lexicon import Lexicon
from .speechwords import words_for

if TYPE_CHECKING:
    from ..cache import Cache

CHAPTER_TITLE_LIMIT = 48
# A take longer than this is split at a clause, then a word: eSpeak and the cue list both want short ones.
SENTENCE_LIMIT = 400
_SPEAKABLE = re.compile(r"\w", re.UNICODE)


class Sentence(NamedTuple):
    text: str  # what the journalist wrote: shown in the transcript and the player
    spoken: str  # what the voice says


class Chapter(NamedTuple):
    kind: str  # "intro", "paragraph" or "appeal"
    title: str
    sentences: tuple[Sentence, ...]
    url: str | None = None
    line: int | None = None  # source line of the paragraph


class Script(NamedTuple):
    title: str
    language: str
    chapters: tuple[Chapter, ...]

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for chapter in self.chapters for s in chapter.sentences)


def as_json(script: Script) -> dict[str, Any]:
    """The script as plain data (`audio-edition script --json`)."""
    return {"title": script.title, "language": script.language, "chapters": [
        {**chapter._asdict(), "sentences": [sentence._asdict() for sentence in chapter.sentences]}
        for chapter in script.chapters
    ]}


def make_script(article: Article, lexicon: Lexicon | None = None, memo: Memo | None = None) -> Script:
    """Chapters: the intro, one per body paragraph, the appeal last; spoken forms through the normalizer and lexicon.

    With `memo`, a paragraph's sentences are remembered: a rebuild after an edit splits and
    normalizes the paragraphs that changed only."""

    def paragraph_sentences(text: str) -> tuple[Sentence, ...]:
        if memo is not None:
            return memo.sentences(text, article.language, lexicon)
        return _sentences(text, article.language, lexicon)

    chapters = [_intro(article, lexicon)]
    for paragraph in article.paragraphs:
        sentences = paragraph_sentences(paragraph.text)
        if sentences:
            title = paragraph.heading or cut_words(paragraph.text, CHAPTER_TITLE_LIMIT)
            chapters.append(Chapter("paragraph", title, sentences, line=paragraph.line))
    if article.appeal is not None:
        sentences = tuple(s for p in article.appeal.paragraphs for s in paragraph_sentences(p.text))
        if sentences:
            first_line = article.appeal.paragraphs[0].line if article.appeal.paragraphs else None
            chapters.append(Chapter("appeal", article.appeal.title, sentences, article.appeal.url, first_line))
    return Script(title=article.title, language=article.language, chapters=tuple(chapters))


# "By …", "From …" in the article's language (the voice reads the intro too).
_INTRO_WORDS = {"fr": ("Par", "De"), "ru": ("Автор:", "Источник:"), "de": ("Von", "Aus"), "es": ("Por", "De")}


def _intro(article: Article, lexicon: Lexicon | None = None) -> Chapter:
    by, from_ = _INTRO_WORDS.get(article.language.split("-")[0], ("By", "From"))
    parts: list[str] = []
    titled: tuple[Sentence, ...] = ()
    if article.title_given or not article.publisher:  # a title is spoken as sentences, as any other text is
        titled = _split(_end(article.title.rstrip("…")), article.language, lexicon)
    if article.byline:
        parts.append(_end(f"{by} {article.byline}"))
    source = f"{from_} {article.publisher}" if article.publisher else ""
    if article.date:
        source = f"{source}, {article.date}" if source else article.date
    if source:
        parts.append(_end(source))
    parts = [p for p in parts if _SPEAKABLE.search(p)]
    if not parts and not titled:  # a title of symbols only, and no publisher: open with the lede's first words
        parts = [_end(lede_title(article.paragraphs[0].text).rstrip("…"))]
    return Chapter("intro", article.title, titled + tuple(Sentence(p, _speech(p, article.language, lexicon)) for p in parts))


def _end(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _sentences(text: str, language: str, lexicon: Lexicon | None = None) -> tuple[Sentence, ...]:
    """A paragraph's sentences (what Memo remembers)."""
    return _split(text, language, lexicon)


def _split(text: str, language: str, lexicon: Lexicon | None = None) -> tuple[Sentence, ...]:
    """Sentences as the segmenter finds them, each bounded to SENTENCE_LIMIT characters."""
    out: list[Sentence] = []
    for piece in _joined(_segmenter(language.split("-")[0]).segment(text), language):
        for bounded in _bound(piece.strip(), SENTENCE_LIMIT):
            if _SPEAKABLE.search(bounded):
                out.append(Sentence(bounded, _speech(bounded, language, lexicon)))
    return tuple(out)


def _joined(pieces: list[str], language: str) -> list[str]:
    """The segmenter's sentences, each ending in an abbreviation that never ends one ("approx.", "Dr.") joined to the
    next: "approx. 300 people" is one sentence, not "approximately." then "three hundred people."."""
    run_on = words_for(language.split("-")[0].lower()).run_on
    if run_on is None:
        return pieces
    out: list[str] = []
    for piece in pieces:
        if out and run_on.search(out[-1].rstrip()):
            out[-1] += piece
        else:
            out.append(piece)
    return out


class Memo:
    """Paragraphs' sentences (shown and spoken) in the take cache, under a key of the paragraph, the
    language, the lexicon's entries and the code that makes them (cache.code_version). What is made is
    written by save(), which a build calls while the takes are spoken rather than before the first
    (what that saves: docs/performance.md)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._made: list[tuple[str, list[list[str]]]] = []
        self._lock = threading.Lock()

    def sentences(self, text: str, language: str, lexicon: Lexicon | None) -> tuple[Sentence, ...]:
        entry = self.entry(text, language, lexicon)
        found = self.cache.read_json("script", entry)
        if isinstance(found, list) and all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) for pair in found
        ):
            return tuple(Sentence(shown, spoken) for shown, spoken in found)
        made = _sentences(text, language, lexicon)
        with self._lock:
            self._made.append((entry, [[s.text, s.spoken] for s in made]))
        return made

    def save(self) -> None:
        """Write what was made since the last save."""
        with self._lock:
            made, self._made = self._made, []
        for entry, value in made:
            self.cache.write_json("script", entry, value)

    @staticmethod
    def entry(text: str, language: str, lexicon: Lexicon | None) -> str:
        from ..cache import code_version, key

        return key(paragraph=text, language=language, lexicon=_lexicon_id(lexicon), code=code_version())


@functools.lru_cache(maxsize=4)
def _lexicon_id(lexicon: Lexicon | None) -> str:
    return hashlib.sha256(repr(lexicon.entries).encode()).hexdigest() if lexicon is not None else ""


@functools.cache
def _segmenter(language: str) -> Any:
    import pysbd

    try:
        return pysbd.Segmenter(language=language, clean=False)
    except ValueError:  # pysbd knows ~20 languages; English rules are the safest elsewhere
        return pysbd.Segmenter(language="en", clean=False)


def _bound(text: str, limit: int) -> list[str]:
    """Split an over-long sentence at clause marks, else at spaces, else anywhere."""
    if len(text) <= limit:
        return [text] if text else []
    for pattern in (r"(?<=[;:])\s+", r"(?<=[,—–])\s+", r"\s+"):
        pieces = re.split(pattern, text)
        if len(pieces) > 1:
            chunks: list[str] = []
            current = ""
            for piece in pieces:
                candidate = f"{current} {piece}".strip()
                if len(candidate) > limit and current:
                    chunks.append(current)
                    current = piece
                else:
                    current = candidate
            chunks.append(current)
            if all(len(c) <= limit for c in chunks):
                return chunks
            return [part for c in chunks for part in _bound(c, limit)]
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def _speech(text: str, language: str = "en", lexicon: Lexicon | None = None) -> str:
    """The spoken form: numbers, money, dates and abbreviations in words, symbols as pauses (audio/text/normalize.py)."""
    return normalize.speak(text, language, lexicon).text


class Finding(NamedTuple):
    line: int | None  # the source line of the paragraph; None for the intro (the page's metadata)
    note: normalize.Note


def lint(script: Script, lexicon: Lexicon | None = None) -> tuple[Finding, ...]:
    """What the normalizer could not settle, sentence by sentence, with the paragraph's source line."""
    found: list[Finding] = []
    for chapter in script.chapters:
        for sentence in chapter.sentences:
            for note in normalize.speak(sentence.text, script.language, lexicon).notes:
                found.append(Finding(chapter.line, note))
    # The intro repeats the lede's first sentence when the title was cut from it: say each thing once, with its line.
    placed = {f.note for f in found if f.line is not None}
    return tuple(f for f in found if f.line is not None or f.note not in placed)
