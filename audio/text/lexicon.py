"""The publisher's pronunciation lexicon: W3C PLS XML or TOML; whole words, said as a respelling or eSpeak phonemes.

Case rule: a word written all in lower case matches in any case ("makei", "Makei", "MAKEI");
a word with a capital matches exactly as written ("US" is not "us", "Nice" is not "nice").
"""
from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from ..errors import BadInput
from ..limits import read_settings

PLS_NS = "http://www.w3.org/2005/01/pronunciation-lexicon"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ESPEAK_ALPHABETS = ("x-espeak", "x-espeak-ng", "espeak")
_PHONEMES = re.compile(r"\[\[([^\[\]]+)\]\]")

# IPA -> eSpeak NG phoneme names (its English table; most languages share these). Longest symbols first.
_IPA = {
    "tʃ": "tS", "dʒ": "dZ", "eɪ": "eI", "aɪ": "aI", "ɔɪ": "OI", "aʊ": "aU", "əʊ": "oU", "oʊ": "oU", "ɪə": "i@",
    "eə": "e@", "ʊə": "U@", "iː": "i:", "uː": "u:", "ɑː": "A:", "ɔː": "O:", "ɜː": "3:", "ˈ": "'", "ˌ": ",", "ː": ":",
    "ɪ": "I", "ɛ": "E", "æ": "a", "ɑ": "A", "ɒ": "0", "ɔ": "O", "ʊ": "U", "ʌ": "V", "ə": "@", "ɚ": "3", "ɝ": "3:",
    "ɐ": "a#", "ø": "Y", "œ": "W", "ɨ": "y", "θ": "T", "ð": "D", "ʃ": "S", "ʒ": "Z", "ŋ": "N", "ɹ": "r", "ɾ": "*",
    "ʁ": "r", "ʀ": "r", "ɡ": "g", "ʔ": "?", "ç": "C", "ʎ": "l^", "ɲ": "n^", "β": "B", "ɣ": "Q", "χ": "X", "ɫ": "l",
    "a": "a", "b": "b", "d": "d", "e": "e", "f": "f", "g": "g", "h": "h", "i": "i", "j": "j", "k": "k", "l": "l",
    "m": "m", "n": "n", "o": "o", "p": "p", "r": "r", "s": "s", "t": "t", "u": "u", "v": "v", "w": "w", "x": "x",
    "y": "y", "z": "z", ".": "", " ": " ",
}


class Entry(NamedTuple):
    word: str
    say: str  # what the engine gets: a respelling, or [[eSpeak phonemes]]
    language: str | None = None  # primary language subtag; None: every language

    @property
    def case_sensitive(self) -> bool:
        return self.word != self.word.lower()


class Lexicon(NamedTuple):
    entries: tuple[Entry, ...] = ()
    source: str = ""

    def apply(self, text: str, language: str, protect: Callable[[str], str]) -> str:
        """Replace every whole word with an entry; protect() keeps the replacement away from later rules."""
        pattern, exact, folded = self._compiled(language.split("-")[0].lower())
        if pattern is None:
            return text

        def say(match: re.Match[str]) -> str:
            found = exact.get(match[0]) or folded.get(match[0].lower())
            return protect(found.say) if found else match[0]

        return pattern.sub(say, text)

    def lookup(self, word: str, language: str) -> Entry | None:
        _, exact, folded = self._compiled(language.split("-")[0].lower())
        return exact.get(word) or folded.get(word.lower())

    @functools.cache  # noqa: B019  # one per (lexicon, language); lexicons live as long as the build
    def _compiled(self, language: str) -> tuple[re.Pattern[str] | None, dict[str, Entry], dict[str, Entry]]:
        chosen = [e for e in self.entries if e.language in (None, language)]
        # Language-specific entries win over general ones for the same word.
        chosen.sort(key=lambda e: e.language is None)
        exact: dict[str, Entry] = {}
        folded: dict[str, Entry] = {}
        for entry in chosen:
            (exact if entry.case_sensitive else folded).setdefault(entry.word if entry.case_sensitive else entry.word.lower(), entry)
        if not chosen:
            return None, exact, folded
        words = sorted({e.word for e in chosen}, key=len, reverse=True)  # longest first: "New York Times" before "New York"
        parts = [re.escape(w) if w != w.lower() else f"(?i:{re.escape(w)})" for w in words]
        return re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)"), exact, folded


def load(path: Path | None) -> Lexicon:
    """Read a .pls/.xml (W3C PLS 1.0) or .toml lexicon; None gives an empty one. Errors name the file."""
    if path is None:
        return Lexicon()
    if not path.exists():
        raise BadInput(f"{path}: lexicon file not found")
    data = read_settings(path, "a lexicon")
    if path.suffix.lower() == ".toml":
        entries = _from_toml(data, path)
    elif path.suffix.lower() in (".pls", ".xml"):
        entries = _from_pls(data, path)
    else:
        raise BadInput(f"{path}: unknown lexicon format (use .pls or .toml)")
    return Lexicon(tuple(entries), str(path))


