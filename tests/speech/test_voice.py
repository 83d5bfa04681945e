"""The engine wrapper against pyttsx3 2.99's eSpeak faults, and the bundled eSpeak NG and ffmpeg."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from audio.errors import ToolFailed
from audio.speech import pyttsx3_engine as speech
from audio.speech import synthesis, takes, voice

from ..conftest import ROOT, SAMPLE

LONG = SAMPLE.read_text(encoding="utf-8").splitlines()[0]  # about ten seconds of speech


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, timeout=120
    )


def test_long_first_utterance_in_a_fresh_process_gets_its_take(tmp_path: Path) -> None:
    code = (
        "import json, sys; from pathlib import Path; from audio.speech import synthesis, takes\n"
        f"takes = synthesis.synthesize([{LONG!r}, 'Short.', {LONG!r}], takes.VoiceSettings(), Path({str(tmp_path)!r}))\n"
        "json.dump([[str(t.path), (t.frames / t.sample_rate)] for t in takes], sys.stderr)\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # pyttsx3's "Audio saved to …" never reaches our output
    takes = json.loads(done.stderr)
    assert len({path for path, _ in takes}) == 3  # one file a take, not only the last one queued
    assert all(Path(path).exists() for path, _ in takes)
    assert takes[0][1] > 6 and takes[1][1] < 2 and takes[2][1] > 6


def test_takes_are_real_wavs_that_count_up_to_their_last_sound(tmp_path: Path) -> None:
    spoken = synthesis.synthesize(["One.", "Two words here and more words."], takes.VoiceSettings(rate=200), tmp_path)
    for take in spoken:
        with wave.open(str(take.path)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
            samples = wav.readframes(wav.getnframes())
        # eSpeak NG ends a take with its own silence (about 0.3 s of zeros), kept in the file, left out of the take.
        assert samples[2 * take.frames:].strip(b"\0") == b""
        assert len(samples) // 2 - take.frames > 0.2 * take.sample_rate
        assert samples[2 * take.frames - 2:2 * take.frames] != b"\0\0"
    assert spoken[1].frames > spoken[0].frames


def test_a_takes_trailing_silence_is_found_across_blocks_and_odd_bytes(tmp_path: Path) -> None:
    from audio.speech.takes import wav_frames

    path = tmp_path / "t.wav"
    for sound, silence in (([1000, -3, 5], 40000), ([256], 3), ([7], 0), ([], 500)):
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(22050)
            wav.writeframes(b"".join(v.to_bytes(2, "little", signed=True) for v in [0] * 10 + sound) + bytes(2 * silence))
        expected = 10 + len(sound) if sound else 10 + silence  # a take of silence only keeps its length
        assert wav_frames(path) == (expected, 22050)


def write_wav(path: Path, seconds: float, rate: int = 22050) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(int(seconds * rate) * 2))


def test_verify_rejects_missing_broken_and_implausible_takes(tmp_path: Path) -> None:
    path = tmp_path / "t.wav"
    assert takes.verify(path, "hello", 175) == (None, "no file written")
    path.write_bytes(b"RIFF\x00\x00")
    assert takes.verify(path, "hello", 175)[1].startswith("not a valid WAV")
    write_wav(path, 0.01)
    assert "implausible" in takes.verify(path, "ten words " * 5, 175)[1]
    write_wav(path, 2.0)
    take, problem = takes.verify(path, "ten words " * 5, 175)
    assert take is not None and problem == "" and take.frames == 44100


def test_a_dropped_take_is_retried_then_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = speech.Speaker.shared()
    engine.configure(None, takes.DEFAULT_RATE)  # other tests' builds may have left it at 450 wpm
    real_say = engine._say
    calls: list[str] = []

    def flaky(text: str, path: Path) -> None:
        calls.append(text)
        if len(calls) == 2:  # the first real attempt (after the warm-up) writes nothing
            return
        real_say(text, path)

    monkeypatch.setattr(engine, "_say", flaky)
    monkeypatch.setattr(engine, "_warm", False)
    take = engine.take("A sentence that must not be lost.", tmp_path / "a.wav")
    assert take.path.exists() and (take.frames / take.sample_rate) > 1

    monkeypatch.setattr(engine, "_say", lambda text, path: None)
    with pytest.raises(ToolFailed, match=r"no usable take for 'Never written\.': no file written"):
        engine.take("Never written.", tmp_path / "b.wav")


def test_voices_are_listed_without_starting_the_engine() -> None:
    """A build looks its voice up before speaking: an engine started then would keep its workers from forking."""
    code = (
        "import json, sys; from audio.speech import pyttsx3_engine as speech, voice\n"
        "listed = voice.voices(); started = voice.engine_started()\n"
        "speech.Speaker.shared()\n"
        "json.dump({'started': started, 'count': len(listed), 'same': listed == voice.voices(),"
        " 'fr': voice.choose('fr', None)}, sys.stderr)\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stderr)
    assert found["started"] is False and found["count"] > 50 and found["same"] is True
    assert found["fr"].endswith("/fr")


def test_a_rate_espeak_did_not_take_is_set_again(tmp_path: Path) -> None:
    """eSpeak NG was seen to go on at the rate of earlier builds in the process: the take is spoken at the set rate."""
    from pyttsx3.drivers import _espeak

    engine = speech.Speaker.shared()
    text = "Two words here and more words."
    slow = synthesis.synthesize([text], takes.VoiceSettings(rate=175), tmp_path / "slow")[0]
    _espeak.SetParameter(_espeak.RATE, 450, 0)  # behind the wrapper's back: it still believes 175
    _espeak.Synchronize()
    assert engine._rate == 175 and _espeak.dll.espeak_GetParameter(_espeak.RATE, 1) == 450
    again = synthesis.synthesize([text], takes.VoiceSettings(rate=175), tmp_path / "again")[0]
    assert abs((again.frames / again.sample_rate) - (slow.frames / slow.sample_rate)) < 0.1 * (slow.frames / slow.sample_rate)


def test_a_take_cut_short_once_is_spoken_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = speech.Speaker.shared()
    engine.configure(None, takes.DEFAULT_RATE)
    real_say = engine._say
    calls: list[str] = []

    def cut_once(text: str, path: Path) -> None:
        calls.append(text)
        real_say(text, path)
        if text != speech._WARM_UP and len(calls) <= 2:  # the first real attempt keeps only a tenth of a second
            write_wav(path, 0.1)

    monkeypatch.setattr(engine, "_say", cut_once)
    take = engine.take("A sentence that must not be cut short.", tmp_path / "a.wav")
    assert (take.frames / take.sample_rate) > 1.5


def test_what_espeak_cannot_say_is_its_own_short_take(tmp_path: Path) -> None:
    """A letter of a script eSpeak NG has no voice for: the same short take on every try is accepted, not an error."""
    take = synthesis.synthesize(["\u13a0."], takes.VoiceSettings(rate=450), tmp_path)[0]  # CHEROKEE LETTER A
    assert (take.frames / take.sample_rate) < takes.SHORTEST * 60 / 450


def test_bundled_espeak_and_ffmpeg_build_an_edition(tmp_path: Path) -> None:
    """The copies PyPI ships, as a machine without system eSpeak NG or ffmpeg would use them."""
    story = tmp_path / "story.txt"
    story.write_text("A short story.\nIt has two paragraphs.\n", encoding="utf-8")
    code = (
        "import json, sys; from pathlib import Path; from audio import edition, tools\n"
        f"e = edition.build(Path({str(story)!r}), edition.BuildOptions(out=Path({str(tmp_path / 'out')!r})))\n"
        "json.dump({'engine': e.manifest['engine'], 'ffmpeg': tools.ffmpeg(), 'lib': tools.load_espeak().path,"
        " 'chapters': len(e.manifest['chapters'])}, sys.stdout)\n"
    )
    done = run_python(code, AUDIO_EDITION_ESPEAK_LIB="bundled", AUDIO_EDITION_FFMPEG="bundled")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["engine"].endswith("(bundled)")
    assert "imageio_ffmpeg" in result["ffmpeg"] and "espeakng_loader" in result["lib"]
    assert result["chapters"] == 3


def test_voice_names_resolve_and_unknown_ones_are_refused() -> None:
    assert voice.choose("fr", "en-us") == voice.choose("fr", "gmw/en-us") == "gmw/en-us"
    assert voice.choose("en-us", None) == "gmw/en-us"
    with pytest.raises(Exception, match="no such voice"):
        voice.choose("en", "xx-nowhere")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUDIO_EDITION_ESPEAK_LIB": "/nowhere/libespeak-ng.so.1"},
         "Error: eSpeak NG library not loadable at /nowhere/libespeak-ng.so.1 (set by AUDIO_EDITION_ESPEAK_LIB): "),
        ({"AUDIO_EDITION_FFMPEG": "/nowhere/ffmpeg"},
         "Error: ffmpeg not found at /nowhere/ffmpeg (set by AUDIO_EDITION_FFMPEG): install Debian's 'ffmpeg' or "
         "'pip install imageio-ffmpeg'\n"),
    ],
)
def test_missing_engine_or_ffmpeg_says_what_to_install(tmp_path: Path, env: dict[str, str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "audio", "build", str(SAMPLE), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "moscow-times-belarus").exists()


# A child process (a crash must not take pytest with it): speak through the driver's espeak_Synth as
# this package installs it, note the size it hands eSpeak NG, then give the real espeak_Synth a copy of
# the same text that ends right before an unreadable page, with that size.
_TEXT_AT_A_PAGE_END = r"""
import ctypes, mmap
from audio.speech import pyttsx3_engine as speech
from audio.speech import voice
speech.Speaker.shared()
from pyttsx3.drivers import _espeak
real, seen = _espeak.cSynth, []
_espeak.cSynth = lambda text, size, *rest: seen.append((text, size)) or real(text, size, *rest)
_espeak.Synth("Hello there.".encode("utf-8"), flags=_espeak.ENDPAUSE | _espeak.CHARS_UTF8)
_espeak.Synchronize()
(text, size), = seen
libc = ctypes.CDLL(None)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
page = mmap.PAGESIZE
area = mmap.mmap(-1, 2 * page)
start = ctypes.addressof(ctypes.c_char.from_buffer(area))
assert libc.mprotect(start + page, page, 0) == 0  # PROT_NONE: reading past the text faults
placed = start + page - len(text) - 1
ctypes.memmove(placed, text + b"\0", len(text) + 1)
print(len(text), size, flush=True)
real(ctypes.cast(placed, ctypes.c_char_p), size, 0, _espeak.POS_CHARACTER, 0, _espeak.CHARS_UTF8, None, None)
_espeak.Synchronize()
print("spoken", flush=True)
"""


def test_espeak_is_never_told_a_text_is_longer_than_it_is() -> None:
    """pyttsx3's driver passes 10 x the text's length; eSpeak NG copies that many bytes and faults when
    the text ends before an unmapped page (a CI run died so). The size passed is the text and its zero."""
    done = subprocess.run([sys.executable, "-c", _TEXT_AT_A_PAGE_END], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-500:])
    length, size, spoken = done.stdout.split()
    assert (int(size), spoken) == (int(length) + 1, "spoken")


def test_the_engine_takes_lexicon_phonemes_as_phonemes(tmp_path: Path) -> None:
    """Through pyttsx3 (the build's engine): [[m'akeI]] sounds like 'Makei', not like its letters read out."""
    spoken = synthesis.synthesize(["Makei.", "[[m'akeI]].", "m apostrophe a k e I."], takes.VoiceSettings("gmw/en"), tmp_path, jobs=1)
    lengths = []
    for take in spoken:
        with wave.open(str(take.path)) as wav:
            lengths.append(wav.getnframes())
    word, phonemes, letters = lengths
    assert abs(phonemes - word) < 0.05 * word
    assert letters > 2 * word
