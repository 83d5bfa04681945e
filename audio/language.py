"""The article's language: --lang, else the page's metadata, else detection from the text (py3langid, offline)."""
from __future__ import annotations

import functools
import re
from typing import Any

DEFAULT = "en"
# Below these, a guess is noise ("An earlier story." scores 0.29): the default stands.
MIN_LETTERS = 40
MIN_CONFIDENCE = 0.9
SAMPLE = 20_000  # characters: more text does not change the answer, only the time
_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")


def normalize_tag(value: str) -> str | None:
    """'fr_FR', 'EN-us' -> 'fr-fr', 'en-us'; None for what is no language tag."""
    tag = value.strip().replace("_", "-").lower()
    return tag if _TAG.fullmatch(tag) and tag not in ("und", "mul", "zxx") else None


def choose(given: str | None, page: str | None, text: str) -> str:
    """--lang wins, then the page's own metadata, then what the text looks like, then English."""
    return given or page or detect(text) or DEFAULT


def detect(text: str) -> str | None:
    """The language of the text as an ISO 639 code, or None when there is too little text to be sure."""
    sample = text[:SAMPLE]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    code, confidence = _identifier().classify(sample)
    if code in ("zxx", "und") or confidence < MIN_CONFIDENCE:
        return None
    return str(code)


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
