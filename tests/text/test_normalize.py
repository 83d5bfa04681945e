"""Speech text as a table (written -> said), the lint notes, and the lexicon as eSpeak hears it."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from audio.errors import BadInput
from audio.text import lexicon
from audio.text.normalize import ALL_CAPS, DIGITS, DROPPED, Note, speak

from ..conftest import need_program

pytestmark = pytest.mark.fast

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
