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
UNIT = "unit not settled"
NUMBER = "number not classified"

_PROTECT = "\ue000{}\ue001"  # a settled piece no later rule may touch
_PROTECTED = re.compile("\ue000(\\d+)\ue001")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"“”«»]+[^\s<>\"“”«».,;:!?)\]]")
_EMAIL = re.compile(r"(?i)\b[\w.+-]+@([\w-]+(?:\.[\w-]+)+)\b")
_LETTER_DOTS = re.compile(r"\b(?:[A-Za-z]\.){2,}(?!\w)")
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!\.\d|:\d)")  # not "10.30": that is a decimal
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DECADE = re.compile(r"(?:\b(1[0-9]|20)|['’‘])(\d)0s\b")
_DE_ORDINAL_NOUNS = "Jahrhundert|Jahrestag|Geburtstag|Platz|Stock|Mal|Runde|Spieltag|Klasse|Etage|Tag|Woche|Auflage|Parteitag"
_PLURAL_NUMBER = re.compile(r"(?<![\w.,'’‘])(\d{2})s\b")  # "in her 30s", "the over-65s"
# Emoji with their skin tones, flags, keycaps, tags and joiners: dropped, and nothing of them left for the voice.
_EMOJI_BASE = "\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF"
_EMOJI = re.compile(
    f"[{_EMOJI_BASE}][\uFE0E\uFE0F\u20E3\U000E0020-\U000E007F]*(?:\u200D[{_EMOJI_BASE}][\uFE0E\uFE0F\u20E3]*)*"
    "|[\uFE00-\uFE0F\u20E3\U000E0020-\U000E007F]"
)
_VULGAR = {"½": "1/2", "¼": "1/4", "¾": "3/4", "⅓": "1/3", "⅔": "2/3", "⅕": "1/5", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8", "⅞": "7/8"}
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
# Slash pairs said as names, not fractions or dates.
_REGNAL_I = re.compile(r"\b(?:King|Queen|Pope|Emperor|Empress|Tsar|Tsarina|Czar|Kaiser|Sultan|Pharaoh|Prince|Princess|Saint|St)\s$")
_SLASH_NAMES = frozenset({"9/11", "7/7", "24/7", "20/20", "4/20"})
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,5}\)[\s.-]?)?\d{1,5}(?:[\s.-]\d{2,5}){1,4}"  # +44 20 7946 0958, +7 495 123-45-67
    r"|(?:[18][\s.-]?)?\(\d{2,5}\)\s?\d{2,4}(?:[\s.-]\d{2,4}){1,3}"  # (202) 555-0199, 8 (495) 123-45-67
    r"|0\d(?:[\s.]\d{2}){4}"  # 01 23 45 67 89
    r"|0\d{2,4}(?:[\s.-]\d{2,4}){1,3}"  # 0800 123 456, 020 7946 0958
    r"|(?:1[\s.-])?\d{3}[.-]\d{3}[.-]\d{4}"  # 202-555-0199, 1-800-273-8255
    r")(?![\w-]|[.,]\d)"
)
# Words around an emergency number that make it a number to dial, said digit by digit ("call nine one one").
_DIAL_BEFORE = {
    "en": frozenset("call called calling calls dial dialled dialed dialling dialing ring rang phone phoned phoning text "
                    "texted".split()),
    "de": frozenset("notruf notrufnummer unter wählen wählte wählt rief ruft anrufen nummer".split()),
    "es": frozenset("al llamar llamó llame llamen marcar marcó número teléfono".split()),
}
_DIAL_AFTER = {
    "en": frozenset("call calls caller callers operator operators dispatcher dispatchers line lines number service "
                    "services emergency hotline centre center".split()),
    "de": frozenset("an anrufen wählen gewählt angerufen".split()),
    "es": frozenset("de".split()),
}
# After a number, "m" is metres before these words ("a 10m wall" is metres too: see _magnitude).
_METRE_WORDS = frozenset(
    "tall high long wide deep away above below from of sprint hurdles freestyle backstroke breaststroke butterfly "
    "medley relay race final dash down up under into across".split()
)
_LINKS = frozenset("and or in on at to with by but after before for".split())  # say nothing of what came before
_COUNTED = frozenset("people children men women police staff cattle personnel troops viewers".split())
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
        self.region = language.split("-")[1].lower() if "-" in language else ""
        self.words: Words = words_for(self.lang)
        self.lexicon = lexicon
        self.pieces: list[str] = []
        self.notes: list[Note] = []

    def run(self, text: str) -> Spoken:
        original = re.sub(r"\s+", " ", without_controls(unicodedata.normalize("NFC", text))).strip()
        out = original.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2212", "-")
        out = _EMOJI.sub(" ", out)
        out = re.sub(r"(\d?)([½¼¾⅓⅔⅕⅛⅜⅝⅞])", lambda m: (m[1] + " " if m[1] else " ") + _VULGAR[m[2]], out)
        if self.lexicon is not None:
            out = self.lexicon.apply(out, self.lang, self.protect)
        out = _URL.sub(lambda m: self.protect(self.url(m[0])), out)
        out = _EMAIL.sub(lambda m: self.protect(self.email(m[0])), out)
        out = self.hashtags(out)
        out = self.am_pm(out)
        out = self.abbreviations(out)
        out = _LETTER_DOTS.sub(
            lambda m: self.protect(" ".join(m[0].replace(".", "").upper()) + ("." if m.end() == len(m.string) else "")), out
        )
        out = self.phones(out)
        out = self.money(out)
        out = self.percent(out)
        out = self.dates_and_times(out)
        out = self.slashes(out)
        out = self.units(out)
        out = self.ranges(out)
        out = self.roman(out)
        out = self.codes(out)
        out = self.ordinals(out)
        out = _DECADE.sub(self.decade, out)
        if self.lang == "en":
            out = _PLURAL_NUMBER.sub(lambda m: self.protect(_plural_words(self.number(m[1]))), out)
        out = self.numbers(out)
        out = _CAPS.sub(self.acronym, out)
        out = self.symbols(out)
        self.unsettled(out)
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
            if self.lang == "en" and (hour >= 13 or m[1].startswith("0")):
                # 24-hour time, as a newsreader gives it: "twenty-one hundred GMT", "oh eight thirty".
                head = "midnight" if hour == minute == 0 else self.number(str(hour)) if hour >= 10 else (
                    f"oh {self.digit_words(str(hour))}")
                tail = "" if head == "midnight" else " hundred" if minute == 0 else (
                    f" oh {self.number(str(minute))}" if minute < 10 else f" {self.number(str(minute))}")
                return self.protect(head + tail)
            return self.protect(self.words.clock(self.number(str(hour)), minute, self.number(str(minute)) if minute else ""))

        if self.lang == "fr":  # "17h45", "9 h"
            text = re.sub(
                r"\b([01]?\d|2[0-3]) ?h ?([0-5]\d)?\b",
                lambda m: self.protect(self.words.clock(self.number(m[1]), int(m[2] or 0), self.number(m[2]) if m[2] else "")),
                text,
            )
        text = _TIME.sub(clock, text)
        # "3:1", "a 2:0 win": a ratio or a score, never a time (its minutes would have two digits).
        return re.sub(r"(?<![\w:.,])(\d{1,2}):(\d{1,2})(?![\w:]|[.,]\d)",
                      lambda m: self.protect(f"{self.number(m[1])} {self.words.to} {self.number(m[2])}"), text)

    def ranges(self, text: str) -> str:
        def span(m: re.Match[str]) -> str:
            years = all(re.fullmatch(r"1[1-9]\d\d|20\d\d", g) for g in (m[1], m[2]))
            say = self.year if years else self.number
            return self.protect(f"{say(m[1])} {self.words.to} {say(m[2])}")

        def season(m: re.Match[str]) -> str:
            # "the 2019-20 season": "twenty nineteen to twenty"; "2009-10": "two thousand and nine to ten".
            first, end = m[1], m[2]
            if int(end) <= int(first[2:]):
                return m[0]
            tail = f"oh-{self.number(end[1])}" if end.startswith("0") and self.lang == "en" else self.number(end)
            return self.protect(f"{self.year(first)} {self.words.to} {tail}")

        text = re.sub(r"(?<![\w.,/-])((?:1[1-9]|20)\d\d)[–—/-](\d\d)(?![\w/]|[.,]\d|-\d)", season, text)
        return re.sub(r"(?<![\w.,-])(\d{1,4})\s?[–—-]\s?(\d{1,4})(?![\w.,]\d|-\d)", span, text)

    def ordinals(self, text: str) -> str:
        if self.lang == "de":  # "am 12. März", "im 21. Jahrhundert": the dative after am/im/vom/zum, der/die/das before
            def german(m: re.Match[str]) -> str:
                ordinal = self.number(m[2], "ordinal")
                return m[1] + self.protect(ordinal if m[1].strip().lower() in ("der", "die", "das") else ordinal + "n")

            months = "|".join(self.words.months)
            return re.sub(rf"(\b\w+\s|^)(\d{{1,3}})\.(?=\s(?:{months}|{_DE_ORDINAL_NOUNS})\b)", german, text)
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
            if not sign and re.fullmatch(r"0\d+", digits) and self.words.digits:
                return self.protect(self.digit_words(digits))  # "Agent 007", a code: its digits one by one
            spoken = self.number(digits)
            return self.protect(f"{self.words.minus} {spoken}" if sign else spoken)

        # Not a piece of "1.2.3" (a version, an address): that is left, and noted.
        return re.sub(rf"(?<![\w\ue000])(?<!\d[.,])(-(?=\d))?({self.words.number_pattern})(?![\w\ue001]|[.,]\d)", one, text)

    def count(self, digits: str) -> str:
        """A number before a noun: German "ein Kilometer", Spanish "un kilómetro", "veintiún kilómetros"."""
        words = self.number(digits)
        if self.lang == "de":
            return re.sub(r"eins$", "ein", words)
        if self.lang == "es":
            return re.sub(r"uno$", "un", words.replace("veintiuno", "veintiún"))
        return words

    def digit_words(self, digits: str) -> str:
        return " ".join(self.words.digits[int(d)] for d in digits) if self.words.digits else digits

    def code_number(self, digits: str) -> str:
        """The number in a code, as people say it: "MH370" "three seventy", "A320" "three twenty", "G7" "seven"."""
        if len(digits) > 1 and digits.startswith("0"):
            return self.digit_words(digits)
        if self.lang == "en" and len(digits) in (3, 4) and "." not in digits:
            return self.year(digits)
        return self.number(digits)

    def hashtags(self, text: str) -> str:
        def tag(m: re.Match[str]) -> str:
            words = re.sub(r"(?<=[a-zà-ÿа-яё])(?=[A-ZÀ-ÝА-ЯЁ])|(?<=[^\W\d_])(?=\d)|_", " ", m[1])
            return f"{self.protect(self.words.hashtag)} {words}"

        return re.sub(r"(?<![\w&#])#(?=[^\W\d_])(\w+)", tag, text)

    def am_pm(self, text: str) -> str:
        """"7am", "9.30pm", "7 a.m.": the hour, its minutes, then A M or P M; the sentence's full stop kept."""
        if self.lang != "en":
            return text

        def say(m: re.Match[str]) -> str:
            minute = int(m[2] or 0)
            said = self.number(m[1]) + (f" oh {self.number(str(minute))}" if 0 < minute < 10 else
                                        f" {self.number(str(minute))}" if minute else "")
            end = "." if m[0].endswith(".") and m.end() == len(m.string) else ""
            # "AM", not "A M": eSpeak reads a lone capital A as the article "uh".
            return self.protect(f"{said} {m[3].upper()}M") + end + (" " if m[0].endswith(" ") else "")

        return re.sub(r"\b(1[0-2]|0?[1-9])(?:[:.]([0-5]\d))?\s?([AaPp])\.?\s?[Mm]\b\.?", say, text)

    def phones(self, text: str) -> str:
        def group(digits: str) -> str:
            if not self.words.phone_groups:
                return self.digit_words(digits)
            zeros = len(digits) - len(digits.lstrip("0"))
            rest = digits[zeros:]
            return " ".join(([self.digit_words("0" * zeros)] if zeros else []) + ([self.number(rest)] if rest else []))

        def phone(m: re.Match[str]) -> str:
            groups = re.findall(r"\d+", m[0])
            if sum(len(g) for g in groups) < 7 or not self.words.digits:
                return m[0]
            plus = f"{self.words.symbols.get('+', 'plus')} " if m[0].startswith("+") else ""
            return self.protect(plus + ", ".join(group(g) for g in groups))

        text = _PHONE.sub(phone, text)
        if not self.words.emergency:
            return text
        before, after = _DIAL_BEFORE.get(self.lang, frozenset()), _DIAL_AFTER.get(self.lang, frozenset())

        def local(m: re.Match[str]) -> str:  # "call 555-0199": only a dialling word tells it from a range
            previous = re.search(r"([^\W\d_]+)\s(?:(?:him|her|them|us|me)\s)?(?:at|on)?\s?$", text[: m.start()])
            if previous and (previous[1].lower() in before or previous[0].rstrip().endswith((" at", " on"))):
                return self.protect(f"{self.digit_words(m[1])}, {self.digit_words(m[2])}")
            return m[0]

        text = re.sub(r"(?<![\w.,\ue000-])(\d{3})-(\d{4})(?![\w-]|[.,]\d)", local, text)

        def emergency(m: re.Match[str]) -> str:
            previous = re.search(r"([^\W\d_]+)[\s:,]{1,3}$", text[: m.start()])
            following = re.match(r"\s?[-–]?\s?([^\W\d_]+)", text[m.end():])
            if (previous and previous[1].lower() in before) or (following and following[1].lower() in after):
                return self.protect(self.digit_words(m[1]))
            return m[0]

        numbers = "|".join(sorted(self.words.emergency, key=len, reverse=True))
        return re.sub(rf"(?<![\w.,\ue000])({numbers})(?![\w\ue001]|[.,]\d)", emergency, text)

    def slashes(self, text: str) -> str:
        """Fractions ("2 1/2"), slash dates ("25/12/2024") and the dates that are names ("9/11")."""

        def date(m: re.Match[str]) -> str:
            first, second, year = int(m[1]), int(m[2]), m[3]
            if len(year) == 2:
                year = ("20" if int(year) < 50 else "19") + year
            us = self.region == "us"
            if first > 12 and second <= 12:
                day, month = first, second
            elif second > 12 and first <= 12:
                day, month = second, first
            elif first <= 12 and second <= 12:
                self.notes.append(Note(NUMBER, m[0]))  # 3/4/2024: March or April? The region decides; check it
                day, month = (second, first) if us else (first, second)
            else:
                self.notes.append(Note(NUMBER, m[0]))
                return m[0]
            if not 1 <= day <= 31:
                self.notes.append(Note(NUMBER, m[0]))
                return m[0]
            if self.lang == "en":
                said_year = self.year(year)
                return self.protect(f"{self.words.months[month - 1]} {self.number(str(day), 'ordinal')}, {said_year}" if us
                                    else f"the {self.number(str(day), 'ordinal')} of {self.words.months[month - 1]}, {said_year}")
            said = self.number(year, "ordinal") if self.lang == "ru" else self.year(year)
            return self.protect(self.words.date(self.number(str(day), self.words.day_form), month, said))

        text = re.sub(r"(?<![\w/.,])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\w/]|[.,]\d)", date, text)

        def fraction(m: re.Match[str]) -> str:
            whole, top, bottom = m[1], int(m[2]), int(m[3])
            if f"{m[2]}/{m[3]}" in _SLASH_NAMES and not whole:
                return self.protect(f"{self.number(m[2])} {self.number(m[3])}")
            if 0 < top < bottom and (bottom <= 16 or bottom in (20, 32, 64, 100)):
                said = _fraction(self, whole, top, bottom)
                if said is not None:
                    return self.protect(said)
            self.notes.append(Note(NUMBER, m[0].strip()))
            return m[0]

        return re.sub(r"(?<![\w/.,])(?:(\d{1,3}) )?(\d{1,3})/(\d{1,3})(?![\w/]|[.,]\d)", fraction, text)

    def units(self, text: str) -> str:
        """A number and its unit ("128GB", "80 km/h", "10-15km", "1.5m people"), singular or plural as the number says."""
        units = {**self.words.units, **{k: (v,) for k, v in self.words.scales.items() if k in ("bn", "tn", "k")}}
        if not units:
            return text
        names = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
        num = self.words.number_pattern

        def say(m: re.Match[str]) -> str:
            sign, first, last, space, unit = m[1], m[2], m[3], m[4], m[5]
            value = _parse_number(last or first, self.words)
            after = m.string[m.end():]
            before = m.string[: m.start()]
            if unit in ("bn", "tn", "k") or unit == "m" and self.lang == "en":
                if space and unit != "m":
                    return m[0]
                magnitude = self.magnitude(unit, first, after, before) if not space else "metres"
                if magnitude == "":
                    return m[0]
                if magnitude != "metres":
                    said = self.number(first) + (f" {self.words.to} {self.number(last)}" if last else "")
                    return self.protect(f"{said} {magnitude}")
            attributive = self.lang == "en" and (bool(re.search(r"(?:^|\s)[Aa]n?\s$", before)) or after.startswith("-"))
            counted = self.count(last or first)
            if self.lang == "de" and counted == "ein" and units[unit][0].endswith("e"):
                counted = "eine"  # "eine Tonne", "eine Kilowattstunde": German nouns in -e are nearly all feminine
            said = (f"{self.count(first) if last else counted}" + (f" {self.words.to} {counted}" if last else ""))
            said = f"{self.words.minus} {said}" if sign else said
            return self.protect(f"{said} {self.words.unit(value, units[unit], attributive)}")

        return re.sub(
            rf"(?<![\w.,\ue001])(-(?=\d))?({num})(?:\s?[–-]\s?({num}))?(\s?)({names})(?![^\W_]|[²³/]\w)", say, text
        )

    def magnitude(self, unit: str, digits: str, after: str, before: str) -> str:
        """"1.5m people" is a million, "a 10m wall" and "the 100m final" metres; "" when it cannot be told."""
        scale = self.words.scales.get(unit, "")
        if unit != "m":
            if unit == "k" and re.match(r"\s?(?:run|race)\b", after):
                return ""  # "a 5k run": the race's name, said "five K"
            return scale
        following = re.match(r"(-?)\s?([^\W\d_]+)", after)
        word = following[2] if following else ""
        if word == "strong" or word in self.words.units or word in _COUNTED:
            return scale
        if (following and following[1]) or word in _METRE_WORDS or "," in digits or re.search(r"\b(?:[Aa]n?|[Tt]he)\s$", before):
            return "metres"  # "10m-high", "3m tall", "the 100m final", "a 10m wall", "8,848m"
        if word and word not in _LINKS:
            return scale  # "1.5m people", "2m voted"
        self.notes.append(Note(UNIT, digits + unit))  # "it raised 1.5m." or "she cleared 1.5m."?
        return "metres"

    def roman(self, text: str) -> str:
        """Roman numerals after names and numbered things: "Charles the Third", "World War Two", "Louis quatorze"."""
        if self.words.roman == "none":
            return text
        lang = self.words.roman

        def value(numeral: str) -> int | None:
            if not numeral or not _ROMAN.fullmatch(numeral):
                return None
            values = [_ROMAN_VALUES[c] for c in numeral]
            return sum(-v if i + 1 < len(values) and values[i + 1] > v else v for i, v in enumerate(values))

        def after_name(m: re.Match[str]) -> str:
            name, numeral, suffix = m[1], m[3], m[4] or ""
            number = value(numeral)
            if number is None or number == 0:
                return m[0]
            head = f"{name}{m[2]}"
            small = set(numeral) <= set("IVX") and number <= 39 and (len(numeral) > 1 or name in self.words.regnal)
            after = m.string[m.end():]
            if numeral == "I" and lang == "en" and small and not suffix and not _REGNAL_I.search(m.string[: m.start()]) and (
                re.match(r"\s+[a-z]", after) and not re.match(r"\s+(?:of|and|who|whose|reigned|ruled)\b", after)
            ):
                small = False  # "When John I met him": the pronoun, unless a title says otherwise ("King John I met")
            if lang == "fr":
                if suffix:
                    return f"{head}{self.protect(self.ordinal_fr(number))}"
                if not small and name not in self.words.numbered:
                    return m[0]
                return f"{head}{self.protect('premier' if number == 1 else self.number(str(number)))}"
            if lang == "ru" and set(numeral) <= set("IVX") and number <= 39:  # a Latin I in Russian is no pronoun
                return f"{head}{self.protect(_ru_case(self.number(str(number), 'ordinal'), name, capital=True))}"
            if name in self.words.numbered:
                cardinal = self.number(str(number))
                return f"{head}{self.protect((cardinal[:1].upper() + cardinal[1:] if lang == 'en' else cardinal) + suffix)}"
            if not small:
                return m[0]
            if lang == "de":
                ordinal = self.number(str(number), "ordinal")
                return f"{head}{self.protect('der ' + ordinal[:1].upper() + ordinal[1:])}" + (
                    "." if suffix and m.end() == len(m.string) else "")
            if lang == "es":
                return f"{head}{self.protect(self.spanish_ordinal(number, feminine=name.endswith('a') or name == 'Isabel'))}"
            ordinal = self.number(str(number), "ordinal")
            return f"{head}{self.protect('the ' + ordinal[:1].upper() + ordinal[1:] + suffix)}"

        name = r"([A-ZÀ-ÝА-ЯЁ][^\W\d_]+(?:-[A-ZÀ-Ý][^\W\d_]*)?)"
        suffix = {"fr": r"(er|re|e|ème)?", "de": r"(\.)?", "en": r"(['’]s)?", "es": r"()", "ru": r"()"}[lang]
        text = re.sub(rf"\b{name}(\.?\s+)([IVXLCDM]+){suffix}(?![^\W_]|-\w)", after_name, text)
        if lang == "fr":  # "le XXIe siècle", "la Ve République"
            return re.sub(r"\b([IVX]|[IVXLC]{2,})(er|re|e|ème)\b",  # not "Le", "Ce"
                          lambda m: self.protect(self.ordinal_fr(value(m[1]) or 0)) if value(m[1]) else m[0], text)
        if lang == "ru":  # "XXI век", "в XXI веке"
            return re.sub(r"\b([IVXLC]+)(\s+)(век|веке|века|веку|веком|съезд|съезде|съезда|созыв|созыва)\b",
                          lambda m: self.protect(_ru_case(self.number(str(value(m[1])), "ordinal"), m[3]))
                          + m[2] + m[3] if value(m[1]) else m[0], text)
        if lang == "es":  # "el siglo XXI", "la II Guerra Mundial"
            text = re.sub(r"\b(siglo|tomo|capítulo|fase)(\s+)([IVXLC]+)\b",
                          lambda m: m[1] + m[2] + self.protect(self.spanish_ordinal(value(m[3]) or 0, False))
                          if value(m[3]) else m[0], text)
            return re.sub(r"\b(la|el|La|El)(\s+)([IVX]+)(?=\s+[A-ZÁÉÍÓÚ])",
                          lambda m: m[1] + m[2] + self.protect(self.spanish_ordinal(value(m[3]) or 0, m[1].lower() == "la",
                                                                                     always=True))
                          if value(m[3]) else m[0], text)
        return text

    def ordinal_fr(self, number: int) -> str:
        return "premier" if number == 1 else self.number(str(number), "ordinal")

    def spanish_ordinal(self, number: int, feminine: bool, always: bool = False) -> str:
        """Spanish says regnal and century numerals as ordinals up to ten, then as cardinals ("Alfonso trece")."""
        if number > 10 and not always:
            return self.number(str(number))
        words = self.number(str(number), "ordinal")
        return re.sub(r"o$", "a", words) if feminine else words

    def codes(self, text: str) -> str:
        """Letters and a number: "MH370", "G7", "COVID-19", "F-35", "5G"; the letters are left to the acronym rule."""

        def code(m: re.Match[str]) -> str:
            # "A-three twenty": alone, eSpeak reads the letter A as the article "uh".
            return f"{m[1]}{'-' if m[1] == 'A' else ' '}{self.protect(self.code_number(m[2]))}"

        text = re.sub(r"\b([A-Z]{1,5}|[A-Z][a-zA-Z]{1,5}(?=-))-?(\d{1,4}(?:\.\d)?)\b(?![.,]\d|-\d|%)", code, text)
        text = re.sub(r"\b(\d{1,2})([A-Z])\b", lambda m: f"{self.protect(self.number(m[1]))} {m[2]}", text)
        if self.lang == "en":
            text = re.sub(r"\b(Boeing )(7\d7)\b", lambda m: m[1] + self.protect(self.digit_words(m[2])), text)
            text = re.sub(r"\b([Ff]light|[Bb]us|[Rr]oute|[Tt]rain)( )(\d{3,4})\b",
                          lambda m: m[1] + m[2] + self.protect(self.code_number(m[3])), text)
        return text

    def unsettled(self, text: str) -> None:
        """Digits still left: a unit the tables do not hold ("5xyz"), or a number no rule could classify."""
        noted = {note.token for note in self.notes}
        for token in re.findall(r"\S*\d\S*", _PROTECTED.sub(" ", text)):
            token = token.strip(".,;:!?'\"()[]")
            if token and token not in noted and not any(token in seen for seen in noted):
                self.notes.append(Note(UNIT if re.search(r"\d[^\W\d_]", token) else NUMBER, token))
                noted.add(token)

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


