"""The article's language: --lang, else the page's metadata, else detection from the text (py3langid, offline)."""
from __future__ import annotations

import functools
import logging
import math
import os
import struct
import sys
import unicodedata
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT = "en"
# Below these, a guess is noise ("An earlier story." scores 0.29): the default stands.
MIN_LETTERS = 40
MIN_CONFIDENCE = 0.9
SAMPLE = 20_000  # characters: more text does not change the answer, only the time


def choose(given: str | None, page: str | None, text: str, configured: str | None = None) -> str:
    """--lang wins, then the page's own metadata, then the config's language, then what the text looks
    like, then English."""
    return given or page or configured or detect(text) or DEFAULT


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
    """py3langid's model. Its file is LZMA-compressed (slow to unpack at every start: docs/performance.md),
    so the first use unpacks it once into the user cache directory as plain arrays, which later
    builds map into memory and score without NumPy (_MappedModel); where that directory cannot be
    written, py3langid unpacks the model in memory."""
    # py3langid's own path imports NumPy, whose OpenBLAS thread pool only costs CPU (docs/performance.md).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    source = _model_file()
    try:
        return _MappedModel(_unpacked(source))
    except (OSError, ValueError, KeyError) as error:
        log.debug("language model: not unpacked to the cache (%s); unpacking in memory", error)
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _model_file() -> Path:
    """py3langid's model file, found without importing py3langid (which imports NumPy)."""
    import importlib.util

    spec = importlib.util.find_spec("py3langid")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("py3langid is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "model.npz.xz"


class _MappedModel:
    """py3langid's classifier (naive Bayes over the byte n-grams a DFA finds) over the unpacked arrays,
    memory-mapped: the same answers as py3langid's classify(), without importing NumPy, and with none of
    its arrays copied (py3langid copies the 39 MB transition table at every start)."""

    def __init__(self, arrays: dict[str, Any]) -> None:
        self.ptc, self.pc = arrays["ptc"], arrays["pc"]
        self.classes = arrays["classes"]
        self.nextmove, self.row, self.out = arrays["nextmove"], arrays["nextmove_row"], arrays["out_feat"]
        self.width = len(self.pc)
        self.row_of = struct.Struct(f"<{self.width}e")  # a feature's half-float scores, one per class
        first: dict[str, int] = {}
        self.aliases = []  # (first, duplicate) columns of a label given twice (a language in two scripts)
        for i, label in enumerate(self.classes):
            if label in first:
                self.aliases.append((first[label], i))
            else:
                first[label] = i

    def classify(self, text: str) -> tuple[str, float]:
        if text.isupper():
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass")
        counts = self.features(data)
        if not counts:
            scores = [0.0] * self.width
        elif "numpy" in sys.modules:  # loaded already (a warm process): faster (docs/performance.md)
            scores = self.scores_numpy(counts)
        else:
            scores = self.scores(counts)
        scale = 1.0 / math.sqrt(len(data) or 1)
        top = max(scores) * scale
        probs = [math.exp(s * scale - top) for s in scores]
        total = sum(probs)
        probs = [p / total for p in probs]
        for i, j in self.aliases:
            probs[i] += probs[j]
            probs[j] = 0.0
        best = max(range(len(probs)), key=probs.__getitem__)
        return self.classes[best], probs[best]

    def features(self, data: bytes) -> dict[int, int]:
        """How often each of the model's byte n-grams occurs (its DFA's walk over the bytes)."""
        nextmove, row, out = self.nextmove, self.row, self.out
        state = 0
        counts: dict[int, int] = {}
        for byte in data:
            state = nextmove[(row[state] << 8) + byte]
            feature = out[state]
            if feature >= 0:
                counts[feature] = counts.get(feature, 0) + 1
        return counts

    def scores(self, counts: dict[int, int]) -> list[float]:
        """Each language's score: its prior plus, feature after feature, log(1 + count) times the
        feature's weight for it."""
        scores: list[float] = self.pc.tolist()
        unpack, ptc, size = self.row_of.unpack_from, self.ptc, self.row_of.size
        for feature, count in counts.items():
            weight = math.log1p(count)
            scores = [s + weight * p for s, p in zip(scores, unpack(ptc, feature * size))]
        return scores

    def scores_numpy(self, counts: dict[int, int]) -> list[float]:
        """scores(), bit for bit: the same products (math.log1p's weights, in float64), added one
        feature after another in the same order (an axis-0 reduction adds row by row)."""
        import numpy as np

        terms = np.empty((len(counts) + 1, self.width))
        terms[0] = self.pc
        rows = np.frombuffer(self.ptc, dtype="<f2").reshape(-1, self.width)
        features = np.fromiter(counts, dtype=np.intp, count=len(counts))
        weights = np.array([math.log1p(count) for count in counts.values()])
        np.multiply(rows[features], weights[:, None], out=terms[1:])
        scores: list[float] = np.add.reduce(terms, axis=0).tolist()
        return scores


_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def _unpacked(source: Path) -> dict[str, Any]:
    """The model's arrays, memory-mapped from <user cache>/models/<model file's size and time>/ (made once)."""
    import lzma
    import shutil
    import tempfile

    import platformdirs

    stat = source.stat()
    root = Path(platformdirs.user_cache_dir("audio-edition", appauthor=False)) / "models"
    where = root / f"py3langid-{stat.st_size}-{stat.st_mtime_ns}"
    if not (where / "ptc.npy").exists():
        import numpy as np  # once: later builds read the unpacked arrays without it

        root.mkdir(parents=True, exist_ok=True)
        making = Path(tempfile.mkdtemp(prefix=".py3langid.", dir=root))
        try:
            with tempfile.TemporaryFile(dir=making) as npz:
                with lzma.open(source) as packed:
                    shutil.copyfileobj(packed, npz, 1 << 20)
                npz.seek(0)
                with np.load(npz, allow_pickle=False) as data:
                    for name in _ARRAYS:
                        np.save(making / f"{name}.npy", data[name], allow_pickle=False)
            try:
                os.rename(making, where)  # whole or not at all; another build may have won the race
            except OSError:
                if not (where / "ptc.npy").exists():
                    raise
        finally:
            shutil.rmtree(making, ignore_errors=True)
        for stale in root.glob("py3langid-*"):  # an earlier install's model
            if stale != where:
                shutil.rmtree(stale, ignore_errors=True)
    return {name: _mapped(where / f"{name}.npy") for name in _ARRAYS}


_TYPECODES = {"<f2": "e", "<f4": "f", "<u2": "H", "<u4": "I", "<i4": "i"}  # "e": read with struct (no memoryview cast)


def _mapped(path: Path) -> Any:
    """A .npy file's array without NumPy: its numbers as a memoryview of the mapped file (little-endian
    machines; labels as a list of str)."""
    import ast
    import mmap

    with open(path, "rb") as handle:
        head = handle.read(10)
        if head[:6] != b"\x93NUMPY":
            raise ValueError(f"{path}: not a .npy file")
        if head[6] == 1:
            size, start = struct.unpack("<H", head[8:10])[0], 10
        else:  # versions 2 and 3: a 4-byte header length
            size, start = struct.unpack("<I", head[8:10] + handle.read(2))[0], 12
        handle.seek(start)
        header = ast.literal_eval(handle.read(size).decode("latin-1"))
        if header["fortran_order"] or sys.byteorder != "little":
            raise ValueError(f"{path}: layout not mapped here")
        kind = header["descr"]
        if kind.startswith("<U"):  # labels: UTF-32 strings of a fixed width
            width = int(kind[2:])
            raw = handle.read()
            return [raw[i : i + 4 * width].decode("utf-32-le").rstrip("\0") for i in range(0, len(raw), 4 * width)]
        if kind not in _TYPECODES:
            raise ValueError(f"{path}: dtype {kind} not mapped here")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    data = memoryview(mapped)[start + size :]
    code: Any = _TYPECODES[kind]  # one of memoryview's formats (mypy wants a literal)
    return data if kind == "<f2" else data.cast(code)
