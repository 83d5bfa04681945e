"""The speech seam: what an engine offers (its voices, a take spoken, a version for the cache key), and the
watchers told when each take starts and ends. Every engine is one module (pyttsx3_engine, piper_engine) behind this."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from ..cache import Cache
from ..errors import BadInput
from .takes import Take, VoiceInfo, VoiceSettings


class Engine(Protocol):
    name: str  # as --engine names it
    program: str  # as its errors name it
    language_codes: dict[str, str]  # the engine's own codes for languages known by another (ISO 639-1) code

    def version(self, voice: str | None = None) -> str:
        """The engine and what it runs on, as edition.json records it; part of every take's cache key.
        With a voice id: what else identifies that voice's sound (Piper: its model's and config's hashes)."""

    def voices(self) -> tuple[VoiceInfo, ...]:
        """The voices this engine has here."""

    def speak(self, text: str, settings: VoiceSettings, path: Path) -> Take:
        """One take of `text` into the WAV at `path`, verified (takes.verify); settings.voice is one of
        voices()' ids (or None, the engine's default)."""


def resolve(engine: Engine, wanted: str) -> str:
    """A voice id, name or language code as one of the engine's voice ids; an unknown one is BadInput."""
    key = wanted.strip().lower()
    candidates = engine.voices()
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


def for_language(voices: Sequence[VoiceInfo], language: str, aliases: dict[str, str] | None = None) -> str | None:
    """The voice that reads a language (a tag such as "fr" or "en-us"), or None if none does: the tag's own
    voice first ("en-us": English (America)), then the language's main voice ("fr-ca": the voice whose id
    is "fr"), then any voice of that language. `aliases`: the engine's own codes for some languages."""
    tag = language.strip().lower().replace("_", "-")
    primary = tag.split("-")[0]
    primary = (aliases or {}).get(primary, primary)

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
        for v in voices:
            if test(v):
                return v.id
    return None


# The cache an engine may keep what it derives from a voice in (Piper: its model optimised for this ONNX
# Runtime), set by synthesize before any take is spoken; forked workers inherit it.
_store: list[Cache] = []


def keep_in(cache: Cache | None) -> None:
    """Where engines of this process keep what they derive from their voices; None: nowhere."""
    _store[:] = [cache] if cache is not None else []


def store() -> Cache | None:
    return _store[0] if _store else None


# Told True as each take starts, False as it ends (see watched).
_watchers: list[Callable[[bool], None]] = []


@contextlib.contextmanager
def watched(watcher: Callable[[bool], None]) -> Iterator[None]:
    """Tell `watcher` when this process's engine starts and ends each take: a batch worker so lets
    the batch see a take that hangs (audio/batch.py), as the speech pool sees its workers'."""
    _watchers.append(watcher)
    try:
        yield
    finally:
        _watchers.remove(watcher)


def watching() -> bool:
    """Whether something watches this process's takes (a batch worker's batch does)."""
    return bool(_watchers)


def take(engine: Engine, text: str, settings: VoiceSettings, path: Path) -> Take:
    """engine.speak, the watchers told as it starts and ends."""
    for watcher in _watchers:
        watcher(True)
    try:
        return engine.speak(text, settings, path)
    finally:
        for watcher in _watchers:
            watcher(False)
