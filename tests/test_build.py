"""End to end on the sample, read back with other people's readers: ffprobe, ffmpeg ebur128, mutagen."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from audio import edition, manifest, publish, tools
from audio.config import Pauses
from audio.sound.tagging import CTOC_LIMIT

SLUG = "moscow-times-belarus"


def ffprobe() -> str | None:
    """The system's ffprobe beside the ffmpeg builds use, if there is one (imageio-ffmpeg ships none)."""
    beside = os.path.join(os.path.dirname(tools.ffmpeg()), "ffprobe")
    return beside if os.path.exists(beside) else shutil.which("ffprobe")


def ffprobe_chapters(path: Path) -> list[tuple[int, int, str]]:
    """Chapters as an independent reader sees them: ffprobe, or ffmpeg's ffmetadata where only it exists."""
    probe = ffprobe()
    if probe:
        out = subprocess.run(
            [probe, "-v", "error", "-show_chapters", "-of", "json", str(path)], capture_output=True, check=True
        ).stdout
        return [
            (round(float(c["start_time"]) * 1000), round(float(c["end_time"]) * 1000), c["tags"]["title"])
            for c in json.loads(out)["chapters"]
        ]
    meta = subprocess.run(
        [tools.ffmpeg(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"], capture_output=True, check=True
    ).stdout.decode()
    found = re.findall(r"\[CHAPTER\]\nTIMEBASE=1/(\d+)\nSTART=(\d+)\nEND=(\d+)\ntitle=(.*)", meta)
    return [(int(s) * 1000 // int(b), int(e) * 1000 // int(b), t) for b, s, e, t in found]


def duration_ms(path: Path) -> int:
    probe = ffprobe()
    assert probe, "ffprobe needed"
    out = subprocess.run(
        [probe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    return round(float(out) * 1000)


def loudness(path: Path) -> tuple[float, float]:
    """Integrated loudness (mono measured as dual mono: the −16 LUFS target) and true peak, by ffmpeg."""
    err = subprocess.run(
        [tools.ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af",
         "ebur128=peak=true:dualmono=true:framelog=verbose", "-f", "null", "-"],
        capture_output=True,
        check=True,
    ).stderr.decode()
    summary = err[err.rfind("Summary:") :]
    i = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    tp = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return i, tp


@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_chapters_read_back_by_ffprobe(sample_edition: manifest.Edition, fmt: str) -> None:
    manifest = sample_edition.manifest
    chapters = ffprobe_chapters(sample_edition.directory / f"{SLUG}.{fmt}")
    expected = [(c["start_ms"], c["end_ms"], c["title"]) for c in manifest["chapters"]]
    assert len(chapters) == 1 + 14 + 1
    assert chapters == expected  # the timeline's own times, as written into the file
    assert chapters[-1][2] == "A Message from The Moscow Times"
    assert chapters[0][0] == 0
    for before, after in zip(chapters, chapters[1:]):
        assert before[1] == after[0]
    if ffprobe():
        assert abs(chapters[-1][1] - duration_ms(sample_edition.directory / f"{SLUG}.{fmt}")) <= 100


def test_mp3_has_an_ordered_top_level_ctoc(sample_edition: manifest.Edition) -> None:
    tags = ID3(sample_edition.directory / f"{SLUG}.mp3")
    tocs = tags.getall("CTOC")
    assert len(tocs) == 1
    assert tocs[0].flags == 3  # TOP_LEVEL | ORDERED
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    assert list(tocs[0].child_element_ids) == [f"chp{i}" for i in range(16)]
    assert all("TIT2" in chaps[cid].sub_frames for cid in tocs[0].child_element_ids)
    assert str(tags["TIT2"]).startswith("Belarus's foreign minister")
    assert str(tags["TPE1"]) == "The Moscow Times"
    assert tags.version == (2, 3, 0) and str(tags["TALB"]) == "The Moscow Times audio edition"
    assert str(tags["COMM::eng"]).startswith("Read by pyttsx3")


def test_tags_read_back_by_mutagen_and_ffmpeg(tmp_path: Path) -> None:
    """Our own ID3v2.3 writer (audio/sound/tagging.py): text outside Latin-1, a date, a chapter title with quotes."""
    from audio.sound.tagging import Tags, id3_tag
    from audio.sound.timeline import ChapterSpan, Timeline

    timeline = Timeline(22050, 22050 * 3, (ChapterSpan("paragraph", "Глава «один»", None, 0, 22050, ()),
                                           ChapterSpan("appeal", 'Two "2" — ✓', None, 22050, 22050 * 3, ())), (), ())
    tags = Tags("Заголовок: ünïcode 😀", "Éditions du Nord", None, "2024-02-29", "Read by a voice")
    path = tmp_path / "t.mp3"
    silence = subprocess.run([tools.ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "3",
                              "-c:a", "libmp3lame", "-b:a", "64k", "-id3v2_version", "0", "-f", "mp3", "-"],
                             capture_output=True, check=True).stdout
    path.write_bytes(id3_tag(timeline, tags) + silence)
    read = ID3(path)
    assert read.version == (2, 3, 0)
    assert str(read["TIT2"]) == tags.title and str(read["TPE1"]) == tags.artist and "TALB" not in read
    assert str(read["TDRC"]) == "2024-02-29" and str(read["COMM::eng"]) == "Read by a voice"
    chapters = sorted(read.getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.element_id, c.start_time, c.end_time, str(c.sub_frames["TIT2"])) for c in chapters] == [
        ("chp0", 0, 1000, "Глава «один»"), ("chp1", 1000, 3000, 'Two "2" — ✓')]
    assert ffprobe_chapters(path) == [(0, 1000, "Глава «один»"), (1000, 3000, 'Two "2" — ✓')]
    meta = subprocess.run([tools.ffmpeg(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
                          capture_output=True, check=True).stdout.decode()
    assert f"title={tags.title}\n" in meta and "artist=Éditions du Nord\n" in meta and "date=2024-02-29\n" in meta


@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_loudness_is_the_spoken_podcast_norm(sample_edition: manifest.Edition, fmt: str) -> None:
    integrated, true_peak = loudness(sample_edition.directory / f"{SLUG}.{fmt}")
    assert -17.0 <= integrated <= -15.0
    assert true_peak <= -1.0


def test_every_cue_lies_inside_its_chapter(sample_edition: manifest.Edition) -> None:
    manifest = sample_edition.manifest
    vtt = (sample_edition.directory / "transcript.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n")
    times = re.findall(r"^(c\d+-\d+)\n(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$", vtt, re.M)
    assert len(times) == len(manifest["cues"]) == sum(len(c["cues"]) for c in manifest["chapters"])

    def ms(h: str, m: str, s: str, f: str) -> int:
        return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f)

    by_id = {t[0]: (ms(*t[1:5]), ms(*t[5:9])) for t in times}
    for chapter in manifest["chapters"]:
        for cid in chapter["cues"]:
            start, end = by_id[cid]
            assert chapter["start_ms"] <= start < end <= chapter["end_ms"]
    assert "Remind me later" not in vtt
    # Lines as shown: a word's cue timestamp (<00:00:01.500>) is not shown (docs/words.md).
    assert all(len(re.sub(r"<\d\d:\d\d:\d\d\.\d{3}>", "", line)) <= 65 for line in vtt.splitlines())
    assert re.search(r"<\d\d:\d\d:\d\d\.\d{3}>", vtt)


def test_the_pause_heard_between_sentences_is_the_configured_one(sample_edition: manifest.Edition) -> None:
    """ffmpeg's silencedetect on the MP3: each cue ends where its sound ends, and the silence before the
    next sentence of the chapter lasts `[pauses] sentence` (eSpeak NG's own end-of-take silence is not added)."""
    err = subprocess.run(
        [tools.ffmpeg(), "-hide_banner", "-nostats", "-i", str(sample_edition.directory / f"{SLUG}.mp3"),
         "-af", "silencedetect=noise=-60dB:d=0.1", "-f", "null", "-"],
        capture_output=True, check=True,
    ).stderr.decode()
    silences = [(float(s) * 1000, float(e) * 1000) for s, e in
                re.findall(r"silence_start: ([\d.]+)\n.*?silence_end: ([\d.]+)", err, re.S)]
    cues = sample_edition.manifest["cues"]
    pairs = [(a, b) for a, b in zip(cues, cues[1:]) if a["chapter"] == b["chapter"]]
    assert len(pairs) >= 10
    pause = Pauses().sentence
    for a, b in pairs:
        assert b["start_ms"] - a["end_ms"] == pytest.approx(pause, abs=1)
        heard = [(s, e) for s, e in silences if s < b["start_ms"] and e > a["end_ms"]]
        assert len(heard) == 1, (a["id"], heard)
        start, end = heard[0]
        assert abs(start - a["end_ms"]) <= 40 and abs(end - b["start_ms"]) <= 40, (a["id"], heard)


def test_chapters_json_is_podcasting_2(sample_edition: manifest.Edition) -> None:
    data = json.loads((sample_edition.directory / "chapters.json").read_text(encoding="utf-8"))
    assert data["version"] == "1.2.0"
    starts = [c["startTime"] for c in data["chapters"]]
    assert starts == sorted(starts) and starts[0] == 0
    assert [c["title"] for c in data["chapters"]] == [c["title"] for c in sample_edition.manifest["chapters"]]


def test_manifest_records_source_engine_files(sample_edition: manifest.Edition) -> None:
    manifest = sample_edition.manifest
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["source"]["sha256"])
    assert manifest["engine"].startswith("pyttsx3 2.99 / eSpeak NG")
    assert manifest["voice"]
    for entry in manifest["files"]:
        assert (sample_edition.directory / entry["name"]).stat().st_size == entry["bytes"]
    assert {e["type"] for e in manifest["files"]} >= {"audio/mpeg", "audio/x-m4a", "text/vtt", "application/json+chapters"}


def test_more_than_255_chapters_nest_their_tables(tmp_path: Path) -> None:
    article = tmp_path / "many.txt"
    article.write_text("".join(f"Line {i}.\n" for i in range(300)), encoding="utf-8")
    built = edition.build(article, edition.BuildOptions(out=tmp_path / "out", rate=450))
    tags = ID3(built.audio)
    tocs = {t.element_id: t for t in tags.getall("CTOC")}
    top = tocs["toc"]
    assert top.flags == 3 and list(top.child_element_ids) == ["toc0", "toc1"]
    assert [len(tocs[c].child_element_ids) for c in top.child_element_ids] == [CTOC_LIMIT, 301 - CTOC_LIMIT]
    chapters = ffprobe_chapters(built.audio)
    assert len(chapters) == 301 and chapters[-1][2] == "Line 299."


def test_rebuild_replaces_the_edition_whole(tmp_path: Path) -> None:
    article = tmp_path / "story.txt"
    article.write_text("First version.\n", encoding="utf-8")
    out = tmp_path / "out"
    edition.build(article, edition.BuildOptions(out=out))
    article.write_text("Second version, longer than the first one.\nAnd a new paragraph.\n", encoding="utf-8")
    second = edition.build(article, edition.BuildOptions(out=out))
    assert [c["kind"] for c in second.manifest["chapters"]] == ["intro", "paragraph", "paragraph"]
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []  # no staging left behind
    assert manifest.load(out / "story").manifest["source"]["sha256"] == second.manifest["source"]["sha256"]


def test_a_killed_builds_staging_is_swept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    publish.claim(out)  # an out/ of ours, in which builds were killed
    dead = out / ".story.999999999.abc.partial"  # no process has this PID
    alive = out / f".story.{os.getpid()}.abc.partial"
    for leftover in (dead, alive):
        leftover.mkdir(parents=True)
        (leftover / "story.mp3").write_bytes(b"half")
    article = tmp_path / "story.txt"
    article.write_text("A story.\n", encoding="utf-8")
    edition.build(article, edition.BuildOptions(out=out))
    assert not dead.exists() and alive.exists()


def test_concurrent_builds_of_one_article_serialise_and_both_finish(tmp_path: Path) -> None:
    article = tmp_path / "story.txt"
    article.write_text("A story that two hooks build at once.\nIt has a second paragraph.\n", encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "audio", "build", str(article), "--out", str(out)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    assert manifest.load(out / "story").manifest["chapters"][-1]["kind"] == "paragraph"
    assert ffprobe_chapters(out / "story" / "story.mp3")[-1][2].startswith("It has a second")
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []


def test_the_appeal_link_is_in_the_mp3_and_the_m4a_is_branded_m4a(sample_edition: manifest.Edition, tmp_path: Path) -> None:
    """Apps that play a downloaded file: the donation link sits in the appeal's CHAP (WXXX), and the M4A
    carries Apple's audio brand (ffmpeg's mp4 muxer writes "isom")."""
    from audio.sound.tagging import Tags, id3_tag
    from audio.sound.timeline import ChapterSpan, Timeline

    give = "https://example.org/spenden/für-uns"
    timeline = Timeline(22050, 22050 * 3, (ChapterSpan("paragraph", "One", None, 0, 22050, ()),
                                           ChapterSpan("appeal", "A Message", give, 22050, 22050 * 3, ())), (), ())
    path = tmp_path / "t.mp3"
    path.write_bytes(id3_tag(timeline, Tags("T", None, None, None, None)))
    chaps = sorted(ID3(path).getall("CHAP"), key=lambda c: c.start_time)
    assert ["WXXX:" in c.sub_frames for c in chaps] == [False, True]
    assert chaps[1].sub_frames["WXXX:"].url == "https://example.org/spenden/f%C3%BCr-uns"
    assert str(chaps[1].sub_frames["TIT2"]) == "A Message"
    probed = subprocess.run([str(ffprobe()), "-v", "error", "-show_entries", "format_tags=major_brand",
                             "-of", "default=nw=1:nk=1", str(sample_edition.directory / f"{SLUG}.m4a")],
                            capture_output=True, text=True, check=True).stdout
    assert probed == "M4A \n"


def test_format_m4b_is_the_m4a_branded_for_audiobook_apps(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text("Minsk and Kyiv talked on Wednesday.\n\nThe drills ended near the border.\n", encoding="utf-8")
    built = edition.build(story, edition.BuildOptions(out=tmp_path / "out", formats=("mp3", "m4b"), no_appeal=True))
    m4b = built.directory / "story.m4b"
    assert [(f["name"], f["type"]) for f in built.manifest["files"] if f["role"] == "audio"] == [
        ("story.mp3", "audio/mpeg"), ("story.m4b", "audio/mp4")]
    probed = json.loads(subprocess.run(
        [str(ffprobe()), "-v", "error", "-show_entries", "format_tags=major_brand:chapter=start_time",
         "-of", "json", str(m4b)], capture_output=True, text=True, check=True).stdout)
    assert probed["format"]["tags"]["major_brand"] == "M4B "
    assert len(probed["chapters"]) == len(built.manifest["chapters"]) == 3


def test_the_configured_artwork_is_inside_the_mp3_and_the_m4a(tmp_path: Path) -> None:
    """Players of a downloaded file show the cover from the file: ID3 APIC (front cover), MP4 covr."""
    import io

    from mutagen.mp4 import MP4
    from PIL import Image

    from audio import config

    Image.new("RGB", (1400, 1400), (200, 30, 30)).save(tmp_path / "art.jpg", format="JPEG")
    (tmp_path / "publisher.toml").write_text(
        '[feed]\ntitle = "T"\ndescription = "D"\nlanguage = "en"\ncategory = "News"\nexplicit = false\n'
        'artwork = "art.jpg"\n', encoding="utf-8")
    story = tmp_path / "story.txt"
    story.write_text("Minsk and Kyiv talked on Wednesday.\n", encoding="utf-8")
    options = edition.BuildOptions(out=tmp_path / "out", formats=("mp3", "m4a"), no_appeal=True,
                                   config=config.load(tmp_path / "publisher.toml"))
    built = edition.build(story, options)
    [apic] = ID3(built.directory / "story.mp3").getall("APIC")
    assert (apic.type, apic.mime) == (3, "image/jpeg")
    with Image.open(io.BytesIO(apic.data)) as inside:
        assert (inside.format, inside.size) == ("JPEG", (600, 600))
    [covr] = MP4(built.directory / "story.m4a").tags["covr"]
    assert bytes(covr) == apic.data
    streams = subprocess.run([str(ffprobe()), "-v", "error", "-show_entries", "stream=codec_type:stream_disposition=attached_pic",
                              "-of", "csv=p=0", str(built.directory / "story.m4a")], capture_output=True, text=True, check=True).stdout
    assert streams.split() == ["audio,0", "data,0", "video,1"]  # the audio, the QuickTime chapter track, the cover
