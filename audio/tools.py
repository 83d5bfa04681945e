"""Find the external programs (ffmpeg, ffprobe, eSpeak NG) in one place, system copies first."""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from .errors import ToolFailed, ToolMissing

log = logging.getLogger(__name__)

# Environment variables that point the package at other programs (tests and odd setups).
FFMPEG_ENV = "AUDIO_EDITION_FFMPEG"
ESPEAK_LIB_ENV = "AUDIO_EDITION_ESPEAK_LIB"  # path to libespeak-ng, or "bundled"


# ffmpeg's raw PCM demuxer reads a tenth of a second a packet (libavformat's ff_pcm_default_packet_size,
# no option to change it), and every packet then passes between ffmpeg's threads (demuxer, decoder,
# filters, encoder, muxer): 2,600-5,900 thread switches for a minute of audio. Declared at PACKING
# times its rate, the stream comes in packets of 1.5 s, and `asetrate` then gives the samples back their
# true rate without changing one: the same output, byte for byte, for a third less CPU a pass.
PACKING = 16


def pcm_input(sample_rate: int) -> tuple[list[str], str]:
    """ffmpeg's arguments for 16-bit mono PCM on stdin, and the filter that must come first in its
    graph (it ends with a comma: the graph's own filters follow)."""
    return ["-f", "s16le", "-ar", str(sample_rate * PACKING), "-ac", "1", "-i", "pipe:0"], f"asetrate={sample_rate},"


@functools.cache
def ffmpeg() -> str:
    """Path of the ffmpeg to run: $AUDIO_EDITION_FFMPEG, the system's, else imageio-ffmpeg's."""
    chosen = os.environ.get(FFMPEG_ENV)
    if chosen:
        if chosen == "bundled":
            return _bundled_ffmpeg()
        if shutil.which(chosen) is None:
            raise ToolMissing(
                f"ffmpeg not found at {chosen} (set by {FFMPEG_ENV}): install Debian's 'ffmpeg' or 'pip install imageio-ffmpeg'"
            )
        return chosen
    return shutil.which("ffmpeg") or _bundled_ffmpeg()


def pcm_ffmpeg() -> str:
    """The ffmpeg for passes over raw PCM (loudness, limiter), where codecs do not matter.

    imageio-ffmpeg's binary is static: it starts several times faster than a system ffmpeg linked
    against two hundred shared libraries (docs/performance.md), and a build runs two such passes.
    An ffmpeg named by $AUDIO_EDITION_FFMPEG is used for everything.
    """
    if os.environ.get(FFMPEG_ENV):
        return ffmpeg()
    return _static_ffmpeg() or ffmpeg()


@functools.cache
def _static_ffmpeg() -> str | None:
    """imageio-ffmpeg's binary, found in its package without importing it (the import is slow)."""
    import importlib.util

    spec = importlib.util.find_spec("imageio_ffmpeg")
    if spec is None or not spec.origin:
        return None
    found = sorted(p for p in (Path(spec.origin).parent / "binaries").glob("ffmpeg-*") if os.access(p, os.X_OK))
    return str(found[-1]) if found else None


def _bundled_ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ToolMissing("ffmpeg not found: install Debian's 'ffmpeg' or 'pip install imageio-ffmpeg'") from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


# A program that hangs (a stuck ffmpeg) is killed and named, never waited for without end. Its time is
# scaled to the audio: ffmpeg passes over audio at 50-500 times its length; past HANG_SECONDS plus the
# audio's own length it is not slow but stuck. One write it does not take in HANG_SECONDS: stuck too.
HANG_SECONDS = 60.0
PCM_BYTES_PER_SECOND = 32000  # 16-bit mono at 16 kHz, the lowest rate we feed: the longest the audio can be


def time_for(audio_seconds: float) -> float:
    """The seconds a program is given for `audio_seconds` of audio."""
    return HANG_SECONDS + audio_seconds


def run(command: Sequence[str], *, program: str, input: bytes | None = None,
        audio_seconds: float = 0.0) -> subprocess.CompletedProcess[bytes]:
    """Run a program to completion; a non-zero exit raises ToolFailed with its stderr, and so does a
    run past time_for(audio_seconds) (the program is killed)."""
    log.debug("run: %s", " ".join(command))
    try:
        done = subprocess.run(list(command), input=input, capture_output=True, check=False,
                              timeout=time_for(audio_seconds))
    except FileNotFoundError:
        raise ToolMissing(f"{program} not found: {command[0]}") from None
    except subprocess.TimeoutExpired as exc:  # (subprocess.run has killed it)
        raise ToolFailed(program, command, None, f"has not ended after {exc.timeout:.0f} s: it hangs") from None
    if done.returncode != 0:
        raise ToolFailed(program, command, done.returncode, done.stderr.decode("utf-8", "replace"))
    return done


def scratch() -> IO[bytes]:
    """A file for a program's stderr, read back when it ends: in memory (memfd) where the platform has it.

    A temporary file in /tmp is an inode made and freed for every ffmpeg run, and on ext4 without a
    journal every inode made in the next minutes skips the recently freed ones (ialloc.c's
    recently_deleted; docs/performance.md, "Files made and freed")."""
    if hasattr(os, "memfd_create"):
        with contextlib.suppress(OSError):
            return open(os.memfd_create("audio-edition-stderr", os.MFD_CLOEXEC), "w+b")
    return tempfile.TemporaryFile()