def _plural_words(words: str) -> str:
    """"thirty" -> "thirties", "sixty-five" -> "sixty-fives", "six" -> "sixes"."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    return words + ("es" if words.endswith(("x", "s")) else "s")


def _fraction(normalizer: _Normalizer, whole: str | None, top: int, bottom: int) -> str | None:
    """A fraction in the article's language; "2 1/2" is "two and a half", "deux et demi", "zweieinhalb"."""
    say = normalizer.number
    lang = normalizer.lang
    if lang == "en":
        forms = {2: ("half", "halves"), 4: ("quarter", "quarters")}.get(bottom)
        if forms is None:
            ordinal = say(str(bottom), "ordinal")
            forms = (ordinal, ordinal + "s")
        part = forms[0] if top == 1 else forms[1]
        if whole:
            return f"{say(whole)} and {'a' if top == 1 else say(str(top))} {part}"
        return f"{say(str(top))} {part}"
    if lang == "fr":
        name = {2: "demi", 3: "tiers", 4: "quart"}.get(bottom) or say(str(bottom), "ordinal")
        part = f"{say(str(top))} {name}{'s' if top > 1 and not name.endswith('s') else ''}"
        return f"{say(whole)} et {name if top == 1 and bottom == 2 else part}" if whole else part
    if lang == "de":
        ordinal = say(str(bottom), "ordinal")
        name = "halb" if bottom == 2 else ordinal[:1].upper() + ordinal[1:-1] + "el"
        count = "ein" if top == 1 else say(str(top))
        if whole:
            return f"{say(whole)}einhalb" if (top, bottom) == (1, 2) else f"{say(whole)} und {count} {name}"
        return f"{count} {name}" if bottom != 2 else f"{count}halb"
    if lang == "es":
        name = {2: "medio", 3: "tercio", 4: "cuarto"}.get(bottom) or say(str(bottom), "ordinal")
        part = f"{'un' if top == 1 else say(str(top))} {name}{'s' if top > 1 else ''}"
        return f"{say(whole)} y {part if top > 1 else name}" if whole else part
    if lang == "ru":
        if whole and (top, bottom) == (1, 2):
            return f"{say(whole)} с половиной"
        one = top % 10 == 1 and top % 100 != 11
        count = re.sub(r"один$", "одна", re.sub(r"два$", "две", say(str(top))))
        ordinal = say(str(bottom), "ordinal")
        name = _ru_case(ordinal, "", feminine=True) if one else re.sub(r"(ой|ый)$", "ых", ordinal).replace("третий", "третьих")
        part = f"{count} {name}"
        return f"{say(whole)} целых {part}" if whole else part
    return None


