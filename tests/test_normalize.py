"""Speech text as a table (written -> said), the lint notes, and the lexicon as eSpeak hears it."""
from __future__ import annotations

import subprocess
import wave
from decimal import Decimal
from pathlib import Path

import pytest

from audio.errors import BadInput
from audio.speech import synthesis, takes
from audio.text import lexicon
from audio.text.normalize import ALL_CAPS, DIGITS, DROPPED, Note, speak

from .conftest import need_program

CASES = [
    # Cardinals and years: the issue's own examples first.
    ("en", "It happened in 1994.", "It happened in nineteen ninety-four."),
    ("en", "The town has 2,759 voters.", "The town has two thousand seven hundred and fifty-nine voters."),
    ("en", "In 2005 and 2024.", "In two thousand and five and twenty twenty-four."),
    ("en", "It cost 2759 votes.", "It cost two thousand seven hundred and fifty-nine votes."),
    ("en", "About 1,200,000 people.", "About one million two hundred thousand people."),
    ("en", "He is 42.", "He is forty-two."),
    ("en", "It fell to -5.", "It fell to minus five."),
    # Ordinals, decimals, percentages.
    ("en", "The 21st century.", "The twenty-first century."),
    ("en", "She came 2nd and 3rd.", "She came second and third."),
    ("en", "His 101st birthday.", "His one hundred and first birthday."),
    ("en", "A rate of 3.5.", "A rate of three point five."),
    ("en", "Only 0.25 left.", "Only zero point two five left."),
    ("en", "Up 12%.", "Up twelve percent."),
    ("en", "Down 3.5%.", "Down three point five percent."),
    ("en", "Turnout was 1% lower.", "Turnout was one percent lower."),
    # Currency.
    ("en", "It costs $2.", "It costs two dollars."),
    ("en", "A €1.5 million grant.", "A one point five million euros grant."),
    ("en", "Just $1.", "Just one dollar."),
    ("en", "Pay $2.50 now.", "Pay two dollars and fifty cents now."),
    ("en", "Only $0.50.", "Only fifty cents."),
    ("en", "A £300 fine.", "A three hundred pounds fine."),
    ("en", "A $3bn deal.", "A three billion dollars deal."),
    ("en", "It was $4.2 billion.", "It was four point two billion dollars."),
    ("en", "Fees of €20.", "Fees of twenty euros."),
    ("en", "A ₽100 note.", "A one hundred rubles note."),
    ("en", "It raised US$5 million.", "It raised five million US dollars."),
    # Times and dates.
    ("en", "At 10:30 today.", "At ten thirty today."),
    ("en", "At 9:05 a.m. sharp.", "At nine oh five AM sharp."),  # eSpeak says a spaced "A M" as "uh em"
    ("en", "By 10:00 tonight.", "By ten o'clock tonight."),
    ("en", "On March 5, 2024.", "On March fifth, twenty twenty-four."),
    ("en", "On Jan. 5 we met.", "On January fifth we met."),
    ("en", "Born 5 March 1990.", "Born the fifth of March, nineteen ninety."),
    ("en", "Dated 2024-03-05.", "Dated March fifth, twenty twenty-four."),
    ("en", "In the 1990s.", "In the nineteen nineties."),
    ("en", "Back in the '80s.", "Back in the eighties."),
    # Ranges.
    ("en", "The 2019–2020 season.", "The twenty nineteen to twenty twenty season."),
    ("en", "Pages 10-12.", "Pages ten to twelve."),
    ("en", "The vote was 7–2.", "The vote was seven to two."),
    # Abbreviations and titles.
    ("en", "Gen. Smith spoke.", "General Smith spoke."),
    ("en", "Martin Luther King Jr. spoke.", "Martin Luther King Junior spoke."),
    ("en", "He met Martin Luther King Jr.", "He met Martin Luther King Junior."),
    ("en", "The U.S. Senate.", "The U S Senate."),
    ("en", "She lives at No. 10.", "She lives at number ten."),
    ("en", "Dr. Brown and Mr. Green.", "Doctor Brown and Mister Green."),
    ("en", "St. Petersburg is cold.", "Saint Petersburg is cold."),
    ("en", "He lives on Main St.", "He lives on Main Street."),
    ("en", "Apples, pears, etc.", "Apples, pears, et cetera."),
    ("en", "Fruit, e.g. apples.", "Fruit, for example apples."),
    ("en", "Sen. Jones and Gov. Lee.", "Senator Jones and Governor Lee."),
    # Acronyms: read as words or spelled.
    ("en", "NATO met.", "Nato met."),
    ("en", "The FBI came.", "The F B I came."),
    ("en", "The OSCE and the WHO.", "The O S C E and the W H O."),
    ("en", "MPs voted.", "M P's voted."),
    ("en", "UNESCO and the EU.", "Unesco and the E U."),
    # URLs and e-mail addresses.
    ("en", "See https://www.example.org/news/2024/story for more.", "See example dot org for more."),
    ("en", "Write to tips@example.org today.", "Write to tips at example dot org today."),
    ("en", "Visit www.themoscowtimes.com now.", "Visit themoscowtimes dot com now."),
    # Quotation marks and parentheses become short pauses.
    ('en', 'He said "no" (twice).', "He said, no, twice."),
    ("en", "“We will win,” she said.", "We will win, she said."),
    ("en", "The party (in power) lost.", "The party, in power, lost."),
    ("en", "Don’t stop.", "Don’t stop."),
    # Symbols.
    ("en", "Tom & Jerry.", "Tom and Jerry."),
    ("en", "It hit -5°C.", "It hit minus five degrees Celsius."),
    ("en", "Rights and/or duties.", "Rights and or duties."),
    # French.
    ("fr", "Il y a 3 500 étudiants.", "Il y a trois mille cinq cents étudiants."),
    ("fr", "Une hausse de 3,5 %.", "Une hausse de trois virgule cinq pour cent."),
    ("fr", "La saison 2024-2025.", "La saison deux mille vingt-quatre à deux mille vingt-cinq."),
    ("fr", "M. Dupont arrive à 17h45.", "Monsieur Dupont arrive à dix-sept heures quarante-cinq."),
    ("fr", "Le 1er mai.", "Le premier mai."),
    ("fr", "Publié le 2024-03-12.", "Publié le le douze mars deux mille vingt-quatre."),
    ("fr", "Une prime de 15 €.", "Une prime de quinze euros."),
    # Russian.
    ("ru", "Билет стоит 150 рублей.", "Билет стоит сто пятьдесят рублей."),
    ("ru", "Рост на 5%.", "Рост на пять процентов."),
    ("ru", "Рост на 2%.", "Рост на два процента."),
    ("ru", "Дата: 2024-06-18.", "Дата: восемнадцатое июня две тысячи двадцать четвёртого года."),
    ("ru", "Это стоит ₽1.", "Это стоит один рубль."),
    # Other languages: num2words where it has the language.
    ("ar", "و 600", "و ستمائة"),
    ("de", "Es kostet 20.", "Es kostet zwanzig."),
]


