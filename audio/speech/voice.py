"""Which engine and voice read an article, resolved once; what the engine is given to say (the lexicon
applied), and the cache key of every take."""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from .. import cache
from ..errors import BadInput
from . import engine as seam
from .engine import Engine
from .takes import VoiceInfo, VoiceSettings

ENGINES = ("pyttsx3", "piper")


@functools.cache
def engine(name: str = "pyttsx3") -> Engine:
    """This process's engine of that name (--engine)."""
    if name == "pyttsx3":
        from .pyttsx3_engine import Pyttsx3Engine

        return Pyttsx3Engine()
    if name == "piper":
        from .piper_engine import PiperEngine

        return PiperEngine()
    raise BadInput(f"--engine '{name}': no such engine (there are: {', '.join(ENGINES)})")


def engine_started() -> bool:
    """Whether this process has started an engine that runs threads of its own (see pool.context)."""
    import sys

    from .pyttsx3_engine import Pyttsx3Engine

    piper = sys.modules.get(f"{__package__}.piper_engine")  # (never loaded a model if never imported)
    return Pyttsx3Engine.started() or (piper is not None and piper.PiperEngine.started())


def voices(name: str = "pyttsx3") -> tuple[VoiceInfo, ...]:
    return engine(name).voices()


def choose(language: str, wanted: str | None, name: str = "pyttsx3") -> str:
    """The id of the voice that reads: `wanted` (--voice, else the config's: an id, name or language code)
    resolved, else the engine's voice for the article's language."""
    speaker = engine(name)
    if name == "piper":  # a model file or folder is a voice too, and the language must match the model's
        from .piper_engine import PiperEngine

        assert isinstance(speaker, PiperEngine)
        return speaker.choose(language, wanted)
    if wanted is not None:
        return seam.resolve(speaker, wanted)
    found = seam.for_language(speaker.voices(), language, speaker.language_codes)
    if found is None:
        raise BadInput(
            f"no voice speaks the article's language '{language}': pick one with --voice "
            "(see 'audio-edition voices'), or set the language with --lang"
        )
    return found


def take_key(text: str, settings: VoiceSettings) -> str:
    """The cache key of a take: everything that changes its sound."""
    return cache.key(
        engine=engine(settings.engine).version(settings.voice),
        voice=settings.voice,
        rate=settings.rate,
        lexicon=sorted(lexicon_used(text, settings.lexicon)),
        text=text,
    )


def lexicon_used(text: str, lexicon: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(word, say) for word, say in lexicon if _word_pattern(word).search(text)]


def engine_text(text: str, lexicon: Sequence[tuple[str, str]]) -> str:
    """The text handed to the engine: lexicon words replaced by what to say."""
    for word, say in lexicon:
        text = _word_pattern(word).sub(functools.partial(_replacement, say), text)
    return text


def engine_origins(text: str, lexicon: Sequence[tuple[str, str]]) -> list[int]:
    """For each character of the text the engine got (engine_text), the character of `text` it comes
    from: a replaced word's every character comes from the word's first."""
    current, origin = text, list(range(len(text)))
    for word, say in lexicon:
        pieces: list[str] = []
        mapped: list[int] = []
        last = 0
        for match in _word_pattern(word).finditer(current):
            pieces.append(current[last:match.start()])
            mapped.extend(origin[last:match.start()])
            pieces.append(say)
            mapped.extend([origin[match.start()]] * len(say))
            last = match.end()
        pieces.append(current[last:])
        mapped.extend(origin[last:])
        current, origin = "".join(pieces), mapped
    return origin


def _replacement(say: str, _match: re.Match[str]) -> str:
    return say


@functools.lru_cache(maxsize=1024)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
