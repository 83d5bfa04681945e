"""Turn an Article into a Script: chapters of sentences, each with the text shown and the text spoken."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from .article import Article, cut_words, lede_title
from .source import without_controls

CHAPTER_TITLE_LIMIT = 48
# A take longer than this is split at a clause, then a word: eSpeak and the cue list both want short ones.
SENTENCE_LIMIT = 400
_SPEAKABLE = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Sentence:
    text: str  # what the journalist wrote: shown in the transcript and the player
    spoken: str  # what the voice says


@dataclass(frozen=True)
class Chapter:
    kind: str  # "intro", "paragraph" or "appeal"
    title: str
    sentences: tuple[Sentence, ...]
    url: str | None = None
    line: int | None = None  # source line of the paragraph


@dataclass(frozen=True)
class Script:
    title: str
    language: str
    chapters: tuple[Chapter, ...]

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for chapter in self.chapters for s in chapter.sentences)


def make_script(article: Article) -> Script:
    """Chapters: the intro, one per body paragraph, the appeal last."""
    chapters = [_intro(article)]
    for paragraph in article.paragraphs:
        sentences = _sentences(paragraph.text, article.language)
        if sentences:
            title = paragraph.heading or cut_words(paragraph.text, CHAPTER_TITLE_LIMIT)
            chapters.append(Chapter("paragraph", title, sentences, line=paragraph.line))
    if article.appeal is not None:
        sentences = tuple(s for p in article.appeal.paragraphs for s in _sentences(p.text, article.language))
        if sentences:
            first_line = article.appeal.paragraphs[0].line if article.appeal.paragraphs else None
            chapters.append(Chapter("appeal", article.appeal.title, sentences, article.appeal.url, first_line))
    return Script(title=article.title, language=article.language, chapters=tuple(chapters))


def _intro(article: Article) -> Chapter:
    parts: list[str] = []
    if article.title_given or not article.publisher:
        parts.append(_end(article.title.rstrip("…")))
    if article.byline:
        parts.append(_end(f"By {article.byline}"))
    source = f"From {article.publisher}" if article.publisher else ""
    if article.date:
        source = f"{source}, {article.date}" if source else article.date
    if source:
        parts.append(_end(source))
    parts = [p for p in parts if _SPEAKABLE.search(p)]
    if not parts:  # a title of symbols only, and no publisher: open with the lede's first words
        parts = [_end(lede_title(article.paragraphs[0].text).rstrip("…"))]
    return Chapter("intro", article.title, tuple(Sentence(p, _speech(p)) for p in parts))


def _end(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _sentences(text: str, language: str) -> tuple[Sentence, ...]:
    out: list[Sentence] = []
    for piece in _segmenter(language).segment(text):
        for bounded in _bound(piece.strip(), SENTENCE_LIMIT):
            if _SPEAKABLE.search(bounded):
                out.append(Sentence(bounded, _speech(bounded)))
    return tuple(out)


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


def _speech(text: str) -> str:
    """The spoken form: symbols a voice would read literally become pauses or words."""
    spoken = re.sub(r"[\"“”«»„]", "", without_controls(text))
    spoken = re.sub(r"[()\[\]{}]", ", ", spoken)
    spoken = re.sub(r"\s*,\s*(,\s*)+", ", ", spoken)
    spoken = re.sub(r"^\s*,\s*|\s+(?=[,.!?;:])", "", spoken)
    return re.sub(r"\s+", " ", spoken).strip()

