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
    "ICJ UNHCR WTO LNG GMT UTC CCTV DNA HIV SUV EV USSR RIA NHS BP IBM HSBC LGBT LGBTQ CIS CSTO SBU IOC ID PC CO MI DI".split()
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
    # Units after a number (case-sensitive: "MB" is not "mb"), each with its plural forms.
    units: dict[str, tuple[str, ...]] = {}
    digits: tuple[str, ...] = ()  # "0".."9" said one by one: phone and emergency numbers
    phone_groups: bool = False  # phone numbers read a group at a time ("01 23 45": zéro un, vingt-trois ...)
    emergency: frozenset[str] = frozenset()  # numbers said digit by digit ("call 911"), in their context
    hashtag: str = "hashtag"
    roman: str = "none"  # how a Roman numeral after a name is said: "en", "fr", "de", "es", "ru" or "none"
    regnal: frozenset[str] = frozenset()  # names a lone I, V or X after is a numeral ("Charles I")
    numbered: frozenset[str] = frozenset()  # words whose Roman numeral is a plain number ("World War II")
    run_on: re.Pattern[str] | None = None  # abbreviations that never end a sentence ("approx." before a number)

    def unit(self, value: Decimal | None, forms: tuple[str, ...], attributive: bool = False) -> str:
        """A unit's form for the number before it; "a 10km race" is attributive: singular in English."""
        return forms[0] if attributive else self.plural(value, forms)

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


def _fr_plural(value: Decimal | None, forms: tuple[str, ...]) -> str:
    """French: the plural from two on ("1,5 kilomètre", "deux kilomètres")."""
    return forms[0] if value is not None and abs(value) < 2 else forms[-1]


def _ru_date(day: str, month: int, year: str) -> str:
    """"восемнадцатый" -> "восемнадцатое июня"; the year as an ordinal in the genitive, then "года"."""
    day = re.sub(r"(ый|ий|ой)$", "ое", day)
    year = re.sub(r"ый$|ой$", "ого", re.sub(r"ий$", "его", year))
    return f"{day} {_RU_MONTHS[month - 1]} {year} года"


def _units(table: str) -> dict[str, tuple[str, ...]]:
    """"km kilometre kilometres; ..." -> {"km": ("kilometre", "kilometres")}: a line a unit, forms after its symbol."""
    units = {}
    for line in table.strip().split(";"):
        symbol, _, forms = line.strip().partition(" ")
        units[symbol.replace("_", " ")] = tuple(form.strip().replace("_", " ") for form in forms.split("|"))
    return units


