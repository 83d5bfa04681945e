"""The words the normalizer says, per language: currencies, abbreviations, months, dates, clock times, symbols."""
from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

# Acronyms said as words (the rest of the capitals below are spelled); a publisher's lexicon overrides both.
ACRONYM_WORDS = frozenset(
    "NATO NASA UNESCO UNICEF OPEC ASEAN NAFTA FIFA UEFA AIDS COVID ISIS SWAT IKEA TASS OPEC MERCOSUR INTERPOL".split()
)
SPELLED = frozenset(
    "FBI CIA BBC CNN EU UN US USA UK UAE KGB FSB GRU GDP CEO CFO IMF WHO OSCE NGO MP PM PR TV AI OECD ECB IAEA ICC "
    "ICJ UNHCR WTO LNG GMT UTC CCTV DNA HIV SUV EV USSR RIA NHS BP IBM HSBC LGBT LGBTQ CIS CSTO SBU IOC ID PC".split()
)

_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
_FR_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre")
_RU_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
              "ноября", "декабря")  # genitive: "18 июня"


def _abbreviations(pairs: list[tuple[str, str]]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern), spoken) for pattern, spoken in pairs)


class Words(NamedTuple):
    number_pattern: str
    group: str  # thousands separator ("" when only spaces group digits)
    decimal: str
    percent: tuple[str, ...]
    currency: dict[str, tuple[str, ...]]
    scales: dict[str, str]
    to: str  # in ranges: "2019 to 2020"
    minus: str
    at: str
    symbols: dict[str, str]
    abbreviations: tuple[tuple[re.Pattern[str], str], ...]
    months: tuple[str, ...] = _EN_MONTHS
    day_form: str = "ordinal"
    date: Callable[[str, int, str], str] = lambda day, month, year: f"{_EN_MONTHS[month - 1]} {day}, {year}"
    clock: Callable[[str, int, str], str] = lambda hour, minute, words: hour + (
        " o'clock" if minute == 0 else f" oh {words}" if minute < 10 else f" {words}"
    )
    plural: Callable[[Decimal | None, tuple[str, ...]], str] = lambda value, forms: (
        forms[0] if value == 1 else forms[-1]
    )
    month_names: tuple[str, ...] = ()

    def month(self, name: str) -> str:
        key = name.rstrip(".").lower()[:3]
        for month in self.months:
            if month.lower().startswith(key):
                return month
        return name


def _ru_plural(value: Decimal | None, forms: tuple[str, ...]) -> str:
    """Russian: 1 рубль, 2 рубля, 5 рублей; fractions take the genitive singular."""
    if len(forms) < 3 or value is None:
        return forms[-1]
    if value != int(value):
        return forms[1]
    n = int(value) % 100
    if 11 <= n <= 14:
        return forms[2]
    return forms[0] if n % 10 == 1 else forms[1] if 2 <= n % 10 <= 4 else forms[2]


def _ru_date(day: str, month: int, year: str) -> str:
    """"восемнадцатый" -> "восемнадцатое июня"; the year as an ordinal in the genitive, then "года"."""
    day = re.sub(r"(ый|ий|ой)$", "ое", day)
    year = re.sub(r"ый$|ой$", "ого", re.sub(r"ий$", "его", year))
    return f"{day} {_RU_MONTHS[month - 1]} {year} года"


_EN_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SPACE_GROUPED = r"\d{1,3}(?: \d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_EN_SCALES = {"million": "million", "billion": "billion", "trillion": "trillion", "bn": "billion", "tn": "trillion",
              "m": "million", "k": "thousand"}

ENGLISH = Words(
    number_pattern=_EN_NUMBER, group=",", decimal=".",
    percent=("percent",),
    currency={"$": ("dollar", "dollars"), "US$": ("US dollar", "US dollars"), "C$": ("Canadian dollar", "Canadian dollars"),
              "A$": ("Australian dollar", "Australian dollars"), "HK$": ("Hong Kong dollar", "Hong Kong dollars"),
              "€": ("euro", "euros"), "£": ("pound", "pounds"), "¥": ("yen", "yen"), "₽": ("ruble", "rubles"),
              "₴": ("hryvnia", "hryvnias"), "₹": ("rupee", "rupees"), "руб": ("ruble", "rubles")},
    scales=_EN_SCALES, to="to", minus="minus", at="at",
    symbols={"&": "and", "+": "plus", "=": "equals", "°C": "degrees Celsius", "°F": "degrees Fahrenheit", "°": "degrees",
             "#": "number", "№": "number", "@": "at"},
    abbreviations=_abbreviations([
        (r"\bLt\. Gen\.(?!\w)", "Lieutenant General"), (r"\bMaj\. Gen\.(?!\w)", "Major General"),
        (r"\bGen\.(?!\w)", "General"), (r"\bLt\.(?!\w)", "Lieutenant"), (r"\bCol\.(?!\w)", "Colonel"),
        (r"\bCapt\.(?!\w)", "Captain"), (r"\bSgt\.(?!\w)", "Sergeant"), (r"\bGov\.(?!\w)", "Governor"),
        (r"\bSen\.(?!\w)", "Senator"), (r"\bRep\.(?!\w)", "Representative"), (r"\bRev\.(?!\w)", "Reverend"),
        (r"\bDr\.(?!\w)", "Doctor"), (r"\bProf\.(?!\w)", "Professor"), (r"\bMr\.(?!\w)", "Mister"),
        (r"\bMrs\.(?!\w)", "Missus"), (r"\bMs\.(?!\w)", "Miz"), (r"\bJr\.(?!\w)", "Junior"), (r"\bSr\.(?!\w)", "Senior"),
        (r"\bSt\.(?= [A-Z])", "Saint"), (r"\bSt\.(?!\w)", "Street"), (r"\bMt\.(?!\w)", "Mount"),
        (r"\bNo\.\s?(?=\d)", "number "), (r"\bNos\.\s?(?=\d)", "numbers "), (r"\bvs?\.(?!\w)", "versus"),
        (r"\betc\.(?!\w)", "et cetera"), (r"\be\.g\.(?!\w)", "for example"), (r"\bi\.e\.(?!\w)", "that is"),
        (r"\bapprox\.(?!\w)", "approximately"), (r"\bInc\.(?!\w)", "Incorporated"), (r"\bLtd\.(?!\w)", "Limited"),
        (r"\bCorp\.(?!\w)", "Corporation"), (r"\bDept\.(?!\w)", "Department"), (r"\bGov't\b", "government"),
    ]),
    month_names=tuple(_EN_MONTHS) + ("Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sept", "Sep", "Oct", "Nov", "Dec"),
)

