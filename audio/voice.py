"""Speak sentences into takes (one WAV each) through pyttsx3, hiding its eSpeak driver's faults."""
from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import platform
import re
import sys
import time
import types
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BadInput, ToolFailed

log = logging.getLogger(__name__)

DEFAULT_RATE = 175
RETRIES = 2
_WARM_UP = "a."


@dataclass(frozen=True)
class VoiceSettings:
    voice: str | None = None  # an engine voice id, name or language code; None: the engine's default
    rate: int = DEFAULT_RATE  # words per minute


@dataclass(frozen=True)
class Take:
    path: Path
    frames: int
    sample_rate: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None


def synthesize(texts: Sequence[str], settings: VoiceSettings, workdir: Path) -> tuple[Take, ...]:
    """Speak each text into its own WAV take in workdir; every take is verified before it is returned."""
    engine = _engine(settings)
    workdir.mkdir(parents=True, exist_ok=True)
    return tuple(engine.take(text, workdir / f"take-{i:05d}.wav") for i, text in enumerate(texts))


def voices() -> tuple[VoiceInfo, ...]:
    """The voices the engine has."""
    return _Engine.shared().voices()


def current_voice() -> str | None:
    """The id of the voice the engine speaks with now."""
    value = _Engine.shared()._pyttsx3.getProperty("voice")
    return str(value) if value else None


def engine_name() -> str:
    """Which engine and library speak: recorded in edition.json."""
    if platform.system() == "Linux":
        from . import tools

        lib = tools.load_espeak()
        version = _espeak_version()
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


def _engine(settings: VoiceSettings) -> _Engine:
    engine = _Engine.shared()
    engine.configure(resolve_voice(settings.voice), settings.rate)
    return engine


class _Engine:
    """The one pyttsx3 engine of this process (eSpeak NG can be initialised once per process)."""

    _instance: _Engine | None = None

    @classmethod
    def shared(cls) -> _Engine:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __init__(self) -> None:
        if platform.system() == "Linux":
            from . import tools

            tools.load_espeak()
        import pyttsx3

        _skip_driver_sleep()
        failure: Exception | None = None
        with _quiet(), _c_stderr_captured() as c_errors:
            try:
                self._pyttsx3: Any = pyttsx3.init()
            except (RuntimeError, OSError) as exc:
                failure = exc
        if failure is not None:
            raise ToolFailed("pyttsx3", ["pyttsx3.init()"], None, f"{failure} {c_errors.getvalue()}".strip())
        self._voice: str | None = None
        self._rate: int | None = None
        self._warm = False

    def configure(self, voice: str | None, rate: int) -> None:
        if voice is not None and voice != self._voice:
            self._pyttsx3.setProperty("voice", voice)
            self._voice = voice
            self._warm = False
        if rate != self._rate:
            self._pyttsx3.setProperty("rate", rate)
            self._rate = rate

    def voices(self) -> tuple[VoiceInfo, ...]:
        found = []
        for v in self._pyttsx3.getProperty("voices"):
            languages = tuple(
                lang.decode("utf-8", "replace") if isinstance(lang, bytes) else str(lang) for lang in v.languages or ()
            )
            found.append(VoiceInfo(str(v.id), str(v.name), languages, v.gender))
        return tuple(found)

    def take(self, text: str, path: Path) -> Take:
        """One runAndWait per file (queued saves write only the last), verified, retried."""
        if not self._warm:
            # A fresh eSpeak driver may drop its first long utterance; a short one first makes the rest work.
            self._say(_WARM_UP, path.with_suffix(".warm.wav"))
            with contextlib.suppress(FileNotFoundError):
                path.with_suffix(".warm.wav").unlink()
            self._warm = True
        problem = ""
        for attempt in range(RETRIES + 1):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self._say(text, path)
            take, problem = _verify(path, text, self._rate or DEFAULT_RATE)
            if take is not None:
                return take
            log.debug("take %s attempt %d failed: %s", path.name, attempt + 1, problem)
            self._say(_WARM_UP, path.with_suffix(".warm.wav"))
        raise ToolFailed(
            "pyttsx3/eSpeak NG", ["save_to_file", path.name], None, f"no usable take for {text[:60]!r}: {problem}"
        )

    def _say(self, text: str, path: Path) -> None:
        """One utterance into one file. The driver writes the file inside an eSpeak callback,
        where an exception (a full disk) would be swallowed and its loop would spin forever:
        catch it there, end the loop, and raise it here."""
        failures: list[BaseException] = []
        previous_hook = sys.unraisablehook

        def on_callback_error(unraisable: Any) -> None:
            failures.append(unraisable.exc_value)
            proxy = self._pyttsx3.proxy
            proxy._queue = []  # drop the driver's queued commands: the utterance is over
            proxy._driver.endLoop()

        sys.unraisablehook = on_callback_error
        try:
            with _quiet():
                self._pyttsx3.save_to_file(text, str(path))
                self._pyttsx3.runAndWait()
        finally:
            sys.unraisablehook = previous_hook
        if failures:
            cause = failures[0].__cause__ or failures[0].__context__ or failures[0]
            if isinstance(cause, OSError):
                raise OSError(cause.errno, cause.strerror, str(path))
            raise ToolFailed("pyttsx3/eSpeak NG", ["save_to_file", path.name], None, str(failures[0]))