# Singular|plural. "per hour", not "an hour": the AP spells "miles per hour" out (docs/speech-text.md).
_EN_UNITS = _units("""
km kilometre|kilometres; km/h kilometre_per_hour|kilometres_per_hour; kph kilometre_per_hour|kilometres_per_hour;
mph mile_per_hour|miles_per_hour; m metre|metres; cm centimetre|centimetres; mm millimetre|millimetres;
ft foot|feet; kg kilogram|kilograms; g gram|grams; mg milligram|milligrams; lb pound|pounds; lbs pound|pounds;
oz ounce|ounces; ml millilitre|millilitres; ha hectare|hectares; m² square_metre|square_metres;
km² square_kilometre|square_kilometres; sq_km square_kilometre|square_kilometres; sq_m square_metre|square_metres;
sq_ft square_foot|square_feet; m³ cubic_metre|cubic_metres; °C degree_Celsius|degrees_Celsius;
°F degree_Fahrenheit|degrees_Fahrenheit; ° degree|degrees; W watt|watts; kW kilowatt|kilowatts;
MW megawatt|megawatts; GW gigawatt|gigawatts; kWh kilowatt_hour|kilowatt_hours; MWh megawatt_hour|megawatt_hours;
GWh gigawatt_hour|gigawatt_hours; TWh terawatt_hour|terawatt_hours; kV kilovolt|kilovolts; V volt|volts;
Hz hertz|hertz; kHz kilohertz|kilohertz; MHz megahertz|megahertz; GHz gigahertz|gigahertz; KB kilobyte|kilobytes;
kB kilobyte|kilobytes; MB megabyte|megabytes; GB gigabyte|gigabytes; TB terabyte|terabytes; PB petabyte|petabytes;
Mbps megabit_per_second|megabits_per_second; Gbps gigabit_per_second|gigabits_per_second;
mAh milliamp_hour|milliamp_hours; mpg mile_per_gallon|miles_per_gallon; kcal kilocalorie|kilocalories;
ppm part_per_million|parts_per_million; bpd barrel_per_day|barrels_per_day; h hour|hours; hrs hour|hours;
min minute|minutes; mins minute|minutes; sec second|seconds; yds yard|yards; mi mile|miles; nm nautical_mile|nautical_miles
""")
# A lone I, V or X is a numeral after these names only: "Charles I", but "In London I met".
_REGNAL = frozenset(
    "Charles Elizabeth James Mary Henry Edward William George Richard John Stephen Anne Victoria Peter Catherine "
    "Napoleon Nicholas Alexander Paul Louis Philip Philippe Francis Frederick Wilhelm Ferdinand Isabella Leo Pius "
    "Gregory Benedict Clement Innocent Urban Boniface Felipe Juan Carlos Gustaf Harald Olav Haakon Margrethe Willem "
    "Albert Baudouin Constantine Ivan Selim Suleiman Mehmed Abdullah Hussein Rama Ramesses Ramses Otto Karl Ludwig "
    "Friedrich Heinrich Alfonso Fernando Sancho Enrique François Henri Pedro Manuel Pierre Nicolas Pablo Isabel "
    "Benedicto Francisco León Juana Pío Gregorio Jaime Luis Jean-Paul Juan-Pablo".split()
)
# A Roman numeral after these is a plain number: "World War Two", "Super Bowl fifty-eight", "Part One".
_NUMBERED = frozenset(
    "War Bowl Part Chapter Phase Title Article Act Book Volume Vol Grade Type Class Category Stage Level Round Mark "
    "Mk Series Apollo Vatican Episode Section Schedule Annex Tier Division Gemini Voyager Figure Fig Table Appendix "
    "World Team Gen Generation Psalm Canto Movement Symphony Olympiad Rocky".split()
)
_DIGITS_EN = ("oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# A title or "approx." before a number never ends a sentence, though the segmenter ends one there.
_EN_RUN_ON = re.compile(
    r"(?:\b(?:approx|ca|vs?|No|Nos|Dr|Mr|Mrs|Ms|Prof|Gen|Lt|Col|Capt|Sgt|Gov|Sen|Rep|Rev|Mt|Fig|Vol)|"
    r"\be\.g|\bi\.e)\.$"
)

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
    units=_EN_UNITS, digits=_DIGITS_EN, emergency=frozenset({"911", "999", "112", "111", "101", "988"}),
    roman="en", regnal=_REGNAL, numbered=_NUMBERED, run_on=_EN_RUN_ON,
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
    months=_FR_MONTHS, day_form="cardinal", plural=_fr_plural,
    units=_units("""
    km kilomètre|kilomètres; km/h kilomètre-heure|kilomètres-heure; kg kilogramme|kilogrammes; g gramme|grammes;
    m mètre|mètres; cm centimètre|centimètres; mm millimètre|millimètres; t tonne|tonnes; ha hectare|hectares;
    m² mètre_carré|mètres_carrés; km² kilomètre_carré|kilomètres_carrés; °C degré_Celsius|degrés_Celsius;
    ° degré|degrés; Go gigaoctet|gigaoctets; Mo mégaoctet|mégaoctets; To téraoctet|téraoctets; GB gigaoctet|gigaoctets;
    kW kilowatt|kilowatts; MW mégawatt|mégawatts; GW gigawatt|gigawatts; kWh kilowattheure|kilowattheures;
    TWh térawattheure|térawattheures; min minute|minutes; l litre|litres"""),
    digits=("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"), phone_groups=True,
    roman="fr", regnal=_REGNAL, run_on=re.compile(r"\b(?:env|cf|M|MM|Dr|Pr)\.$"),
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
    units=_units("""
    км километр|километра|километров; км/ч километр_в_час|километра_в_час|километров_в_час;
    кг килограмм|килограмма|килограммов; г грамм|грамма|граммов; м метр|метра|метров; см сантиметр|сантиметра|сантиметров;
    мм миллиметр|миллиметра|миллиметров; т тонна|тонны|тонн; га гектар|гектара|гектаров;
    м² квадратный_метр|квадратных_метра|квадратных_метров; °C градус_Цельсия|градуса_Цельсия|градусов_Цельсия;
    ° градус|градуса|градусов; ГБ гигабайт|гигабайта|гигабайт; GB гигабайт|гигабайта|гигабайт;
    МВт мегаватт|мегаватта|мегаватт; ГВт гигаватт|гигаватта|гигаватт; кВт·ч киловатт-час|киловатт-часа|киловатт-часов;
    мин минута|минуты|минут"""),
    digits=("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"), phone_groups=True,
    hashtag="хештег", roman="ru",
    clock=lambda hour, minute, words: f"{hour} {words}" if minute else f"{hour} ноль ноль",
)

