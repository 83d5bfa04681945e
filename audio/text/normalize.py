"""Speech text: numbers, money, dates, abbreviations, acronyms, addresses and symbols as a newsreader says them."""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from . import numbers_en
from .lexicon import Lexicon
from .source import without_controls
from .speechwords import ACRONYM_WORDS, SPELLED, Words, words_for

# Lint kinds: what the normalizer could not settle.
ALL_CAPS = "all-caps word not in the lexicon"
DIGITS = "number left as digits"
DROPPED = "symbol dropped"

_PROTECT = "\ue000{}\ue001"  # a settled piece no later rule may touch
_PROTECTED = re.compile("\ue000(\\d+)\ue001")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"“”«»]+[^\s<>\"“”«».,;:!?)\]]")
_EMAIL = re.compile(r"(?i)\b[\w.+-]+@([\w-]+(?:\.[\w-]+)+)\b")
_LETTER_DOTS = re.compile(r"\b(?:[A-Za-z]\.){2,}(?!\w)")
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!\.\d|:\d)")  # not "10.30": that is a decimal
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DECADE = re.compile(r"(?:\b(1[0-9]|20)|['’])(\d)0s\b")
_ORDINAL = {"en": re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), "fr": re.compile(r"\b(\d+)(?:er|re|e|ème)\b")}
_CAPS = re.compile(r"\b([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)(s?)\b")
_QUOTES = re.compile(r"[\"“”„«»‹›]|(?<!\w)['‘’]|['‘’](?!\w)")
_BRACKETS = re.compile(r"[()\[\]{}]")
_DROP = "*†‡•|^~_\\<>¶©®™§¤¦¨¬¯´¸¹²³¼½¾"


class Note(NamedTuple):
    kind: str
    token: str


class Spoken(NamedTuple):
    text: str
    notes: tuple[Note, ...]


def speak(text: str, language: str = "en", lexicon: Lexicon | None = None) -> Spoken:
    """The spoken form of one sentence, and what could not be settled (for `script --lint`)."""
    return _Normalizer(language, lexicon).run(text)


