"""The command line: bad input gets one line and exit 2, out/ stays as it was; help for everything."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from audio import tools
from audio.cli.main import main

from ..conftest import ROOT, SAMPLE


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(out)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(out.rglob("*"))}


@pytest.fixture()
def out_with_edition(tmp_path: Path) -> Path:
    """An out/ that already holds a small edition: errors must leave it exactly as it was."""
    out = tmp_path / "out"
    story = tmp_path / "story.txt"
    story.write_text("An earlier story.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(story), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def make(tmp_path: Path, name: str, data: bytes | None) -> str:
    path = tmp_path / name
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("missing.txt", "absent", "{path}: no such file"),
        ("folder", None, "{path}: is a directory, not an article file"),
        ("empty.txt", b"", "{path}: is empty (no text to read)"),
        ("blank.txt", b"  \n\t\n  \n", "{path}: is empty (no text to read)"),
        ("binary.txt", b"\x7fELF\x02\x01\x00\x00\x00binary", "{path}: is a binary file (it holds NUL bytes), not an article"),
        ("appeal.txt", b"A Message from The Moscow Times:\nPlease give.\n",
         "{path}: no article paragraphs left after the appeal is removed"),
    ],
)
def test_bad_article_files(tmp_path: Path, out_with_edition: Path, name: str, data: bytes | str | None, message: str) -> None:
    path = str(tmp_path / name) if data == "absent" else make(tmp_path, name, data)  # type: ignore[arg-type]
    before = snapshot(out_with_edition)
    result = CliRunner().invoke(main, ["build", path, "--out", str(out_with_edition)])
    assert result.exit_code == 2
    assert result.output == f"Error: {message.format(path=path)}\n"
    assert snapshot(out_with_edition) == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--voice", "klingon-xx"], "--voice 'klingon-xx': no such voice (list them with 'audio-edition voices')"),
        (["--format", "wav"], "--format 'wav': unknown format (choose from: mp3, m4a, m4b, epub)"),
        (["--format", "mp3,flac"], "--format 'mp3,flac': unknown format (choose from: mp3, m4a, m4b, epub)"),
    ],
)
def test_bad_options(out_with_edition: Path, options: list[str], message: str) -> None:
    before = snapshot(out_with_edition)
    result = CliRunner().invoke(main, ["build", str(SAMPLE), "--out", str(out_with_edition), *options])
    assert result.exit_code == 2
    assert result.output == f"Error: {message}\n"
    assert snapshot(out_with_edition) == before


def test_a_file_where_the_edition_goes_is_kept_and_named(tmp_path: Path, out_with_edition: Path) -> None:
    """out/<slug> a file: publishing swapped it out of the way, then failed to remove it as a folder; the
    next build's sweep removed it. Now refused before anything is made."""
    (out_with_edition / "notes").write_text("my notes\n", encoding="utf-8")
    article = tmp_path / "notes.txt"
    article.write_text("A story opened on Monday.\n", encoding="utf-8")
    before = snapshot(out_with_edition)
    for _ in range(2):
        result = CliRunner().invoke(main, ["build", str(article), "--out", str(out_with_edition)])
        assert (result.exit_code, result.output) == (
            2, f"Error: {out_with_edition / 'notes'}: is a file, where this article's edition goes: move it away, "
               "or give --slug\n")
    assert snapshot(out_with_edition) == before


def test_a_folder_where_a_published_file_goes_is_named(tmp_path: Path, out_with_edition: Path) -> None:
    (out_with_edition / "index.html").unlink()
    (out_with_edition / "index.html").mkdir()
    result = CliRunner().invoke(main, ["build", str(SAMPLE), "--out", str(out_with_edition)])
    assert (result.exit_code, result.output) == (1, f"Error: {out_with_edition / 'index.html'}: Is a directory\n")
    assert not [p for p in out_with_edition.iterdir() if p.name.endswith(".partial")]