@pytest.mark.parametrize(("language", "written", "said"), CASES, ids=[c[1][:40] for c in CASES])
def test_spoken_form(language: str, written: str, said: str) -> None:
    assert speak(written, language).text == said


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(
    ("language", "written", "notes"),
    [
        ("en", "BREAKING news from the XYZW.", [Note(ALL_CAPS, "BREAKING"), Note(ALL_CAPS, "XYZW")]),
        ("nl", "Het kost 3,5 euro.", [Note(DIGITS, "3,5")]),  # Dutch: no rules for its decimal comma
        ("en", "A note † here.", [Note(DROPPED, "†")]),
        ("en", "All settled: $2 and NATO.", []),
    ],
)
def test_what_could_not_be_settled_is_noted(language: str, written: str, notes: list[Note]) -> None:
    assert list(speak(written, language).notes) == notes


def test_sentence_of_symbols_never_becomes_silent() -> None:
    assert speak("“(word)”").text == "word"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_lexicon_respelling_phonemes_case_rules_and_languages(tmp_path: Path) -> None:
    words = lexicon.load(write(tmp_path, "l.toml", '"Makei" = "mah-KAY"\n"nato" = "[[n\'A:toU]]"\n[fr]\n"Lyon" = "lion"\n'))
    assert speak("Makei met makei.", "en", words).text == "mah-kay met makei."  # a capital: exact case only
    assert speak("NATO, Nato and nato.", "en", words).text == "[[n'A:toU]], [[n'A:toU]] and [[n'A:toU]]."
    assert speak("Lyon", "fr", words).text == "lion"
    assert speak("Lyon", "en", words).text == "Lyon"  # the [fr] table is French only