def start(command: Sequence[str], *, stdout: Any, stderr: IO[bytes], program: str = "ffmpeg") -> subprocess.Popen[bytes]:
    """Start a program that reads its stdin from us; a missing program is ToolFailed naming it."""
    log.debug("run: %s", " ".join(command))
    try:
        return subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=stdout, stderr=stderr)
    except FileNotFoundError:
        raise ToolFailed(program, command, None, f"{command[0]} not found") from None


def feed(command: Sequence[str], chunks: Iterable[bytes], *, program: str = "ffmpeg") -> bytes:
    """Stream chunks into a program's stdin (memory stays at one chunk), its stdout discarded; returns
    its stderr. A non-zero exit is ToolFailed with the end of that stderr; a program that stops
    reading early is not an error by itself: its exit code and stderr say why."""
    with scratch() as errors:
        process = start(command, stdout=subprocess.DEVNULL, stderr=errors, program=program)
        assert process.stdin is not None
        with Watch(process, program, command) as watch:
            try:
                for chunk in chunks:
                    watch.writing(len(chunk))
                    process.stdin.write(chunk)
                    watch.wrote()
            except BrokenPipeError:
                pass
            finally:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
                watch.closed()
                code = process.wait()
        errors.seek(0)
        stderr = errors.read()
    watch.check()
    if code != 0:
        raise failed(command, code, stderr, program)
    return stderr


class Watch:
    """Kills a program fed through a pipe that hangs: one that takes no input for HANG_SECONDS, or that
    has not ended time_for(the audio fed) after its input was closed. check() then raises ToolFailed."""

    def __init__(self, process: subprocess.Popen[bytes], program: str, command: Sequence[str]) -> None:
        self.process, self.program, self.command = process, program, list(command)
        self.fed = 0
        self._writing_since: float | None = None
        self._deadline: float | None = None
        self.why: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="watch", daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def writing(self, size: int) -> None:
        self.fed += size
        self._writing_since = time.monotonic()

    def wrote(self) -> None:
        self._writing_since = None

    def closed(self) -> None:
        """Its input is whole: it has time_for(that much audio) to end."""
        self._writing_since = None
        self._deadline = time.monotonic() + time_for(self.fed / PCM_BYTES_PER_SECOND)

    def check(self) -> None:
        if self.why is not None:
            raise ToolFailed(self.program, self.command, None, self.why)

    def _watch(self) -> None:
        while not self._done.wait(1.0):
            now = time.monotonic()
            since, deadline = self._writing_since, self._deadline
            if since is not None and now - since > HANG_SECONDS:
                self.why = f"has taken no input for {HANG_SECONDS:.0f} s: it hangs"
            elif deadline is not None and now > deadline and self.process.poll() is None:
                seconds = self.fed / PCM_BYTES_PER_SECOND
                self.why = f"has not ended {time_for(seconds):.0f} s after its input ({seconds:.0f} s of audio): it hangs"
            else:
                continue
            log.debug("%s: %s; killed", self.program, self.why)
            with contextlib.suppress(OSError):
                self.process.kill()
            return


def failed(command: Sequence[str], code: int | None, stderr: bytes, program: str = "ffmpeg") -> ToolFailed:
    """The error for a program that failed, with the end of its stderr (a verbose log can be megabytes)."""
    return ToolFailed(program, command, code, stderr.decode("utf-8", "replace")[-4000:])


class EspeakLibrary(NamedTuple):
    path: str
    data_path: str | None  # None: the library's own compiled-in data location
    bundled: bool


@functools.cache
def load_espeak() -> EspeakLibrary:
    """Load libespeak-ng so that pyttsx3's driver finds it: the system's first, else espeakng-loader's.

    pyttsx3 opens the library by its soname; once a library with that soname is loaded,
    the dynamic linker hands out the same one, so loading ours first is enough. The data
    must match the library's version, so the bundled data is used only with the bundled
    library.
    """
    chosen = os.environ.get(ESPEAK_LIB_ENV, "")
    if chosen not in ("", "bundled"):
        try:
            ctypes.CDLL(chosen, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            raise ToolMissing(f"eSpeak NG library not loadable at {chosen} (set by {ESPEAK_LIB_ENV}): {exc}") from None
        return EspeakLibrary(chosen, os.environ.get("ESPEAK_DATA_PATH"), bundled=False)
    if chosen != "bundled":
        if shared_library("libespeak-ng.so.1", "espeak-ng", mode=ctypes.RTLD_GLOBAL) is not None:
            return EspeakLibrary("libespeak-ng.so.1", None, bundled=False)
        log.debug("no system libespeak-ng loads; trying the bundled one")
    try:
        import espeakng_loader
    except ImportError:
        raise ToolMissing(
            "eSpeak NG not found: install Debian's 'espeak-ng' or 'pip install espeakng-loader'"
        ) from None
    path = str(espeakng_loader.get_library_path())
    data = str(espeakng_loader.get_data_path())
    try:
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        raise ToolMissing(f"eSpeak NG from espeakng-loader does not load ({exc}): install Debian's 'espeak-ng'") from None
    # espeak_Initialize(path=NULL) reads this variable: pyttsx3 passes NULL.
    os.environ["ESPEAK_DATA_PATH"] = data
    return EspeakLibrary(path, data, bundled=True)



def shared_library(soname: str, name: str, **options: Any) -> ctypes.CDLL | None:
    """A system library by its soname, else as ctypes finds it by name, else None. The soname first:
    ctypes.util.find_library runs `ldconfig -p` in a new process at every call."""
    for candidate in (soname, None):
        path = candidate or ctypes.util.find_library(name)
        if path:
            try:
                return ctypes.CDLL(path, **options)
            except OSError:
                continue
    return None