_DE_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
              "Dezember")
_ES_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre")
_DOT_GROUPED = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"

GERMAN = Words(
    number_pattern=_DOT_GROUPED, group=".", decimal=",",
    percent=("Prozent",),
    currency={"$": ("Dollar", "Dollar"), "€": ("Euro", "Euro"), "£": ("Pfund", "Pfund"), "₽": ("Rubel", "Rubel")},
    scales={"million": "Millionen", "billion": "Milliarden", "bn": "Milliarden", "m": "Millionen", "k": "tausend"},
    to="bis", minus="minus", at="at",
    symbols={"&": "und", "+": "plus", "=": "gleich", "°C": "Grad Celsius", "°": "Grad", "@": "at", "№": "Nummer",
             "#": "Nummer"},
    abbreviations=_abbreviations([
        (r"\bz\. ?B\.(?!\w)", "zum Beispiel"), (r"\bd\. ?h\.(?!\w)", "das heißt"), (r"\bu\. ?a\.(?!\w)", "unter anderem"),
        (r"\bca\.(?!\w)", "circa"), (r"\bNr\.\s?(?=\d)", "Nummer "), (r"\bDr\.(?!\w)", "Doktor"),
        (r"\bProf\.(?!\w)", "Professor"), (r"\bbzw\.(?!\w)", "beziehungsweise"), (r"\busw\.(?!\w)", "und so weiter"),
    ]),
    months=_DE_MONTHS,
    # "am 12. März": the day an ordinal in the dative, as it nearly always follows am/vom/zum/bis zum.
    date=lambda day, month, year: f"{day}n {_DE_MONTHS[month - 1]} {year}",
    clock=lambda hour, minute, words: f"{hour} Uhr" + (f" {words}" if minute else ""),
    units=_units("""
    km Kilometer|Kilometer; km/h Kilometer_pro_Stunde|Kilometer_pro_Stunde; kg Kilogramm|Kilogramm; g Gramm|Gramm;
    m Meter|Meter; cm Zentimeter|Zentimeter; mm Millimeter|Millimeter; t Tonne|Tonnen; ha Hektar|Hektar;
    m² Quadratmeter|Quadratmeter; km² Quadratkilometer|Quadratkilometer; °C Grad_Celsius|Grad_Celsius; ° Grad|Grad;
    GB Gigabyte|Gigabyte; MB Megabyte|Megabyte; TB Terabyte|Terabyte; kW Kilowatt|Kilowatt; MW Megawatt|Megawatt;
    GW Gigawatt|Gigawatt; kWh Kilowattstunde|Kilowattstunden; Std Stunde|Stunden; min Minute|Minuten"""),
    digits=("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
    emergency=frozenset({"110", "112", "116117"}), hashtag="Hashtag", roman="de", regnal=_REGNAL,
    numbered=frozenset("Teil Band Kapitel Akt Phase Typ Stufe Klasse Artikel Buch".split()),
    run_on=re.compile(r"(?:\b(?:ca|Nr|Dr|Prof|bzw|vgl)|\bz\. ?B|\bd\. ?h|\bu\. ?a)\.$"),
)

SPANISH = Words(
    number_pattern=_DOT_GROUPED, group=".", decimal=",",
    percent=("por ciento",),
    currency={"$": ("dólar", "dólares"), "€": ("euro", "euros"), "£": ("libra", "libras"), "₽": ("rublo", "rublos")},
    scales={"million": "millones", "billion": "mil millones", "bn": "mil millones", "m": "millones", "k": "mil"},
    to="a", minus="menos", at="arroba",
    symbols={"&": "y", "+": "más", "=": "igual a", "°C": "grados Celsius", "°": "grados", "@": "arroba", "№": "número",
             "#": "número"},
    abbreviations=_abbreviations([
        (r"\bSr\.(?!\w)", "señor"), (r"\bSra\.(?!\w)", "señora"), (r"\bDr\.(?!\w)", "doctor"),
        (r"\bDra\.(?!\w)", "doctora"), (r"\bEE\. ?UU\.(?!\w)", "Estados Unidos"), (r"\bp\. ?ej\.(?!\w)", "por ejemplo"),
        (r"\baprox\.(?!\w)", "aproximadamente"), (r"\b[nN]úm\.\s?(?=\d)", "número "),
    ]),
    months=_ES_MONTHS, day_form="cardinal",
    date=lambda day, month, year: f"{day} de {_ES_MONTHS[month - 1]} de {year}",
    clock=lambda hour, minute, words: hour + (" en punto" if minute == 0 else f" y {words}"),
    units=_units("""
    km kilómetro|kilómetros; km/h kilómetro_por_hora|kilómetros_por_hora; kg kilo|kilos; g gramo|gramos;
    m metro|metros; cm centímetro|centímetros; mm milímetro|milímetros; t tonelada|toneladas; ha hectárea|hectáreas;
    m² metro_cuadrado|metros_cuadrados; km² kilómetro_cuadrado|kilómetros_cuadrados; °C grado_Celsius|grados_Celsius;
    ° grado|grados; GB gigabyte|gigabytes; MB megabyte|megabytes; kW kilovatio|kilovatios; MW megavatio|megavatios;
    GW gigavatio|gigavatios; kWh kilovatio_hora|kilovatios_hora; min minuto|minutos"""),
    digits=("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
    emergency=frozenset({"112", "911", "091", "092"}), roman="es", regnal=_REGNAL,
    run_on=re.compile(r"\b(?:aprox|Sr|Sra|Dr|Dra|núm)\.$"),
)

# Other languages: numbers through num2words where it has them; eSpeak's own voice reads the symbols.
GENERIC = Words(
    number_pattern=r"\d+(?:[.,]\d+)*", group="", decimal="", percent=("%",), currency={}, scales={}, to="–", minus="-",
    at="@", symbols={}, abbreviations=(), day_form="cardinal",
    date=lambda day, month, year: f"{day}.{month}.{year}", clock=lambda hour, minute, words: f"{hour}:{words or '00'}",
)


def words_for(language: str) -> Words:
    return {"en": ENGLISH, "fr": FRENCH, "ru": RUSSIAN, "de": GERMAN, "es": SPANISH}.get(language, ENGLISH if language == "" else GENERIC)
