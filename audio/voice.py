"""Voices and takes: which voice reads an article, what a take is and its cache key; synthesize
speaks the takes (audio/synthesis.py runs them, audio/engine.py is the engine)."""
from __future__ import annotations

import functools
import logging
import platform
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import BadInput

if TYPE_CHECKING:
    from .cache import Cache as TakeCache
    from .engine import Engine

log = logging.getLogger(__name__)

DEFAULT_RATE = 175
# Seconds one take may take before its speaker is taken for hung: a pool worker is replaced (pool.Pool),
# a batch worker too (batch.py), a build speaking its takes itself ends (synthesis._hang_alarm).
TAKE_TIMEOUT = 120.0


class VoiceSettings(NamedTuple):
    voice: str | None = None  # an engine voice id, name or language code; None: the engine's default
    rate: int = DEFAULT_RATE  # words per minute
    # (word, what to say instead): whole words, any case, replaced before the engine speaks.
    lexicon: tuple[tuple[str, str], ...] = ()


class Take(NamedTuple):
    path: Path
    frames: int
    sample_rate: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


class VoiceInfo(NamedTuple):
    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None


def synthesize(
    texts: Sequence[str],
    settings: VoiceSettings,
    workdir: Path | None,
    *,
    cache: TakeCache | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    timeout: float | None = None,
    on_take: Callable[[int, Take], None] | None = None,
) -> tuple[Take, ...]:
    """Speak each text into its own WAV take; every take is verified before it is returned.

    With a cache, takes already made are reused and new ones stored there (else they go to
    workdir, which may then be None). jobs > 1 speaks in that many worker processes; a scheduler address sends the
    work to a Dask cluster. on_take(index, take) is called as each take becomes ready.
    """
    from . import synthesis

    return synthesis.run(texts, settings, workdir, cache, jobs, scheduler, timeout, on_take)


def take_key(text: str, settings: VoiceSettings) -> str:
    """The cache key of a take: everything that changes its sound."""
    from . import cache

    return cache.key(
        engine=engine_name(),
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


def _replacement(say: str, _match: re.Match[str]) -> str:
    return say


@functools.lru_cache(maxsize=1024)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)


def engine_for(settings: VoiceSettings) -> Engine:
    """This process's engine, set to the settings' voice and rate (worker processes call this)."""
    from .engine import Engine

    engine = Engine.shared()
    engine.configure(engine.resolve(settings.voice), settings.rate)
    return engine


def engine_started() -> bool:
    """Whether this process has initialised its engine (eSpeak NG then runs a thread: see audio.pool)."""
    from .engine import Engine

    return Engine._instance is not None


def voices() -> tuple[VoiceInfo, ...]:
    """The voices the engine has.

    Read from eSpeak NG's voice files without starting its engine when this process has none
    yet: a started engine runs a thread, and a process with threads can no longer fork speech
    workers (audio.pool then starts them from a fork server, which costs a third of a second).
    """
    if platform.system() == "Linux" and (not engine_started() or _listed_voices.cache_info().currsize):
        return _listed_voices()  # (once listed, the same voices: a started engine need not read them again)
    from .engine import Engine

    return Engine.shared().voices()


@functools.cache
def _listed_voices() -> tuple[VoiceInfo, ...]:
    import ctypes

    from . import tools

    tools.load_espeak()
    lib = ctypes.CDLL("libespeak-ng.so.1")  # the library load_espeak chose, by its soname
    lib.espeak_ng_InitializePath.argtypes = [ctypes.c_char_p]
    lib.espeak_ng_InitializePath.restype = None
    lib.espeak_ng_InitializePath(None)  # where the data is: $ESPEAK_DATA_PATH, else the library's own
    from pyttsx3.drivers.espeak import EspeakDriver

    return voice_infos(EspeakDriver.getProperty("voices"))  # the driver's own listing (a static method)


def voice_infos(listed: Sequence[Any]) -> tuple[VoiceInfo, ...]:
    found = []
    for v in listed:
        languages = tuple(
            lang.decode("utf-8", "replace") if isinstance(lang, bytes) else str(lang) for lang in v.languages or ()
        )
        found.append(VoiceInfo(str(v.id), str(v.name), languages, v.gender))
    return tuple(found)


def current_voice() -> str | None:
    """The id of the voice the engine speaks with now."""
    from .engine import Engine

    value = Engine.shared()._pyttsx3.getProperty("voice")
    return str(value) if value else None


def engine_name() -> str:
    """Which engine and library speak: recorded in edition.json."""
    if platform.system() == "Linux":
        from . import tools

        from .engine import espeak_version

        lib = tools.load_espeak()
        version = espeak_version()
        return f"pyttsx3 2.99 / eSpeak NG {version} ({'bundled' if lib.bundled else 'system'})"
    return f"pyttsx3 / {platform.system()} system voice"


def resolve_voice(wanted: str | None) -> str | None:
    """Map a voice id, name or language code to an engine voice id; unknown ones are BadInput."""
    if wanted is None:
        return None
    key = wanted.strip().lower()
    candidates = voices()
    for test in (
        lambda v: v.id.lower() == key,
        lambda v: v.id.lower().rsplit("/", 1)[-1] == key,
        lambda v: v.name.lower() == key,
        lambda v: key in (lang.lower() for lang in v.languages),
    ):
        for v in candidates:
            if test(v):
                return v.id
    raise BadInput(f"--voice '{wanted}': no such voice (list them with 'audio-edition voices')")


# Languages that eSpeak NG knows by another code than the ISO 639-1 one detectors and pages give.
_ESPEAK_CODES = {"zh": "cmn", "no": "nb", "iw": "he", "in": "id", "fil": "tl"}


def voice_for_language(language: str) -> str | None:
    """The engine voice that reads a language (a tag such as "fr" or "en-us"), or None if it has none.

    The tag's own voice first ("en-us": English (America)), then the language's main voice
    ("fr-ca": the voice whose id is "fr"), then any voice of that language.
    """
    tag = language.strip().lower().replace("_", "-")
    primary = tag.split("-")[0]
    primary = _ESPEAK_CODES.get(primary, primary)
    found = voices()

    def tail(v: VoiceInfo) -> str:
        return v.id.lower().rsplit("/", 1)[-1]

    def langs(v: VoiceInfo) -> list[str]:
        return [lang.lower() for lang in v.languages]

    tests: tuple[Callable[[VoiceInfo], bool], ...] = (
        lambda v: tag in langs(v) or tail(v) == tag,
        lambda v: tail(v) == primary,
        lambda v: primary in langs(v),
        lambda v: any(lang.split("-")[0] == primary for lang in langs(v)),
    )
    for test in tests:
        for v in found:
            if test(v):
                return v.id
    return None