class _Normalizer:
    def __init__(self, language: str, lexicon: Lexicon | None) -> None:
        self.lang = language.split("-")[0].lower() or "en"
        self.words: Words = words_for(self.lang)
        self.lexicon = lexicon
        self.pieces: list[str] = []
        self.notes: list[Note] = []

    def run(self, text: str) -> Spoken:
        original = re.sub(r"\s+", " ", without_controls(unicodedata.normalize("NFC", text))).strip()
        out = original.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2212", "-")
        if self.lexicon is not None:
            out = self.lexicon.apply(out, self.lang, self.protect)
        out = _URL.sub(lambda m: self.protect(self.url(m[0])), out)
        out = _EMAIL.sub(lambda m: self.protect(self.email(m[0])), out)
        out = self.abbreviations(out)
        out = _LETTER_DOTS.sub(
            lambda m: self.protect(" ".join(m[0].replace(".", "").upper()) + ("." if m.end() == len(m.string) else "")), out
        )
        out = self.money(out)
        out = self.percent(out)
        out = self.dates_and_times(out)
        out = self.ranges(out)
        out = self.ordinals(out)
        out = _DECADE.sub(self.decade, out)
        out = self.numbers(out)
        out = _CAPS.sub(self.acronym, out)
        out = self.symbols(out)
        out = _PROTECTED.sub(lambda m: self.pieces[int(m[1])], out)
        out = re.sub(r"\s+", " ", out)
        out = re.sub(r"\s+(?=[,.!?;:])", "", out)
        out = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", out)
        out = re.sub(r"[,;:]+(?=[.!?])", "", out)
        out = re.sub(r"^[\s,;:.]+|[\s,;:]+$", "", out).strip()
        if not re.search(r"\w", out):  # never say nothing where the journalist wrote words
            out = _BRACKETS.sub(" ", _QUOTES.sub("", original)).strip() or original
        return Spoken(out, tuple(self.notes))

    def protect(self, spoken: str) -> str:
        self.pieces.append(spoken)
        return _PROTECT.format(len(self.pieces) - 1)

    # Numbers -------------------------------------------------------------------------------
    def number(self, digits: str, to: str = "cardinal") -> str:
        """Digits as words in the article's language; digits stay (and are noted) where num2words has no rules."""
        value = _parse_number(digits, self.words)
        if value is None:
            self.notes.append(Note(DIGITS, digits))
            return digits
        words = _num2words(value, self.lang, to)
        if words is None:
            self.notes.append(Note(DIGITS, digits))
            return digits
        return words

    def year(self, digits: str) -> str:
        return self.number(digits, "year")

    def money(self, text: str) -> str:
        scale = r"(?:\s?(million|billion|trillion|bn|tn|m|k|млн|млрд|тыс\.?|milliards?|millions?)\b)?"
        num = self.words.number_pattern

        def before(m: re.Match[str]) -> str:
            return self.protect(self.amount(m[1], m[2], m[3]))

        def after(m: re.Match[str]) -> str:
            return self.protect(self.amount(m[3], m[1], m[2]))

        text = re.sub(rf"((?:US|C|A|HK)?\$|€|£|¥|₽|₴|₹)\s?({num}){scale}", before, text)
        return re.sub(rf"(?<![\w.,])({num}){scale}\s?(€|₽|£|\$|руб\.)", after, text)

    def amount(self, symbol: str, digits: str, scale: str | None) -> str:
        unit = self.words.currency.get(symbol.rstrip("."), ("", ""))
        value = _parse_number(digits, self.words)
        if scale:
            big = self.words.scales.get(scale.lower().rstrip("."), scale)
            return f"{self.number(digits)} {big} {unit[1]}".strip()
        if value is not None and value != int(value) and self.lang == "en" and symbol.endswith("$"):
            whole, cents = int(value), int((value - int(value)) * 100)
            parts = [f"{self.number(str(whole))} {unit[0] if whole == 1 else unit[1]}"] if whole else []
            parts.append(f"{self.number(str(cents))} {'cent' if cents == 1 else 'cents'}")
            return " and ".join(parts)
        return f"{self.number(digits)} {self.words.plural(value, unit)}".strip()

    def percent(self, text: str) -> str:
        return re.sub(
            rf"({self.words.number_pattern})\s?%",
            lambda m: self.protect(f"{self.number(m[1])} {self.words.plural(_parse_number(m[1], self.words), self.words.percent)}"),
            text,
        )

    def dates_and_times(self, text: str) -> str:
        def iso(m: re.Match[str]) -> str:
            month, day = int(m[2]), int(m[3])
            if not (1 <= month <= 12 and 1 <= day <= 31):
                return m[0]
            # Russian says the year as an ordinal ("две тысячи двадцать четвёртого года").
            year = self.number(m[1], "ordinal") if self.lang == "ru" else self.year(m[1])
            return self.protect(self.words.date(self.number(str(day), self.words.day_form), month, year))

        text = _ISO_DATE.sub(iso, text)
        if self.lang == "en":
            months = "|".join(self.words.month_names)
            text = re.sub(
                rf"\b({months})\.? (\d{{1,2}})(?:st|nd|rd|th)?(?:, (\d{{4}}))?\b",
                lambda m: self.protect(
                    f"{self.words.month(m[1])} {self.number(m[2], 'ordinal')}" + (f", {self.year(m[3])}" if m[3] else "")
                ),
                text,
            )
            text = re.sub(
                rf"\b(\d{{1,2}}) ({months})\.?(?: (\d{{4}}))?\b",
                lambda m: self.protect(
                    f"the {self.number(m[1], 'ordinal')} of {self.words.month(m[2])}" + (f", {self.year(m[3])}" if m[3] else "")
                ),
                text,
            )

        def clock(m: re.Match[str]) -> str:
            hour, minute = int(m[1]), int(m[2])
            return self.protect(self.words.clock(self.number(str(hour)), minute, self.number(str(minute)) if minute else ""))

        if self.lang == "fr":  # "17h45", "9 h"
            text = re.sub(
                r"\b([01]?\d|2[0-3]) ?h ?([0-5]\d)?\b",
                lambda m: self.protect(self.words.clock(self.number(m[1]), int(m[2] or 0), self.number(m[2]) if m[2] else "")),
                text,
            )
        return _TIME.sub(clock, text)

    def ranges(self, text: str) -> str:
        def span(m: re.Match[str]) -> str:
            years = all(re.fullmatch(r"1[1-9]\d\d|20\d\d", g) for g in (m[1], m[2]))
            say = self.year if years else self.number
            return self.protect(f"{say(m[1])} {self.words.to} {say(m[2])}")

        return re.sub(r"(?<![\w.,-])(\d{1,4})\s?[–—-]\s?(\d{1,4})(?![\w.,]\d|-\d)", span, text)

    def ordinals(self, text: str) -> str:
        pattern = _ORDINAL.get(self.lang)
        return pattern.sub(lambda m: self.protect(self.number(m[1], "ordinal")), text) if pattern else text

    def decade(self, m: re.Match[str]) -> str:
        if self.lang != "en":
            return m[0]
        century = m[1] or ""
        words = self.year(f"{century}{m[2]}0") if century else self.number(f"{m[2]}0")
        words = re.sub(r"y$", "ies", words) if words.endswith("y") else words + "s"
        return self.protect(words)

    def numbers(self, text: str) -> str:
        def one(m: re.Match[str]) -> str:
            sign, digits = m[1], m[2]
            if not sign and re.fullmatch(r"1[1-9]\d\d|20\d\d", digits):
                return self.protect(self.year(digits))
            spoken = self.number(digits)
            return self.protect(f"{self.words.minus} {spoken}" if sign else spoken)

        return re.sub(rf"(?<![\w\ue000])(-(?=\d))?({self.words.number_pattern})(?![\w\ue001])", one, text)

    # Words -------------------------------------------------------------------------------
    def abbreviations(self, text: str) -> str:
        for pattern, spoken in self.words.abbreviations:
            text = pattern.sub(functools.partial(self._abbreviation, spoken), text)
        return text

    def _abbreviation(self, spoken: str, m: re.Match[str]) -> str:
        # A sentence that ends in "Jr." keeps its full stop.
        return self.protect(spoken) + (" " if m[0].endswith(" ") else "." if m.end() == len(m.string) else "")

    def acronym(self, m: re.Match[str]) -> str:
        word, plural = m[1], m[2]
        if word.isdigit() or len(word) < 2:
            return m[0]
        if word in ACRONYM_WORDS:
            return word.capitalize() + plural
        if word in SPELLED or (len(word) <= 4 and not re.search(r"[AEIOUY]", word)):
            letters = " ".join(word)
            return f"{letters}{plural}" if not plural else f"{letters}'s"
        self.notes.append(Note(ALL_CAPS, m[0]))
        return m[0]

    def url(self, url: str) -> str:
        host = re.sub(r"(?i)^(?:https?://)?(?:www\.)?", "", url).split("/")[0].split(":")[0]
        return " dot ".join(host.split(".")) if self.lang == "en" else host

    def email(self, address: str) -> str:
        user, host = address.split("@", 1)
        joiner = " dot " if self.lang == "en" else "."
        return f"{user.replace('.', joiner)} {self.words.at} {joiner.join(host.split('.'))}"

    def symbols(self, text: str) -> str:
        text = _QUOTES.sub(" , ", text)  # a quotation is heard as a short pause, not a symbol
        text = _BRACKETS.sub(" , ", text)
        for symbol, spoken in self.words.symbols.items():
            text = re.sub(rf"\s*{re.escape(symbol)}\s*", f" {spoken} ", text)
        text = re.sub(r"(?<=[^\W\d_])/(?=[^\W\d_])", " ", text)  # and/or
        kept = []
        for ch in text:
            if ch in _DROP or (unicodedata.category(ch) in ("So", "Sk", "Co") and ch not in "\ue000\ue001"):
                self.notes.append(Note(DROPPED, ch))
                kept.append(" ")
            else:
                kept.append(ch)
        return "".join(kept)


def _parse_number(digits: str, words: Words) -> Decimal | None:
    if not words.decimal and not digits.isdigit():
        return None  # a language without our rules: which mark groups and which is the decimal is unknown
    raw = digits.replace(" ", "").replace(words.group, "") if words.group else digits.replace(" ", "")
    raw = raw.replace(words.decimal, ".") if words.decimal not in (".", "") else raw
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _num2words(value: Decimal, lang: str, to: str) -> str | None:
    try:
        number: int | float = int(value) if value == int(value) else float(value)
        return _converter(lang)(number, to)
    except (NotImplementedError, OverflowError, ValueError, TypeError, KeyError, IndexError):
        return None


@functools.cache
def _converter(lang: str) -> Callable[[int | float, str], str]:
    def convert(number: int | float, to: str) -> str:
        if to == "year" and (lang != "en" or not isinstance(number, int)):
            to = "cardinal"
        if lang == "en" and abs(number) < numbers_en.LIMIT and to in numbers_en.FORMS:
            words = numbers_en.say(number, to)  # num2words' words, without importing it
        else:
            from num2words import num2words

            words = str(num2words(number, lang=lang, to=to))
        return words.replace(",", "") if lang == "en" else words  # "two thousand, seven hundred": no pause inside

    return convert
