"""The system's voice through pyttsx3 (eSpeak NG on Linux, SAPI5 on Windows, NSSpeechSynthesizer on macOS):
the process's one pyttsx3 engine, its eSpeak NG driver's faults hidden, every take verified."""
from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import platform
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ToolFailed
from . import words
from .takes import DEFAULT_RATE, Take, VoiceInfo, VoiceSettings, verify

log = logging.getLogger(__name__)

RETRIES = 2
# How often the driver's loop looks whether eSpeak's thread has finished: often enough to add
# little to a take, rarely enough that two workers' loops leave both cores to eSpeak.
_POLL = 0.0005
_WARM_UP = "a."


def _fix_synth() -> None:
    """Route the driver's espeak_Synth calls through one that gives eSpeak the text's true size and lets
    it read [[...]] as its own phonemes.

    pyttsx3 2.99's driver passes ten times the text's length as its size, and eSpeak NG copies that
    many bytes: a segmentation fault when the text lies before an unmapped page (docs/reliability.md,
    "What these tests found"; tests/speech/test_voice.py puts a text there on purpose). The driver also
    calls espeak_Synth without espeakPHONEMES. The normalizer turns brackets in article
    text into pauses, so only lexicon entries ever reach eSpeak as [[...]].
    """
    try:
        from pyttsx3.drivers import _espeak
    except Exception:  # another platform's driver: no eSpeak here
        return
    if getattr(_espeak.Synth, "sized", False):
        return

    def sized(
        text: bytes | str, position: int = 0, position_type: int = _espeak.POS_CHARACTER, end_position: int = 0,
        flags: int = 0, user_data: Any = None,
    ) -> Any:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return _espeak.cSynth(data, len(data) + 1, position, position_type, end_position, flags | _espeak.PHONEMES,
                              None, user_data)  # + 1: the terminating zero, which ctypes passes after bytes

    sized.sized = True  # type: ignore[attr-defined]
    _espeak.Synth = sized


# The word events of the utterance being spoken: (character of its text, 0-based; ms from its start), as
# eSpeak NG's thread tells them (see _hear_words).
_told: list[tuple[int, int]] = []


def _hear_words() -> None:
    """Record eSpeak NG's word events as it speaks: the driver registers its bound _onSynth with eSpeak at
    init and only notifies "started-word" to listeners of a running loop, so the class's method is wrapped
    before init. Each EVENT_WORD carries text_position (1-based, in characters of the text given: "é", "€"
    and an emoji count one each, tests/speech/test_words.py) and audio_position (ms from the start of the
    utterance, within the samples of the callback that brings it)."""
    try:
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver
    except Exception:  # another platform's driver: no word events
        return
    if getattr(EspeakDriver._onSynth, "hears_words", False):
        return
    original = EspeakDriver._onSynth

    def on_synth(self: Any, wav: Any, numsamples: int, events: Any) -> Any:
        i = 0
        while events[i].type != _espeak.EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _espeak.EVENT_WORD and event.length > 0:  # (eSpeak ends with an empty "word")
                _told.append((event.text_position - 1, event.audio_position))
            i += 1
        return original(self, wav, numsamples, events)

    on_synth.hears_words = True  # type: ignore[attr-defined]
    EspeakDriver._onSynth = on_synth


# Languages that eSpeak NG knows by another code than the ISO 639-1 one detectors and pages give.
ESPEAK_CODES = {"zh": "cmn", "no": "nb", "iw": "he", "in": "id", "fil": "tl"}


class Pyttsx3Engine:
    """The engine (engine.Engine) of the system's voice. Nothing is started until a take is spoken: the
    voices are read from eSpeak NG's files (a started engine runs a thread, and a process with threads
    can no longer fork speech workers: see pool.context)."""

    name = "pyttsx3"
    program = "pyttsx3/eSpeak NG"
    language_codes = ESPEAK_CODES

    def version(self, voice: str | None = None) -> str:
        return engine_name()  # (a voice is one of eSpeak NG's files: its version names them all)

    def voices(self) -> tuple[VoiceInfo, ...]:
        if platform.system() == "Linux" and (Speaker.instance is None or _listed_voices.cache_info().currsize):
            return _listed_voices()  # (once listed, the same voices: a started engine need not read them again)
        return Speaker.shared().voices()

    def speak(self, text: str, settings: VoiceSettings, path: Path) -> Take:
        speaker = Speaker.shared()
        speaker.configure(settings.voice, settings.rate)
        return speaker.take(text, path)

    @staticmethod
    def started() -> bool:
        """Whether this process has started its pyttsx3 engine (eSpeak NG then runs a thread)."""
        return Speaker.instance is not None