def test_pls_lexicon_with_alias_ipa_and_espeak_phonemes(tmp_path: Path) -> None:
    pls = write(tmp_path, "l.pls", """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en-GB">
  <lexeme><grapheme>Makei</grapheme><alias>mah-kay</alias></lexeme>
  <lexeme><grapheme>Tsikhanouskaya</grapheme><phoneme>ˌtsɪxɐˈnoʊskəjə</phoneme></lexeme>
  <lexeme><grapheme>Lukashenko</grapheme><phoneme alphabet="x-espeak">lUk@S'ENk@U</phoneme></lexeme>
</lexicon>""")
    words = lexicon.load(pls)
    assert speak("Makei, Tsikhanouskaya and Lukashenko.", "en-gb", words).text == (
        "mah-kay, [[,tsIxa#'noUsk@j@]] and [[lUk@S'ENk@U]]."
    )
    assert speak("Makei", "fr", words).text == "Makei"  # an English lexicon (xml:lang) does not apply to French


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("l.toml", '"A" = 3\n', "{path}: entry 'A' must be a string (a respelling or [[phonemes]])"),
        ("l.toml", '"A" = "[[x]y]]"\n', "{path}: 'A': phonemes must be written [[like this]], without other brackets"),
        ("l.toml", "= broken", "{path}: not a valid TOML lexicon: Invalid statement (at line 1, column 1)"),
        ("l.pls", "<lexicon><lexeme><grapheme>A</grapheme></lexeme></lexicon>",
         "{path}: line 1: a lexeme needs a <grapheme> and a <phoneme> or <alias>"),
        ("l.pls", '<lexicon alphabet="ipa"><lexeme><grapheme>A</grapheme><phoneme>☃</phoneme></lexeme></lexicon>',
         "{path}: 'A': IPA symbol '☃' has no eSpeak equivalent here; write x-espeak phonemes"),
        ("l.csv", "A,b", "{path}: unknown lexicon format (use .pls or .toml)"),
    ],
)
def test_bad_lexicons_name_the_file_and_entry(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(BadInput) as caught:
        lexicon.load(path)
    assert str(caught.value) == message.format(path=path)


def espeak_phonemes(text: str, voice_name: str = "en") -> str:
    program = need_program("espeak-ng")
    done = subprocess.run([program, "-q", "-x", "-v", voice_name, text], capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


def test_the_lexicon_changes_what_espeak_says(tmp_path: Path) -> None:
    """Compare eSpeak's own phonemes (espeak-ng -x) for the spoken form without and with each kind of entry."""
    respelled = lexicon.load(write(tmp_path, "r.toml", '"Makei" = "mah-KAY"\n'))
    phonemes = lexicon.load(write(tmp_path, "p.toml", "\"Makei\" = \"[[m@k'eI]]\"\n"))
    without = espeak_phonemes(speak("Makei", "en").text)
    assert without == "m'akeI"  # eSpeak's own guess, stressed on the first syllable
    assert espeak_phonemes(speak("Makei", "en", respelled).text) == "m'A:k'eI"
    assert espeak_phonemes(speak("Makei", "en", phonemes).text) == "m@k'eI"


def test_the_engine_takes_lexicon_phonemes_as_phonemes(tmp_path: Path) -> None:
    """Through pyttsx3 (the build's engine): [[m'akeI]] sounds like 'Makei', not like its letters read out."""
    spoken = synthesis.synthesize(["Makei.", "[[m'akeI]].", "m apostrophe a k e I."], takes.VoiceSettings("gmw/en"), tmp_path, jobs=1)
    lengths = []
    for take in spoken:
        with wave.open(str(take.path)) as wav:
            lengths.append(wav.getnframes())
    word, phonemes, letters = lengths
    assert abs(phonemes - word) < 0.05 * word
    assert letters > 2 * word


def _num2words_en(value: int | float, to: str) -> str | Exception:
    from num2words import num2words

    try:
        return str(num2words(value, lang="en", to=to))
    except Exception as exc:  # noqa: BLE001 - the same failure is expected of ours
        return exc


def _ours_en(value: int | float, to: str) -> str | Exception:
    from audio.text import numbers_en

    try:
        return numbers_en.say(value, to)
    except Exception as exc:  # noqa: BLE001
        return exc


def _same(value: int | float, to: str) -> None:
    theirs, ours = _num2words_en(value, to), _ours_en(value, to)
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), (value, to, theirs, ours)
    else:
        assert ours == theirs, (value, to)


EDGES = [0, 1, 9, 10, 11, 12, 13, 19, 20, 21, 99, 100, 101, 110, 999, 1000, 1001, 1005, 1010, 1099, 1100, 1905, 1999,
         2000, 2005, 2010, 2759, 10000, 100000, 100001, 123456, 1000000, 1000005, 1001000, 1100000, 999999999999999,
         10**9, 10**12 + 1, 10**14 * 9]


@pytest.mark.parametrize("to", ["cardinal", "ordinal", "year"])
def test_english_numbers_are_num2words_own(to: str) -> None:
    """audio/text/numbers_en.py says every number as num2words does (it spares a build importing num2words)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    for value in EDGES + [-v for v in EDGES]:
        _same(value, to)

    @settings(max_examples=1500, deadline=None, derandomize=True)
    @given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1) | st.integers(min_value=-3000, max_value=12000))
    def whole(value: int) -> None:
        _same(value, to)

    whole()


def test_english_decimals_are_num2words_own() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    for value in (0.5, -0.5, 2.5, -2.5, 1.05, 1.239999999, 0.1, 3.14159, 1e-05, 12.0001, 999.99, 1234567.89):
        _same(value, "cardinal")

    places = st.integers(min_value=1, max_value=6)

    @settings(max_examples=1500, deadline=None, derandomize=True)
    @given(places.flatmap(lambda n: st.decimals(min_value=-(10**9), max_value=10**9, places=n,
                                                allow_nan=False, allow_infinity=False)))
    def decimal(value: Decimal) -> None:
        _same(float(value), "cardinal")

    decimal()