def _verify(path: Path, text: str, rate: int) -> tuple[Take | None, str]:
    """A take must exist, be a valid 16-bit mono WAV, and last about as long as its text needs."""
    if not path.exists():
        return None, "no file written"
    try:
        with wave.open(str(path), "rb") as wav:
            frames, sample_rate = wav.getnframes(), wav.getframerate()
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                return None, "not 16-bit mono"
    except (wave.Error, EOFError) as exc:
        return None, f"not a valid WAV: {exc}"
    seconds = frames / sample_rate if sample_rate else 0.0
    words = max(1, len(re.findall(r"\w+", text)))
    shortest = 0.2 * words * 60 / rate
    longest = 3.0 + 0.5 * len(text) * 175 / rate
    if not shortest <= seconds <= longest:
        return None, f"{seconds:.2f} s is implausible for {words} words"
    return Take(path, frames, sample_rate), ""


def _skip_driver_sleep() -> None:
    """pyttsx3 2.99's eSpeak driver sleeps 10 ms per loop turn after each utterance.

    Its synthesis runs inside espeak_Synth (retrieval mode calls back synchronously), so the
    sleep only adds 10 ms a take. The driver module gets a `time` without the wait; the
    real module is untouched.
    """
    try:
        from pyttsx3.drivers import espeak as driver
    except Exception:  # another platform's driver, or no eSpeak: nothing to hide
        return
    if getattr(driver, "time", None) is time:
        driver.time = types.SimpleNamespace(sleep=lambda seconds: time.sleep(0), time=time.time)


@contextlib.contextmanager
def _c_stderr_captured() -> Any:
    """Hold what C libraries write to fd 2 while the engine starts (libespeak-ng's audio layer
    probes PulseAudio and complains on machines without sound); it is shown only if init fails."""
    import tempfile

    with tempfile.TemporaryFile(mode="w+b") as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        text = io.StringIO()
        try:
            yield text
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text.write(captured.read().decode("utf-8", "replace"))


@contextlib.contextmanager
def _quiet() -> Any:
    """pyttsx3 prints 'Audio saved to …' on stdout: keep our output clean."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


@functools.cache
def _espeak_version() -> str:
    import ctypes

    lib = ctypes.CDLL("libespeak-ng.so.1")
    lib.espeak_Info.restype = ctypes.c_char_p
    lib.espeak_Info.argtypes = [ctypes.c_void_p]
    raw = lib.espeak_Info(None)
    return raw.decode().split()[0] if raw else "unknown"