def _from_toml(data: bytes, path: Path) -> list[Entry]:
    """`"Makei" = "mah-KAY"` (a respelling) or `"Makei" = "[[m@k'eI]]"` (eSpeak phonemes); a table per language."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: not a valid TOML lexicon: {exc}") from None
    except RecursionError:  # tomllib descends once a nested array or table
        raise BadInput(f"{path}: not a valid TOML lexicon: nested too deeply") from None
    entries: list[Entry] = []

    def add(items: Iterable[tuple[str, object]], language: str | None) -> None:
        for word, value in items:
            if isinstance(value, dict) and language is None:
                add(value.items(), word.split("-")[0].lower())
            elif isinstance(value, str):
                entries.append(_entry(word, value, language, path))
            else:
                raise BadInput(f"{path}: entry '{word}' must be a string (a respelling or [[phonemes]])")

    add(raw.items(), None)
    return entries


def _from_pls(data: bytes, path: Path) -> list[Entry]:
    import lxml.etree  # only where a PLS lexicon is given

    try:
        root = lxml.etree.fromstring(data, parser=lxml.etree.XMLParser(resolve_entities=False, no_network=True))
    except lxml.etree.XMLSyntaxError as exc:
        raise BadInput(f"{path}: not a valid PLS lexicon: {exc}") from None
    if lxml.etree.QName(root).localname != "lexicon":
        raise BadInput(f"{path}: not a PLS lexicon (its root element is not <lexicon>)")
    ns = {"p": PLS_NS} if root.nsmap.get(None) == PLS_NS else None
    prefix = "p:" if ns else ""
    language = (root.get(XML_LANG) or "").split("-")[0].lower() or None
    default_alphabet = root.get("alphabet") or "ipa"
    entries: list[Entry] = []
    for lexeme in root.findall(f"{prefix}lexeme", ns):
        graphemes = [g.text.strip() for g in lexeme.findall(f"{prefix}grapheme", ns) if g.text and g.text.strip()]
        said = [c for c in lexeme if isinstance(c.tag, str) and lxml.etree.QName(c).localname in ("phoneme", "alias")]
        if not graphemes or not said or not (said[0].text or "").strip():
            raise BadInput(f"{path}: line {lexeme.sourceline}: a lexeme needs a <grapheme> and a <phoneme> or <alias>")
        first = said[0]
        text = (first.text or "").strip()
        if lxml.etree.QName(first).localname == "alias":
            value = text
        else:
            alphabet = first.get("alphabet") or default_alphabet
            value = f"[[{_phonemes(text, alphabet, graphemes[0], path)}]]"
        entries.extend(_entry(g, value, language, path) for g in graphemes)
    return entries


def _phonemes(text: str, alphabet: str, word: str, path: Path) -> str:
    if alphabet.lower() in ESPEAK_ALPHABETS:
        return text
    if alphabet.lower() != "ipa":
        raise BadInput(f"{path}: '{word}': alphabet '{alphabet}' is not supported (use ipa or x-espeak)")
    return ipa_to_espeak(text, word, path)


def ipa_to_espeak(ipa: str, word: str = "", path: Path | None = None) -> str:
    """IPA as eSpeak NG phoneme names, symbol by symbol; a symbol outside the table is an error naming the entry."""
    out: list[str] = []
    i = 0
    text = ipa.strip().strip("/[]")
    while i < len(text):
        for size in (2, 1):
            piece = text[i : i + size]
            if piece in _IPA:
                out.append(_IPA[piece])
                i += size
                break
        else:
            raise BadInput(f"{path or 'lexicon'}: '{word}': IPA symbol '{text[i]}' has no eSpeak equivalent here; write x-espeak phonemes")
    return "".join(out)


def _entry(word: str, value: str, language: str | None, path: Path) -> Entry:
    word, value = word.strip(), value.strip()
    if not word or not value:
        raise BadInput(f"{path}: an entry has an empty word or pronunciation")
    if value.startswith("[["):
        if not _PHONEMES.fullmatch(value):
            raise BadInput(f"{path}: '{word}': phonemes must be written [[like this]], without other brackets")
        return Entry(word, value, language)
    if "[" in value or "]" in value:
        raise BadInput(f"{path}: '{word}': a respelling cannot hold brackets")
    # eSpeak spells out capitals ("KAY" -> K A Y): the respelling's stress capitals are read lower-case.
    return Entry(word, value.lower(), language)
