"""Issue 6: take cache, worker pool, MP3 pieces joined sample-exact, batch builds, a Dask cluster."""
from __future__ import annotations

import array
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from audio import cache, edition, manifest, publish
from audio.cli.main import main
from audio.config import Pauses
from audio.errors import ToolFailed
from audio.sound import live, loudness, mp3, mp3frames, render
from audio.sound.tagging import Tags
from audio.sound.timeline import plan
from audio.speech import pool, synthesis, takes, voice
from audio.text.script import Chapter, Script, Sentence

from .conftest import need_program

RATE = 22050
ARTICLE = """Minsk said on Tuesday that it would release fourteen prisoners.

The announcement came after talks in the capital that lasted two days.

Observers were cautious. Several said the gesture was symbolic.

Exiled opposition leaders called for more releases."""


def write_article(path: Path, text: str = ARTICLE) -> Path:
    path.write_text(text + "\n", encoding="utf-8")
    return path


def decode(path: Path) -> array.array[int]:
    need_program("ffmpeg")
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-"], capture_output=True, check=True)
    samples = array.array("h")
    samples.frombytes(raw.stdout)
    return samples


def tone_take(directory: Path, name: str, frames: int, frequency: float) -> voice.Take:
    path = directory / f"{name}.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(array.array("h", (int(6000 * math.sin(2 * math.pi * frequency * i / RATE)) for i in range(frames))).tobytes())
    return takes.Take(path, frames, RATE)


def test_take_key_covers_everything_that_changes_the_sound() -> None:
    base = takes.VoiceSettings("en-us", 175, (("Makei", "mah-KAY"),))
    key = voice.take_key("Makei spoke.", base)
    assert voice.take_key("Makei spoke.", base) == key
    assert voice.take_key("Makei spoke!", base) != key  # the text
    assert voice.take_key("Makei spoke.", takes.VoiceSettings("en-gb", 175, base.lexicon)) != key  # the voice
    assert voice.take_key("Makei spoke.", takes.VoiceSettings("en-us", 176, base.lexicon)) != key  # the rate
    assert voice.take_key("Makei spoke.", takes.VoiceSettings("en-us", 175, (("Makei", "mah-KEY"),))) != key
    # An entry the sentence does not use leaves its key alone: other takes stay cached when the lexicon grows.
    grown = takes.VoiceSettings("en-us", 175, base.lexicon + (("Lukashenko", "loo-kah-SHEN-ko"),))
    assert voice.take_key("Makei spoke.", grown) == key
    assert voice.engine().version() in json.dumps(voice.engine().version())  # the engine and its version name the key too
    assert voice.engine_text("makei and MAKEI, not Makeiev.", base.lexicon) == "mah-KAY and mah-KAY, not Makeiev."


def test_a_cache_entry_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    """Its partial is removed (a full disk used to leave one an entry, for prune to find an hour later)."""
    store = cache.Cache(tmp_path / "cache")
    with pytest.raises(TypeError):
        store.write_json("loudness", "ab" * 32, {"peak": object()})
    assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []
    store.write_json("loudness", "ab" * 32, {"peak": 1})
    assert store.read_json("loudness", "ab" * 32) == {"peak": 1}


