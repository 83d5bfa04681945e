"""The article's language: --lang, else the page's metadata, else detection from the text (py3langid, offline)."""
from __future__ import annotations

import functools
import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

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
    """py3langid's model. Its file is LZMA-compressed (0.5 s to unpack at every start, most of a short
    build), so the first use unpacks it once into the user cache directory as plain arrays, which later
    builds map into memory; where that directory cannot be written, the model is unpacked in memory."""
    # The model is scored by sparse lookups: OpenBLAS's thread pool, started when NumPy is imported,
    # only costs (0.13 s of CPU at every start on two cores).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    source = Path(MODEL_DIR) / MODEL_FILE
    try:
        arrays = _unpacked(source)
    except (OSError, ValueError, KeyError) as error:
        log.debug("language model: not unpacked to the cache (%s); unpacking in memory", error)
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    from py3langid.modelio import _to_array

    return LanguageIdentifier(
        arrays["ptc"], arrays["pc"], arrays["classes"].tolist(), _to_array(arrays["nextmove"]),
        arrays["out_feat"].tolist(), norm_probs=True, tk_row=_to_array(arrays["nextmove_row"]),
    )


_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def _unpacked(source: Path) -> dict[str, Any]:
    """The model's arrays, memory-mapped from <user cache>/models/<model file's size and time>/ (made once)."""
    import lzma
    import shutil
    import tempfile

    import numpy as np
    import platformdirs

    stat = source.stat()
    root = Path(platformdirs.user_cache_dir("audio-edition", appauthor=False)) / "models"
    where = root / f"py3langid-{stat.st_size}-{stat.st_mtime_ns}"
    if not (where / "ptc.npy").exists():
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
    return {name: np.load(where / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS}