FRENCH = Words(
    number_pattern=_SPACE_GROUPED, group="", decimal=",",
    percent=("pour cent",),
    currency={"$": ("dollar", "dollars"), "US$": ("dollar américain", "dollars américains"), "€": ("euro", "euros"),
              "£": ("livre", "livres"), "¥": ("yen", "yens"), "₽": ("rouble", "roubles"), "руб": ("rouble", "roubles")},
    scales={"million": "million", "millions": "millions", "milliard": "milliard", "milliards": "milliards", "m": "millions",
            "k": "mille"},
    to="à", minus="moins", at="arobase",
    symbols={"&": "et", "+": "plus", "=": "égale", "°C": "degrés Celsius", "°": "degrés", "@": "arobase", "№": "numéro"},
    abbreviations=_abbreviations([
        (r"\bM\.(?= [A-ZÉ])", "Monsieur"), (r"\bMM\.(?= [A-ZÉ])", "Messieurs"), (r"\bMme\b", "Madame"),
        (r"\bMmes\b", "Mesdames"), (r"\bMlle\b", "Mademoiselle"), (r"\bDr\b\.?", "Docteur"), (r"\bPr\b\.?", "Professeur"),
        (r"\b[nN]°\s?(?=\d)", "numéro "), (r"\betc\.(?!\w)", "et cetera"), (r"\bp\. ?ex\.(?!\w)", "par exemple"),
        (r"\bc\.-à-d\.(?!\w)", "c'est-à-dire"), (r"\bSte\b", "Sainte"), (r"\bSt\b(?=-| [A-Z])", "Saint"),
    ]),
    months=_FR_MONTHS, day_form="cardinal",
    date=lambda day, month, year: f"le {'premier' if day == 'un' else day} {_FR_MONTHS[month - 1]} {year}",
    clock=lambda hour, minute, words: f"{hour} heure{'s' if hour not in ('un', 'une', 'zéro') else ''}"
    + (f" {words}" if minute else ""),
)

RUSSIAN = Words(
    number_pattern=_SPACE_GROUPED, group="", decimal=",",
    percent=("процент", "процента", "процентов"),
    currency={"$": ("доллар", "доллара", "долларов"), "€": ("евро", "евро", "евро"), "£": ("фунт", "фунта", "фунтов"),
              "₽": ("рубль", "рубля", "рублей"), "руб": ("рубль", "рубля", "рублей"), "¥": ("иена", "иены", "иен")},
    scales={"млн": "миллиона", "млрд": "миллиарда", "тыс": "тысяч", "тыс.": "тысяч", "million": "миллиона",
            "billion": "миллиарда", "bn": "миллиарда", "m": "миллиона", "k": "тысяч"},
    to="до", minus="минус", at="собака",
    symbols={"&": "и", "+": "плюс", "=": "равно", "°C": "градусов Цельсия", "°": "градусов", "№": "номер", "@": "собака"},
    abbreviations=_abbreviations([
        (r"(?<!\w)т\. ?е\.(?!\w)", "то есть"), (r"(?<!\w)и т\. ?д\.(?!\w)", "и так далее"),
        (r"(?<!\w)и т\. ?п\.(?!\w)", "и тому подобное"), (r"(?<!\w)ул\.(?!\w)", "улица"), (r"(?<!\w)им\.(?!\w)", "имени"),
        (r"(?<!\w)млн(?!\w)\.?", "миллионов"), (r"(?<!\w)млрд(?!\w)\.?", "миллиардов"),
    ]),
    months=_RU_MONTHS, date=_ru_date, plural=_ru_plural,
    clock=lambda hour, minute, words: f"{hour} {words}" if minute else f"{hour} ноль ноль",
)

# Other languages: numbers through num2words where it has them; eSpeak's own voice reads the symbols.
GENERIC = Words(
    number_pattern=r"\d+(?:[.,]\d+)*", group="", decimal="", percent=("%",), currency={}, scales={}, to="–", minus="-",
    at="@", symbols={}, abbreviations=(), day_form="cardinal",
    date=lambda day, month, year: f"{day}.{month}.{year}", clock=lambda hour, minute, words: f"{hour}:{words or '00'}",
)


def words_for(language: str) -> Words:
    return {"en": ENGLISH, "fr": FRENCH, "ru": RUSSIAN}.get(language, ENGLISH if language == "" else GENERIC)