def test_cache_remakes_a_truncated_or_damaged_take(tmp_path: Path) -> None:
    store = cache.Cache(tmp_path / "cache")
    settings = takes.VoiceSettings()
    texts = ["The first sentence is here.", "A second one follows it."] + [f"Then number {n}." for n in range(3, 8)]
    first = synthesis.synthesize(texts, settings, tmp_path / "w", cache=store, jobs=2)  # two worker processes
    assert all(takes.cached(store, voice.take_key(t, settings)) is not None for t in texts)
    whole = first[0].path.read_bytes()
    first[0].path.write_bytes(whole[: len(whole) // 2])  # truncated: header and size disagree
    damaged = bytearray(first[1].path.read_bytes())
    damaged[:4] = b"JUNK"
    first[1].path.write_bytes(bytes(damaged))
    assert takes.cached(store, voice.take_key(texts[0], settings)) is None
    made: list[int] = []
    again = synthesis.synthesize(texts, settings, tmp_path / "w", cache=store, on_take=lambda i, take: made.append(i))
    assert all(takes.wav_frames(t.path) is not None for t in again)
    assert sorted(made) == list(range(len(texts)))
    assert not list((tmp_path / "cache").rglob("*.partial*"))


def test_a_missing_take_looked_up_never_removes_the_one_another_build_commits_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two builds of one article share a cache: one finds a take missing while the other commits it.
    The lookup must not remove what is there by then (CI saw the other build fail: its take was gone)."""
    store = cache.Cache(tmp_path / "cache")
    entry = voice.take_key("Minsk and Kyiv talked.", takes.VoiceSettings())
    tone = tone_take(tmp_path, "good", 4000, 440.0)
    good, frames = tone.path.read_bytes(), tone.frames
    looked = takes.wav_frames

    def other_build_commits_after_the_look(path: Path) -> tuple[int, int] | None:
        found = looked(path)
        told = store.partial("takes", entry, ".words.json")  # (a take's words are committed first: synthesis)
        told.write_text(json.dumps({"frames": frames, "words": None}), encoding="utf-8")
        store.commit(told, "takes", entry, ".words.json")
        partial = store.partial("takes", entry, ".wav")
        partial.write_bytes(good)
        store.commit(partial, "takes", entry, ".wav")
        return found

    monkeypatch.setattr(takes, "wav_frames", other_build_commits_after_the_look)
    assert takes.cached(store, entry) is None  # missing when looked at
    monkeypatch.setattr(takes, "wav_frames", looked)
    assert takes.cached(store, entry) is not None  # and the other build's take is still there
    damaged = store.path("takes", entry, ".wav")
    damaged.write_bytes(good[:100])
    assert takes.cached(store, entry) is None and damaged.exists()  # damaged: not used, left for the remade take to replace
    store.write_json("loudness", entry, {"peak": 1})
    store.path("loudness", entry, ".json").write_text("{", encoding="utf-8")
    assert store.read_json("loudness", entry) is None and store.path("loudness", entry, ".json").exists()  # the same


def test_mp3_pieces_join_sample_exact_and_valid(tmp_path: Path) -> None:
    """Two chapters of tones, cut in the pause between them: the joined MP3 decodes to the exact length,
    the second chapter where the timeline says, and its Info tag's CRCs check."""
    takes = [tone_take(tmp_path, "a", 30011, 3000.0), tone_take(tmp_path, "b", 25003, 2500.0)]
    script = Script("Tones", "en", (
        Chapter("intro", "A", (Sentence("a", "a"),)), Chapter("paragraph", "B", (Sentence("b", "b"),)),
    ))
    timeline = plan(script, [t.frames for t in takes], RATE, Pauses(), align=mp3.frame_samples(RATE))
    out = tmp_path / "tones.mp3"
    done = render.render(takes, timeline, {"mp3": out}, Tags("Tones", None, None, None, None), jobs=2)
    assert done.pieces == 2
    decoded = decode(out)
    assert len(decoded) == timeline.total
    start = timeline.chapters[1].start
    assert start % mp3.frame_samples(RATE) == 0
    # The decoded second chapter lines up with its source at lag 0, not a sample either side.
    gain = 10 ** (done.gain_db / 20)
    with wave.open(str(takes[1].path), "rb") as wav:
        source = array.array("h", wav.readframes(4000))
    window = range(1000, 3000)
    residual = {lag: sum((decoded[start + i + lag] - gain * source[i]) ** 2 for i in window) for lag in (-2, -1, 0, 1, 2)}
    assert min(residual, key=residual.__getitem__) == 0
    # The join's Info/LAME tag: frame count, music CRC and tag CRC as a decoder checks them.
    data = out.read_bytes()
    audio_start = data.index(b"\xff\xf3")  # after the ID3 tag mutagen wrote
    plain = tmp_path / "plain.mp3"
    plain.write_bytes(data[audio_start:])
    joined = mp3frames.read_piece(plain)
    assert joined.crc == mp3frames.crc16(data[audio_start + joined.header_bytes :])
    tag = bytearray(data[audio_start : audio_start + joined.header_bytes])
    crc_at = tag.index(b"LAME") + 34 if b"LAME" in tag else tag.index(b"Lavc") + 34
    stored = int.from_bytes(tag[crc_at : crc_at + 2], "big")
    tag[crc_at : crc_at + 2] = b"\0\0"
    assert stored == mp3frames.crc16(bytes(tag[:190]))


def test_crc16_of_a_join_is_the_crc16_of_its_parts_combined() -> None:
    """The joined file's music CRC is combined from the pieces' CRCs, not computed over the whole again."""
    parts = [bytes(range(256)) * 3, b"", b"\xff" * 1000, bytes(5000), b"audio-edition"]
    crc = 0
    for part in parts:
        crc = mp3frames.crc16_combine(crc, mp3frames.crc16(part), len(part))
    assert crc == mp3frames.crc16(b"".join(parts))


def test_rebuild_after_editing_one_paragraph_speaks_and_encodes_only_it(tmp_path: Path) -> None:
    store = tmp_path / "cache"
    article = write_article(tmp_path / "story.txt")
    options = edition.BuildOptions(out=tmp_path / "out", cache=store, jobs=2)
    spoken: list[int] = []
    first = edition.build(article, options, on_take=lambda i, take: spoken.append(i))
    takes_before = len(list((store / "takes").rglob("*.wav")))  # (each beside its words file)
    write_article(article, ARTICLE.replace("Observers were cautious.", "Observers were wary of it."))
    second = edition.build(article, options)
    takes_after = len(list((store / "takes").rglob("*.wav")))
    assert takes_after - takes_before == 1  # the one changed sentence, nothing else spoken
    assert second.manifest["render"]["pieces"] == first.manifest["render"]["pieces"] == 5
    assert second.manifest["render"]["reused"] == 4  # every unchanged chapter's MP3 piece
    # The pieces were encoded while later chapters were still being spoken (audio/sound/live.py): all of
    # them in the cold build, the one changed chapter's in the rebuild.
    assert first.manifest["render"]["encoded_during_synthesis"] == 5
    assert second.manifest["render"]["encoded_during_synthesis"] == 1
    # Every chapter's loudness was measured while later chapters were being spoken (audio/sound/live.py),
    # under the same key render cuts the piece with: nothing was left to measure after synthesis.
    assert first.manifest["render"]["measured_after_synthesis"] == 0
    assert second.manifest["render"]["measured_after_synthesis"] == 0
    assert [c["title"] for c in second.manifest["chapters"]][3].startswith("Observers were wary")
    # Chapter times in the file are the manifest's, sample-exact pieces or not.
    from .test_build import ffprobe_chapters

    assert [start for start, _, _ in ffprobe_chapters(second.audio)] == [
        c["start_ms"] for c in second.manifest["chapters"]
    ]
    # A damaged MP3 piece in the cache (cut short) is found by its size and encoded again, never used.
    damaged = max((store / "pieces").rglob("*.mp3"), key=lambda p: p.stat().st_mtime)
    damaged.write_bytes(damaged.read_bytes()[:500])
    third = edition.build(article, options)
    assert third.manifest["render"]["reused"] == 4
    assert len(decode(third.audio)) == len(decode(second.audio))


def hang_first_time(settings: takes.VoiceSettings, text: str, path: Path) -> tuple[int, int]:
    """A worker's work that hangs the first time it meets a text marked HANG (a marker file says so)."""
    marker = path.parent / "hung-once"
    if "HANG" in text and not marker.exists():
        marker.touch()
        time.sleep(3600)
    return pool.speak(settings, text.replace("HANG", "then"), path)


def report_probe(settings: takes.VoiceSettings, text: str, path: Path) -> tuple[int, int]:
    """A worker's work that tells what it sees in $AUDIO_EDITION_PROBE (its length, as the take's frames)."""
    return len(os.environ.get("AUDIO_EDITION_PROBE", "")), 1


def test_pieces_encoded_while_speaking_decode_to_the_same_samples_as_pieces_encoded_after(tmp_path: Path) -> None:
    """audio/sound/live.py feeds whole chapters through one limiter and cuts the pieces out; render feeds each
    piece on its own. At the same gain, from the same takes, the decoded editions are the same."""
    store = tmp_path / "cache"
    article = write_article(tmp_path / "story.txt")
    options = edition.BuildOptions(out=tmp_path / "out", cache=store, jobs=2)
    early = edition.build(article, options)
    assert early.manifest["render"]["encoded_during_synthesis"] == early.manifest["render"]["pieces"]
    spoken_early = decode(early.audio)
    for kind in ("pieces", "loudness"):  # the takes stay: the same sound to encode again
        shutil.rmtree(store / kind)
    # --jobs 1 encodes nothing while speaking; the previous edition's gain fits and is kept.
    after = edition.build(article, options._replace(jobs=1))
    assert after.manifest["render"]["encoded_during_synthesis"] == 0
    assert after.manifest["render"]["gain_db"] == early.manifest["render"]["gain_db"]
    assert decode(after.audio) == spoken_early


def test_a_provisional_gain_that_does_not_fit_is_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces encoded at a gain the whole edition turns out not to want are not used: every piece is
    encoded again at the measured gain, and the edition is as loud as the standard says."""
    wrong: list[float] = []
    provisional = live.Live._provisional

    def three_db_off(self: live.Live, chapters: list[Any], rate: int) -> tuple[float, bool] | None:
        found = provisional(self, chapters, rate)
        assert found is not None
        wrong.append(found[0] + 3.0)
        return wrong[-1], True

    monkeypatch.setattr(live.Live, "_provisional", three_db_off)
    built = edition.build(write_article(tmp_path / "story.txt"), edition.BuildOptions(out=tmp_path / "out",
                                                                                      cache=tmp_path / "cache", jobs=2))
    done = built.manifest["render"]
    assert wrong and abs(done["gain_db"] - wrong[0]) > loudness.GAIN_SLACK
    assert done["encoded_during_synthesis"] == 0 and done["reused"] == 0
    integrated = loudness_of(built.audio)
    assert -17.0 <= integrated <= -15.0


APPEAL = """A Message from The Daily Planet:

We are independent and rely on our readers. Every gift, however small, keeps us reporting."""


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_appeal_every_edition_shares_is_encoded_once(tmp_path: Path, jobs: int) -> None:
    """The next article's gain is the one the appeal was encoded at while that is within GAIN_SLACK of its
    own: its appeal's MP3 pieces come from the cache, and it is still as loud as the standard says."""
    store = tmp_path / "cache"
    options = edition.BuildOptions(out=tmp_path / "out", cache=store, jobs=jobs)
    first = edition.build(write_article(tmp_path / "first.txt", ARTICLE + "\n\n" + APPEAL), options)
    other = "The river rose overnight and closed two bridges.\n\nEngineers expect it to fall by Friday."
    second = edition.build(write_article(tmp_path / "second.txt", other + "\n\n" + APPEAL), options)
    gain = first.manifest["render"]["gain_db"]
    assert loudness.recent_gains(cache.Cache(store)) == [gain]
    assert second.manifest["render"]["gain_db"] == gain
    # The intro ("From The Daily Planet.": an untitled text is not introduced by its title) and the appeal.
    assert [c["kind"] for c in second.manifest["chapters"]] == ["intro", "paragraph", "paragraph", "appeal"]
    assert second.manifest["cues"][0]["text"] == first.manifest["cues"][0]["text"] == "From The Daily Planet."
    assert second.manifest["render"]["reused"] == 2
    assert -17.0 <= loudness_of(second.audio) <= -15.0


def test_a_gain_the_cache_cannot_take_fails_no_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recent gains only speed later builds up: a cache that refuses them (read-only, full) fails nothing."""
    write_json = cache.Cache.write_json

    def refusing(self: cache.Cache, kind: str, entry: str, value: Any) -> None:
        if kind == "gains":
            raise OSError(30, "Read-only file system", str(self.root / kind))
        write_json(self, kind, entry, value)

    monkeypatch.setattr(cache.Cache, "write_json", refusing)
    built = edition.build(write_article(tmp_path / "story.txt"), edition.BuildOptions(out=tmp_path / "out",
                                                                                      cache=tmp_path / "cache", jobs=1))
    assert built.audio.exists() and loudness.recent_gains(cache.Cache(tmp_path / "cache")) == []


def test_the_gain_more_of_the_edition_is_encoded_at_is_kept_within_the_slack() -> None:
    loss = loudness.ENCODER_LOSS["mp3"]
    measured = loudness.Loudness(-20.0, -6.0)
    own = round(loudness.TARGET_I + 20.0 + loss, 2)  # 4.4 dB: peaks past the ceiling, limited
    assert loudness.gain_for(measured, loss) == (own, True)
    # Nothing encoded yet: the previous edition's gain, else the newest recent one that fits, else its own.
    assert loudness.gain_for(measured, loss, own - 0.3, [own + 0.2])[0] == own - 0.3
    assert loudness.gain_for(measured, loss, own + 0.7, [own + 0.6, own + 0.2, own - 0.1])[0] == own + 0.2
    assert loudness.gain_for(measured, loss, None, [own + 0.6, own - 0.6])[0] == own
    # Else the gain more of it is encoded at, whichever it is; the limiter follows the gain taken.
    encoded = {(own - 0.1, True): 900, (own + 0.2, True): 500}
    assert loudness.gain_for(measured, loss, own + 0.2, [own + 0.2, own - 0.1],
                           lambda gain, limited: encoded.get((gain, limited), 0)) == (own - 0.1, True)
    quiet = loudness.Loudness(-20.0, -7.5)  # the limiter is needed past 4.5 dB
    assert loudness.gain_for(quiet, loss, None, [own + 0.3], lambda gain, limited: 0) == (own + 0.3, True)
    assert loudness.gain_for(quiet, loss, None, [own - 0.3], lambda gain, limited: 0) == (own - 0.3, False)


def loudness_of(path: Path) -> float:
    need_program("ffmpeg")
    report = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=dualmono=true",
                             "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    return float(report.rsplit("I:", 1)[1].split("LUFS")[0])


def test_a_rebuild_forks_its_speech_workers(tmp_path: Path) -> None:
    """Cached takes finish chapters before anything is spoken, and a finished chapter starts work on threads;
    the workers are forked before that (a process with threads would start them from a fork server: 0.35 s).
    In a fresh process, as the command line runs: this one may have started an engine of its own."""
    article = write_article(tmp_path / "story.txt")
    build = ["build", str(article), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--jobs", "2"]
    assert CliRunner().invoke(main, build).exit_code == 0
    added = ("one", "two", "three", "four", "five", "six", "seven")  # takes enough for the worker pool
    write_article(article, ARTICLE + "\n\n" + " ".join(f"Sentence number {word} was added." for word in added))
    noting = (
        "import threading\nfrom audio.speech import pool\nmethods = []\nstarted = pool.Pool.start\n"
        "def noting(self, tasks):\n"
        "    if not self._workers:\n"
        "        methods.append((self._context.get_start_method(), threading.active_count()))\n"
        "    started(self, tasks)\n"
        "pool.Pool.start = noting\n"
    )
    assert fresh_build(build, before=noting, after="print(methods)\n") == "[('fork', 1)]"


def test_workers_from_a_fork_server_see_the_environment_of_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork server keeps the environment it started with: a later build's (its ffmpeg, its eSpeak NG) must win."""
    import multiprocessing

    server = multiprocessing.get_context("forkserver")
    early = server.Process(target=time.sleep, args=(0,))  # the fork server runs from here on, without the probe
    early.start()
    early.join()
    monkeypatch.setattr(pool, "context", lambda: server)
    monkeypatch.setenv("AUDIO_EDITION_PROBE", "seen")
    seen: dict[int, int] = {}
    with pool.Pool(takes.VoiceSettings(), 2, work=report_probe) as workers:
        workers.run([(i, "Text.", f"/nonexistent/{i}.wav") for i in range(2)], lambda i, frames, rate: seen.__setitem__(i, frames))
    assert seen == {0: 4, 1: 4}


def always_hang(settings: takes.VoiceSettings, text: str, path: Path) -> tuple[int, int]:
    time.sleep(3600)
    return 0, 0


def test_a_hung_worker_is_replaced_and_its_take_retried_once(tmp_path: Path) -> None:
    tasks = [(i, f"Sentence {i} HANG and more." if i == 1 else f"Sentence {i}.", str(tmp_path / f"{i}.wav")) for i in range(4)]
    made: dict[int, int] = {}
    with pool.Pool(takes.VoiceSettings(), 2, timeout=5.0, work=hang_first_time) as workers:
        workers.run(tasks, lambda index, frames, rate: made.__setitem__(index, frames))
    assert (tmp_path / "hung-once").exists()
    assert sorted(made) == [0, 1, 2, 3] and all(frames > 0 for frames in made.values())
    with pool.Pool(takes.VoiceSettings(), 1, timeout=1.0, work=always_hang) as workers, pytest.raises(ToolFailed) as failed:
        workers.run([(0, "Never.", str(tmp_path / "never.wav"))], lambda *done: None)
    assert "failed twice" in str(failed.value)


def test_batch_builds_skips_unchanged_and_reports_bad_articles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from audio import batch

    ordered: list[list[str]] = []  # what the workers were given, in the order given (see largest_first)
    real_order = batch.largest_first

    def noted(paths: Sequence[Path]) -> list[Path]:
        ordered.append([p.name for p in paths])
        return real_order(paths)

    monkeypatch.setattr(batch, "largest_first", noted)
    articles = tmp_path / "articles"
    articles.mkdir()
    write_article(articles / "one.txt")
    write_article(articles / "two.md", "# Second story\n\nIt has one paragraph only, and it is short.")
    (articles / "empty.txt").write_text("\n", encoding="utf-8")
    (articles / "notes.json").write_text("{}", encoding="utf-8")  # not an article: never read
    out = tmp_path / "out"
    command = ["batch", str(articles), "--out", str(out), "--jobs", "2", "--cache", str(tmp_path / "cache")]
    first = CliRunner().invoke(main, command)
    assert first.exit_code == 1, first.output
    assert f"{articles / 'empty.txt'}: is empty (no text to read)\n" in first.output
    assert "2 built, 0 unchanged, 1 failed" in first.output
    assert first.output.rstrip().endswith("Error: 1 of 3 articles failed")
    assert "\r" not in first.output and "articles [" not in first.output  # no progress bar when not a terminal
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["one", "two"]
    assert ordered == [["one.txt", "two.md"]]  # the bad one was found before, and only the rest go to the workers
    import sqlite3

    with contextlib.closing(sqlite3.connect(out / "catalogue.sqlite")) as db:
        assert db.execute("select count(*) from episode").fetchone()[0] == 2
    write_article(articles / "two.md", "# Second story\n\nIt has one paragraph only, and now it is longer.")
    second = CliRunner().invoke(main, command)
    assert "1 built, 1 unchanged, 1 failed" in second.output, second.output


def test_a_batch_whose_feed_cannot_be_written_still_reports_its_articles(tmp_path: Path) -> None:
    """The end-of-batch refresh failing (here out/index.html is a folder; a full disk, say) ended the batch in
    that one error: the failed articles and the summary were never printed."""
    articles = tmp_path / "articles"
    articles.mkdir()
    write_article(articles / "one.txt")
    (articles / "empty.txt").write_text("\n", encoding="utf-8")
    out = tmp_path / "out"
    publish.claim(out)
    (out / "index.html").mkdir()
    done = CliRunner().invoke(main, ["batch", str(articles), "--out", str(out), "--jobs", "1",
                                     "--cache", str(tmp_path / "cache")])
    assert done.exit_code == 1
    lines = done.output.splitlines()
    assert lines[0] == f"{articles / 'empty.txt'}: is empty (no text to read)"
    assert lines[1].startswith("1 built, 0 unchanged, 1 failed")
    assert lines[2:] == [f"Error: {out / 'index.html'}: Is a directory "
                         "(the catalogue, feed and index.html may not list this batch's editions)"]
    assert (out / "one" / "edition.json").exists()


def test_a_batch_on_several_cores_reports_every_take_its_workers_spoke(tmp_path: Path) -> None:
    """The workers' takes reach the progress bar through a queue that ends with None, put there once the
    workers are gone: every take they spoke is counted, none lost behind the None."""
    from audio import batch, edition

    articles = tmp_path / "articles"
    articles.mkdir()
    write_article(articles / "one.txt")
    write_article(articles / "two.md", "# Second story\n\nIt has one paragraph only, and it is short.")
    events: dict[str, int] = {}
    result = batch.run([articles], edition.BuildOptions(out=tmp_path / "out", jobs=2, cache=tmp_path / "cache"),
                       lambda event, n: events.update({event: events.get(event, 0) + n}))
    assert len(result.built) == 2 and not result.failed
    sentences = sum(len(built.manifest["cues"]) for built in result.built)  # a cue a sentence, a take a sentence
    assert events == {"article": 2, "takes": sentences}


@pytest.mark.skipif(len(getattr(os, "sched_getaffinity", lambda pid: ())(0)) < 2, reason="needs Linux and two cores")
def test_a_batch_with_a_worker_a_core_pins_them_until_its_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker keeps to a core of its own while every worker has an article; once one has none left, the
    others may use every core again. A batch with fewer workers than cores pins nothing."""
    from audio import batch, edition

    cores = sorted(os.sched_getaffinity(0))
    calls: list[tuple[int, list[int]]] = []
    setting = os.sched_setaffinity

    def recorded(pid: int, cpus: Any) -> None:
        calls.append((pid, sorted(cpus)))
        setting(pid, cpus)

    monkeypatch.setattr(os, "sched_setaffinity", recorded)
    articles = tmp_path / "articles"
    articles.mkdir()
    for i in range(len(cores) + 1):
        write_article(articles / f"story{i}.txt", ARTICLE.replace("fourteen", f"{i + 2} hundred"))
    options = edition.BuildOptions(out=tmp_path / "out", jobs=len(cores), cache=tmp_path / "cache")
    result = batch.run([articles], options)
    assert len(result.built) == len(cores) + 1 and not result.failed
    pinned, freed = calls[: len(cores)], calls[len(cores):]
    assert sorted(cpus[0] for _, cpus in pinned) == cores and all(len(cpus) == 1 for _, cpus in pinned)
    assert len({pid for pid, _ in pinned}) == len(cores)  # one worker a core
    assert freed and all(cpus == cores and pid in {p for p, _ in pinned} for pid, cpus in freed)

    calls.clear()
    fewer = batch.run([articles], options._replace(jobs=len(cores) - 1, out=tmp_path / "fewer"))
    assert len(fewer.built) == len(cores) + 1 and calls == []


def test_jobs_default_to_the_cores_this_process_may_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A container given one CPU of a large machine (or taskset) gets one worker, not one a core of the machine."""
    from audio import batch

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert edition.cores() == 1
    workers: list[int] = []
    monkeypatch.setattr(batch, "_in_workers", lambda todo, options, count, *rest: workers.append(count))
    for name in ("a.txt", "b.txt", "c.txt"):
        write_article(tmp_path / name)
    batch.run([tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"], edition.BuildOptions(out=tmp_path / "out"))
    assert workers == [1]
    monkeypatch.delattr(os, "sched_getaffinity")  # (not on Linux: the machine's count)
    assert edition.cores() == 64


def test_a_batch_on_several_cores_starts_the_largest_articles_first(tmp_path: Path) -> None:
    """So that a long article is not started last, alone on one core at the end (scripts/bench_scale.py
    mixed measures it); equal sizes keep their order, and a file gone meanwhile goes last."""
    from audio import batch

    sizes = {"a.txt": 10, "b.txt": 300, "c.md": 300, "d.txt": 50}
    for name, size in sizes.items():
        (tmp_path / name).write_text("x" * size, encoding="utf-8")
    given = [tmp_path / name for name in ("gone.txt", *sizes)]
    assert [p.name for p in batch.largest_first(given)] == ["b.txt", "c.md", "d.txt", "a.txt", "gone.txt"]


def test_a_batch_finds_editions_built_without_reading_the_articles_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for name in ("one.txt", "two.txt"):
        write_article(articles / name)
    command = ["batch", str(articles), "--out", str(tmp_path / "out"), "--jobs", "1", "--cache", str(tmp_path / "cache")]
    assert "2 built" in CliRunner().invoke(main, command).output
    from audio.text import language

    def no_detection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an unchanged article was parsed: its language detected")

    monkeypatch.setattr(language, "detect", no_detection)  # 100 articles: 2 s of one core before the first build
    again = CliRunner().invoke(main, command)
    assert again.exit_code == 0 and "0 built, 2 unchanged, 0 failed" in again.output, again.output
    monkeypatch.undo()
    audio = tmp_path / "out" / "one" / "one.mp3"
    whole = audio.read_bytes()
    audio.write_bytes(whole[: len(whole) // 2])  # cut short since (a full disk when it was copied, say)
    repaired = CliRunner().invoke(main, command)
    assert "1 built, 1 unchanged, 0 failed" in repaired.output, repaired.output
    listed = json.loads((audio.parent / "edition.json").read_text(encoding="utf-8"))["files"][0]
    assert listed["name"] == audio.name and audio.stat().st_size == listed["bytes"] >= len(whole) * 0.9


def test_a_batch_catalogues_what_a_stopped_batch_published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch records its editions at its end: one stopped before it (killed) has published editions the
    catalogue, feed and index.html do not list. The next batch skips them as unchanged, and records them."""
    from audio import batch, edition
    from audio.site import catalogue, refresh

    articles = tmp_path / "articles"
    articles.mkdir()
    for name in ("one.txt", "two.txt"):
        write_article(articles / name)
    out = tmp_path / "out"
    options = edition.BuildOptions(out=out, jobs=1, cache=tmp_path / "cache")
    real_refresh = refresh.site
    refreshed: list[list[str]] = []

    def stopped(*args: Any) -> None:  # the batch is killed once its editions are published
        return None

    def noted(out: Path, settings: Any, built: Sequence[Any]) -> None:
        refreshed.append(sorted(e.slug for e in built))
        real_refresh(out, settings, built)

    monkeypatch.setattr(refresh, "site", stopped)
    assert len(batch.run([articles], options).built) == 2
    assert catalogue.episodes(out) == []
    monkeypatch.setattr(refresh, "site", noted)
    again = batch.run([articles], options)
    assert not again.built and len(again.skipped) == 2 and refreshed == [[]]  # (found published, not built)
    assert sorted(e.slug for e in catalogue.episodes(out)) == ["one", "two"]
    assert 'href="one/' in (out / "index.html").read_text(encoding="utf-8")
    batch.run([articles], options)
    assert refreshed == [[]]  # catalogued as built: nothing to refresh

    write_article(articles / "one.txt", "A corrected story, read again.")  # rebuilt, and stopped again
    monkeypatch.setattr(refresh, "site", stopped)
    assert [e.slug for e in batch.run([articles], options).built] == ["one"]
    monkeypatch.setattr(refresh, "site", noted)
    batch.run([articles], options)
    assert len(refreshed) == 2 and refreshed[-1] == []  # its episode was the old build's: found, and recorded
    one = next(e for e in catalogue.episodes(out) if e.slug == "one")
    assert one.source_sha256 == manifest.load(out / "one").manifest["source"]["sha256"]


def test_two_articles_of_one_slug_in_a_batch_the_second_fails_and_says_why(tmp_path: Path) -> None:
    """story.txt and story.md both make out/story/: each run built one over the other (one article never
    published, the other rebuilt at every run). The first in order is built; the other is refused."""
    articles = tmp_path / "articles"
    (articles / "more").mkdir(parents=True)
    write_article(articles / "story.txt")
    write_article(articles / "story.md", "# Another story\n\nIt is not the same article at all.")
    write_article(articles / "more" / "Story.txt", "A third one, in a folder of its own.")
    out = tmp_path / "out"
    command = ["batch", str(articles), "--out", str(out), "--jobs", "2", "--cache", str(tmp_path / "cache")]
    for summary in ("1 built, 0 unchanged, 2 failed", "0 built, 1 unchanged, 2 failed"):  # and no flip-flop
        run = CliRunner().invoke(main, command)
        assert run.exit_code == 1 and summary in run.output, run.output
        for other in (articles / "story.md", articles / "story.txt"):
            assert f"{other}: its edition and {articles / 'more' / 'Story.txt'}'s would both be {out / 'story'}/: " \
                   "rename one of them" in run.output
    assert json.loads((out / "story" / "edition.json").read_text(encoding="utf-8"))["source"]["path"].endswith("Story.txt")


def test_cache_info_and_prune(tmp_path: Path) -> None:
    store = cache.Cache(tmp_path / "cache")
    synthesis.synthesize(["Old words.", "New words."], takes.VoiceSettings(), tmp_path / "w", cache=store)
    old = store.path("takes", voice.take_key("Old words.", takes.VoiceSettings()), ".wav")
    long_ago = time.time() - 40 * 86400
    for used_together in (old, old.with_suffix(".words.json")):  # a take and its words (takes.cached touches both)
        os.utime(used_together, (long_ago, long_ago))
    info = CliRunner().invoke(main, ["cache", "info", "--cache", str(tmp_path / "cache")])
    assert info.exit_code == 0 and "takes           4 files" in info.output, info.output
    pruned = CliRunner().invoke(main, ["cache", "prune", "--days", "30", "--cache", str(tmp_path / "cache")])
    assert pruned.exit_code == 0 and pruned.output.startswith("removed 2 files"), pruned.output
    assert not old.exists() and not old.with_suffix(".words.json").exists() and store.usage()[0].entries == 2


def test_no_dask_is_imported_without_a_scheduler(tmp_path: Path) -> None:
    article = write_article(tmp_path / "story.txt")
    build = ["build", str(article), "--out", str(tmp_path / "out"), "--jobs", "2"]
    report = "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    assert fresh_build(build, before="", after=report) == "[]"


def fresh_build(arguments: list[str], before: str, after: str) -> str:
    """Run the command line in a new interpreter, with Python code before it and after it (which prints
    what the test looks at); it must exit 0. Returns the last line printed."""
    code = (
        f"import sys\nfrom audio.cli import main as cli\n{before}sys.argv = ['audio-edition', *{arguments!r}]\n"
        f"try:\n    cli.main()\nexcept SystemExit as stop:\n    assert stop.code == 0, stop.code\n{after}"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_cluster_build_matches_local_build(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed (scripts/setup installs it)")
    # Longer than live.PROVISIONAL_SECONDS: the gain pieces are encoded at while speaking comes from the first
    # chapters in the script's order, not from whichever were spoken first (which differs on a cluster).
    article = write_article(tmp_path / "story.txt", ARTICLE + "\n\n" + ARTICLE.replace("fourteen", "twenty"))
    local = edition.build(article, edition.BuildOptions(out=tmp_path / "local", cache=tmp_path / "warm", jobs=2))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        cold = edition.build(article, edition.BuildOptions(out=tmp_path / "cold", cache=tmp_path / "empty", scheduler=address))
        warm = edition.build(article, edition.BuildOptions(out=tmp_path / "warm-out", cache=tmp_path / "warm", scheduler=address))
    spoken = {c["spoken"] for c in local.manifest["cues"]}
    assert len(list((tmp_path / "empty" / "takes").rglob("*.wav"))) == len(spoken)  # every distinct take came back
    assert len(list((tmp_path / "empty" / "takes").rglob("*.words.json"))) == len(spoken)  # with its words
    for built in (cold, warm):
        assert [c["title"] for c in built.manifest["chapters"]] == [c["title"] for c in local.manifest["chapters"]]
        assert [(c["id"], c["text"]) for c in built.manifest["cues"]] == [(c["id"], c["text"]) for c in local.manifest["cues"]]
    assert warm.manifest["chapters"] == local.manifest["chapters"] and warm.manifest["cues"] == local.manifest["cues"]
    assert decode(warm.audio) == decode(local.audio)