def test_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("publisher = 'X'\ncolour = 'red'\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(SAMPLE), "--out", str(tmp_path / "out"), "--config", str(config)])
    assert (result.exit_code, result.output) == (2, f"Error: {config}: unknown config key 'colour'\n")
    assert not (tmp_path / "out").exists()


def test_ffmpeg_failure_reports_its_stderr(tmp_path: Path, out_with_edition: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'Unknown encoder libmp3lame' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv(tools.FFMPEG_ENV, str(fake))
    monkeypatch.setenv("AUDIO_EDITION_CACHE", str(tmp_path / "cache"))  # nothing cached: ffmpeg must run
    tools.ffmpeg.cache_clear()
    try:
        before = snapshot(out_with_edition)
        result = CliRunner().invoke(main, ["build", str(SAMPLE), "--out", str(out_with_edition)])
    finally:
        monkeypatch.delenv(tools.FFMPEG_ENV)
        tools.ffmpeg.cache_clear()
    assert result.exit_code == 1
    assert result.output == "Error: ffmpeg failed (exit 3): Unknown encoder libmp3lame\n"
    assert snapshot(out_with_edition) == before


def test_ffmpeg_names_the_file_it_could_not_write_as_published(tmp_path: Path, out_with_edition: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """ffmpeg writes the M4A in the hidden staging folder: its error (here a full disk's, in ffmpeg's words)
    named that folder, which is gone by the time the error is read."""
    real = tools.ffmpeg()
    fake = tmp_path / "ffmpeg"
    fake.write_text(f"""#!/bin/sh
for last; do :; done
case "$last" in *.m4a) echo "Error writing trailer of $last: No space left on device" >&2; exit 1;; esac
exec '{real}' "$@"
""", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv(tools.FFMPEG_ENV, str(fake))
    tools.ffmpeg.cache_clear()
    try:
        result = CliRunner().invoke(main, ["build", str(SAMPLE), "--out", str(out_with_edition), "--format", "m4a"])
    finally:
        monkeypatch.delenv(tools.FFMPEG_ENV)
        tools.ffmpeg.cache_clear()
    slug = SAMPLE.stem
    assert (result.exit_code, result.output) == (
        1, f"Error: ffmpeg failed (exit 1): Error writing trailer of {out_with_edition / slug / slug}.m4a: "
        "No space left on device\n")


def test_script_prints_chapters_without_synthesis(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["script", str(SAMPLE)])
    assert result.exit_code == 0
    assert "[15] appeal: A Message from The Moscow Times" in result.output
    assert "Remind me later" not in result.output
    as_json = CliRunner().invoke(main, ["script", str(SAMPLE), "--json"])
    assert as_json.exit_code == 0 and '"kind": "appeal"' in as_json.output


def test_voices_lists_engine_voices() -> None:
    result = CliRunner().invoke(main, ["voices"])
    assert result.exit_code == 0
    ids = [line.split("\t")[0] for line in result.output.splitlines()]
    assert len(ids) > 50 and any(i.endswith("/en-us") for i in ids)


def test_a_reader_that_stops_early_gets_no_error_message(tmp_path: Path) -> None:
    """`audio-edition script ARTICLE | head -1`: the pipe closes under the listing, which ends without a word."""
    import fcntl

    article = tmp_path / "long.txt"
    article.write_text("".join(f"Paragraph {i} has a few words in it.\n\n" for i in range(400)), encoding="utf-8")
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # the listing (20 kB) cannot all wait in the pipe
    command = [sys.executable, "-m", "audio", "script", str(article)]
    with subprocess.Popen(command, stdout=write_end, stderr=subprocess.PIPE) as listing:
        os.close(write_end)
        with os.fdopen(read_end, "rb") as reader:
            assert reader.readline().startswith(b"# ")
        _, errors = listing.communicate(timeout=60)
    assert errors == b"" and listing.returncode == 1


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[0] == "# audio-edition"
    assert "scripts/demo" in readme and "scripts/test" in readme
    for name, command in main.commands.items():  # type: ignore[attr-defined]
        assert command.help, name
        assert f"audio-edition {name}" in readme, name
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{name} {param.name}"  # type: ignore[attr-defined]


def test_python_dash_m_audio_works() -> None:
    done = subprocess.run([sys.executable, "-m", "audio", "--help"], capture_output=True, text=True, check=True)
    assert "Usage: audio-edition" in done.stdout


def test_build_prints_where_the_edition_is(tmp_path: Path) -> None:
    story = tmp_path / "my-story.md"
    story.write_text("# A headline\n\nThe lede. Another sentence.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(story), "--out", str(tmp_path / "o"), "--rate", "300"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{tmp_path / 'o' / 'my-story' / 'my-story.mp3'}  2 chapters, 0:")
    assert os.path.exists(tmp_path / "o" / "my-story" / "edition.json")


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc, where no folder can be made")
def test_a_take_cache_that_cannot_be_made_or_used_is_named(tmp_path: Path) -> None:
    """It said "/proc/.cache: No such file or directory" (HOME=/proc), or named an entry deep inside the
    cache (a file in the way), without saying that either was the take cache."""
    story = tmp_path / "story.txt"
    story.write_text("A short story.\n", encoding="utf-8")
    out = tmp_path / "out"
    unmakeable = Path("/proc/audio-edition-test/cache")
    made = CliRunner().invoke(main, ["build", str(story), "--out", str(out), "--cache", str(unmakeable)])
    assert (made.exit_code, made.output) == (1, f"Error: {unmakeable}: No such file or directory (making the take "
                                                "cache there: choose another with --cache DIR or $AUDIO_EDITION_CACHE)\n")
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    below_a_file = tmp_path / "a-file" / "cache"
    used = CliRunner().invoke(main, ["build", str(story), "--out", str(out), "--cache", str(below_a_file)])
    assert (used.exit_code, used.output) == (1, f"Error: {below_a_file}: Not a directory\n")