class Speaker:
    """The one pyttsx3 engine of this process (eSpeak NG can be initialised once per process)."""

    instance: Speaker | None = None

    @classmethod
    def shared(cls) -> Speaker:
        if cls.instance is None:
            cls.instance = cls()
        return cls.instance

    def __init__(self) -> None:
        if platform.system() == "Linux":
            from .. import tools

            tools.load_espeak()
        import pyttsx3

        _skip_driver_sleep()
        _fix_synth()
        _hear_words()
        failure: Exception | None = None
        with _quiet(), _c_stderr_captured() as c_errors:
            try:
                self._pyttsx3: Any = pyttsx3.init()
            except (RuntimeError, OSError) as exc:
                failure = exc
        if failure is not None:
            raise ToolFailed("pyttsx3", ["pyttsx3.init()"], None, f"{failure} {c_errors.getvalue()}".strip())
        # None asks for the engine's default voice: remembered, so that a take cached under
        # "no voice given" sounds the same whichever voice this process spoke with before.
        self._default_voice: str | None = self._pyttsx3.getProperty("voice")
        self._voice: str | None = self._default_voice
        self._rate: int | None = None
        self._warm = False
        self._voices: tuple[VoiceInfo, ...] | None = None

    def configure(self, voice: str | None, rate: int) -> None:
        voice = voice if voice is not None else self._default_voice
        if voice is not None and voice != self._voice:
            self._pyttsx3.setProperty("voice", voice)
            self._voice = voice
            self._warm = False
        if rate != self._rate:
            self._pyttsx3.setProperty("rate", rate)
            self._rate = rate

    def voices(self) -> tuple[VoiceInfo, ...]:
        """The engine's voices, listed once (listing reads every voice file)."""
        if self._voices is None:
            self._voices = voice_infos(self._pyttsx3.getProperty("voices"))
        return self._voices

    def take(self, text: str, path: Path) -> Take:
        """One runAndWait per file (queued saves write only the last), verified, retried."""
        if not self._warm:
            # A fresh eSpeak driver may drop its first long utterance; a short one first makes the rest work.
            self._say(_WARM_UP, path.with_suffix(".warm.wav"))
            with contextlib.suppress(FileNotFoundError):
                path.with_suffix(".warm.wav").unlink()
            self._warm = True
        problem = ""
        rate = self._rate or DEFAULT_RATE
        short: Take | None = None  # a whole WAV, shorter than its words need: a drop, or all eSpeak says
        for attempt in range(RETRIES + 1):
            with contextlib.suppress(FileNotFoundError):
                if attempt or path.stat().st_size:  # what was there must not pass for this take; the cache's
                    path.unlink()  # empty placeholder is written over in place (an inode less to make and free)
            self._say(text, path)
            take, problem = verify(path, text, rate)
            if take is not None:
                return self._heard(take)
            again, _ = verify(path, text, rate, shortest=0.0)
            if again is not None:
                # Drops come and go; the same length twice is eSpeak's own reading (of a script it has no voice for).
                if short is not None and abs(again.frames - short.frames) <= max(1, short.frames // 100):
                    return self._heard(again)
                short = again
            log.debug("take %s attempt %d failed: %s", path.name, attempt + 1, problem)
            self._say(_WARM_UP, path.with_suffix(".warm.wav"))
            with contextlib.suppress(FileNotFoundError):
                path.with_suffix(".warm.wav").unlink()  # it would litter the take cache
        raise ToolFailed(
            "pyttsx3/eSpeak NG", ["save_to_file", path.name], None, f"no usable take for {text[:60]!r}: {problem}"
        )

    @staticmethod
    def _heard(take: Take) -> Take:
        """The take, its word events written beside it (words.heard) where eSpeak NG told them."""
        if platform.system() == "Linux":
            words.heard(take.path, [(c, (ms * take.sample_rate + 500) // 1000) for c, ms in _told])
        return take

    def _keep_rate(self) -> None:
        """eSpeak NG was seen (after builds at another rate in the same process) to go on speaking at
        the old rate although the new one had been set: where it reports another rate, set it again."""
        if self._rate is None or platform.system() != "Linux":
            return
        from pyttsx3.drivers import _espeak

        current = _espeak.dll.espeak_GetParameter(_espeak.RATE, 1)  # 1: the current value, not the default
        if current != self._rate:
            log.debug("eSpeak NG speaks at %s wpm where %s was set: setting it again", current, self._rate)
            _espeak.SetParameter(_espeak.RATE, self._rate, 0)
            _synchronize()

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
                self._keep_rate()
                _told.clear()  # (eSpeak's thread is idle: the last utterance ended with _synchronize)
                self._pyttsx3.save_to_file(text, str(path))
                self._pyttsx3.runAndWait()
                _synchronize()  # runAndWait may return while eSpeak's thread still writes the file
        finally:
            sys.unraisablehook = previous_hook
        if failures:
            cause = failures[0].__cause__ or failures[0].__context__ or failures[0]
            if isinstance(cause, OSError):
                raise OSError(cause.errno, cause.strerror, str(path))
            raise ToolFailed("pyttsx3/eSpeak NG", ["save_to_file", path.name], None, str(failures[0]))


def _synchronize() -> None:
    """Wait until eSpeak NG's thread has finished all it was given (Linux: its own queue).

    espeak_Synchronize() itself sleeps 20 ms at a time while its thread is busy (speech.c:
    `while (espeak_IsPlaying()) usleep(20000)`), and the thread is often still finishing when the
    driver's loop has ended: a take then waited far longer than its work (docs/performance.md).
    Polled here every _POLL instead; Synchronize() is still called, once the thread is idle (it
    returns at once, and clears the error status as before)."""
    if platform.system() == "Linux":
        from pyttsx3.drivers import _espeak

        while _espeak.IsPlaying():
            time.sleep(_POLL)
        _espeak.Synchronize()


def _skip_driver_sleep() -> None:
    """pyttsx3 2.99's eSpeak driver sleeps 10 ms per loop turn after each utterance.

    eSpeak NG synthesises in its own thread and the driver's callback there ends the loop, so the
    sleep only adds up to 10 ms a take. The driver module gets a `time` that waits _POLL instead
    (not 0: a loop that never sleeps takes a core from the other worker); the real module is untouched.
    """
    try:
        from pyttsx3.drivers import espeak as driver
    except Exception:  # another platform's driver, or no eSpeak: nothing to hide
        return
    if getattr(driver, "time", None) is time:
        driver.time = types.SimpleNamespace(sleep=lambda seconds: time.sleep(_POLL), time=time.time)


@contextlib.contextmanager
def _c_stderr_captured() -> Any:
    """Hold what C libraries write to fd 2 while the engine starts (libespeak-ng's audio layer
    probes PulseAudio and complains on machines without sound); it is shown only if init fails."""
    from ..tools import scratch

    with scratch() as captured:
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
def espeak_version() -> str:
    import ctypes

    lib = ctypes.CDLL("libespeak-ng.so.1")
    lib.espeak_Info.restype = ctypes.c_char_p
    lib.espeak_Info.argtypes = [ctypes.c_void_p]
    raw = lib.espeak_Info(None)
    return raw.decode().split()[0] if raw else "unknown"


@functools.cache
def _listed_voices() -> tuple[VoiceInfo, ...]:
    import ctypes

    from .. import tools

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


def engine_name() -> str:
    """Which engine and library speak: recorded in edition.json."""
    if platform.system() == "Linux":
        from .. import tools

        lib = tools.load_espeak()
        version = espeak_version()
        return f"pyttsx3 2.99 / eSpeak NG {version} ({'bundled' if lib.bundled else 'system'})"
    return f"pyttsx3 / {platform.system()} system voice"