_RU_ENDINGS = {"gen": ("ого", "его"), "dat": ("ому", "ему"), "prep": ("ом", "ем"), "ins": ("ым", "им")}
_RU_FEMININE = ("Екатерин", "Елизавет", "Анн", "Мари", "Ольг")


def _ru_case(ordinal: str, word: str, capital: bool = False, feminine: bool = False) -> str:
    """A Russian ordinal ("второй") in the case and gender the word beside it shows: "Петра Второго", "в XXI веке"."""
    feminine = feminine or word.startswith(_RU_FEMININE)
    case = ("ins" if word.endswith(("ом", "ем", "ём")) else "gen" if word.endswith(("а", "я")) else
            "prep" if word.endswith("е") else "dat" if word.endswith(("у", "ю")) else "nom")
    head, _, last = ordinal.rpartition(" ")
    soft = last == "третий"
    stem = "треть" if soft else last[:-2]
    if feminine:
        ending = ("я" if soft else "ая") if case in ("nom", "gen") and (word.endswith(("а", "я")) or not word) else (
            "ей" if soft else "ой")
    else:
        ending = _RU_ENDINGS[case][1 if soft else 0] if case != "nom" else ""
    said = stem + ending if ending else last
    if capital:
        said = said[:1].upper() + said[1:]
    return f"{head} {said}" if head else said
