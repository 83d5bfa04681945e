"""Inputs without end (devices, endless pipes, FIFOs, huge files, deep nesting, long titles, patterns
that backtrack): one line naming the file and exit 2, in bounded time and memory, never a traceback."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from audio import config
from audio.text import article, source
from audio.text.article import GIVEN_TITLE_LIMIT
from audio.text.script import SENTENCE_LIMIT, make_script

from ..conftest import ROOT, SAMPLE

LIMIT_HINT = "(set AUDIO_EDITION_MAX_ARTICLE_MB to allow more)"
STORY = "The council met on Tuesday and agreed the budget after a long debate about the roads.\n"


def _confined() -> None:
    # Only so that a build that reads without end fails here instead of eating the machine.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def cli(args: Sequence[str | Path], cwd: Path, stdin: object = subprocess.DEVNULL,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "audio", *map(str, args)], cwd=cwd, stdin=stdin,  # type: ignore[arg-type]
                          capture_output=True, text=True, timeout=120, preexec_fn=_confined, env=environment)


def test_a_device_is_told_binary_from_its_first_block(tmp_path: Path) -> None:
    done = cli(["script", "/dev/zero"], tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", "Error: /dev/zero: is a binary file (it holds NUL bytes), not an article\n")


def test_endless_standard_input_stops_at_the_limit(tmp_path: Path) -> None:
    with subprocess.Popen(["yes", "All work and no play."], stdout=subprocess.PIPE) as endless:
        done = cli(["script", "-"], tmp_path, stdin=endless.stdout)
        endless.kill()
    assert (done.returncode, done.stderr) == (2, f"Error: -: larger than the 5 MB an article file may hold {LIMIT_HINT}\n")


def test_a_fifo_fed_without_end_stops_at_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "feed.txt"
    os.mkfifo(fifo)
    with subprocess.Popen(["sh", "-c", 'exec yes "Words and more words." > "$0"', fifo], stderr=subprocess.DEVNULL) as writer:
        done = cli(["script", fifo], tmp_path)
        writer.kill()
    assert (done.returncode, done.stderr) == (
        2, f"Error: {fifo}: larger than the 5 MB an article file may hold {LIMIT_HINT}\n")


def test_a_huge_file_is_measured_not_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:  # 1.5 GB, sparse: text at the start, then holes
        handle.write(STORY.encode())
        handle.truncate(1536 << 20)
    done = cli(["script", huge], tmp_path)
    assert (done.returncode, done.stderr) == (
        2, f"Error: {huge}: larger than the 5 MB an article file may hold {LIMIT_HINT}\n")


def test_the_article_limit_is_set_from_the_environment(tmp_path: Path) -> None:
    story = tmp_path / "long.txt"
    story.write_text(STORY * 15000, encoding="utf-8")  # 1.3 MB
    done = cli(["script", story], tmp_path, env={"AUDIO_EDITION_MAX_ARTICLE_MB": "1"})
    assert (done.returncode, done.stderr) == (
        2, f"Error: {story}: larger than the 1 MB an article file may hold {LIMIT_HINT}\n")
    done = cli(["script", story], tmp_path, env={"AUDIO_EDITION_MAX_ARTICLE_MB": "lots"})
    assert (done.returncode, done.stderr) == (
        2, "Error: AUDIO_EDITION_MAX_ARTICLE_MB='lots': give a whole number of megabytes, e.g. 20\n")


def test_config_appeal_file_and_lexicon_are_bounded(tmp_path: Path) -> None:
    binary = "is a binary file (it holds NUL bytes)"
    done = cli(["script", "--config", "/dev/zero", SAMPLE], tmp_path)
    assert (done.returncode, done.stderr) == (2, f"Error: /dev/zero: {binary}, not a config\n")
    done = cli(["script", "--appeal-file", "/dev/zero", SAMPLE], tmp_path)
    assert (done.returncode, done.stderr) == (2, f"Error: /dev/zero: {binary}, not an article\n")
    (tmp_path / "zero.toml").write_text('lexicon = "/dev/zero"\n', encoding="utf-8")
    done = cli(["script", "--config", "zero.toml", SAMPLE], tmp_path)
    assert (done.returncode, done.stderr) == (2, f"Error: /dev/zero: {binary}, not a lexicon\n")
    fifo = tmp_path / "endless.toml"  # text without end: the limit, not the NUL bytes, stops it
    os.mkfifo(fifo)
    with subprocess.Popen(["sh", "-c", 'exec yes "# a comment" > "$0"', fifo], stderr=subprocess.DEVNULL) as writer:
        done = cli(["script", "--config", fifo, SAMPLE], tmp_path)
        writer.kill()
    assert (done.returncode, done.stderr) == (2, f"Error: {fifo}: larger than the 4 MB a config file may hold\n")


@pytest.mark.parametrize("kind", ["config", "lexicon"])
def test_toml_nested_without_end_is_one_line(tmp_path: Path, kind: str) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    if kind == "lexicon":
        (tmp_path / "c.toml").write_text('lexicon = "deep.toml"\n', encoding="utf-8")
    done = cli(["script", "--config", "c.toml" if kind == "lexicon" else deep, SAMPLE], tmp_path)
    shown = deep if kind == "config" else "deep.toml"
    assert (done.returncode, done.stderr) == (2, f"Error: {shown}: not a valid TOML {kind}: nested too deeply\n")


def test_json_ld_nested_without_end_is_passed_over_like_any_broken_block(tmp_path: Path) -> None:
    page = tmp_path / "deep.html"
    page.write_text(
        '<!doctype html><html lang="en"><head><title>Roads budget</title><script type="application/ld+json">'
        + "[" * 100_000 + "]" * 100_000 + f"</script></head><body><article><p>{STORY}</p></article></body></html>",
        encoding="utf-8")
    done = cli(["script", page], tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("# Roads budget\n")


def test_markdown_nested_past_the_limit_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.md"
    deep.write_text(STORY + "\n" + "".join("  " * depth + "- item\n" for depth in range(1000)), encoding="utf-8")
    done = cli(["script", deep], tmp_path)
    assert (done.returncode, done.stderr) == (
        2, f"Error: {deep}: line 104 is nested 202 columns deep, more than an article's Markdown (limit 200)\n")


def test_a_config_pattern_that_backtracks_is_named(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text("residue = ['(a|aa)+$']\n", encoding="utf-8")
    story = tmp_path / "s.txt"
    story.write_text(STORY + "\n" + "a" * 60 + "!\n", encoding="utf-8")
    done = cli(["script", "--config", "c.toml", story], tmp_path)
    assert (done.returncode, done.stderr) == (
        2, "Error: config: pattern '(a|aa)+$' took more than 1 s on one line of 61 characters (it backtracks: simplify it)\n")


HEADLINE = " ".join(["Headline"] * 11_111)  # 100,000 characters


@pytest.mark.parametrize("kind", ["json-ld", "markdown", "option"])
def test_a_title_of_100000_characters_is_cut_and_spoken_as_sentences(kind: str) -> None:
    if kind == "json-ld":
        ld = json.dumps({"@type": "NewsArticle", "headline": HEADLINE})
        data = f'<!doctype html><html lang="en"><head><script type="application/ld+json">{ld}</script></head>' \
               f"<body><article><p>{STORY}</p></article></body></html>"
        doc, options = source.parse_bytes(data.encode(), Path("a.html")), article.ArticleOptions()
    elif kind == "markdown":
        doc, options = source.parse_bytes(f"# {HEADLINE}\n\n{STORY}".encode(), Path("a.md")), article.ArticleOptions()
    else:
        doc, options = source.parse_bytes(STORY.encode(), Path("a.txt")), article.ArticleOptions(title=HEADLINE)
    script = make_script(article.parse(doc, config.Config(), options))
    assert len(script.title) <= GIVEN_TITLE_LIMIT and script.title.startswith("Headline Headline")
    assert script.title.endswith("Headline…")
    intro = script.chapters[0]
    assert intro.kind == "intro" and intro.title == script.title
    assert all(len(s.text) <= SENTENCE_LIMIT for s in intro.sentences)


def test_a_build_with_a_100000_character_headline_ends(tmp_path: Path) -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": HEADLINE})
    page = tmp_path / "long-title.html"
    page.write_text(f'<!doctype html><html lang="en"><head><script type="application/ld+json">{ld}</script></head>'
                    f"<body><article><p>{STORY}</p></article></body></html>", encoding="utf-8")
    done = cli(["build", page, "--out", "out", "--rate", "450", "--jobs", "1"], tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "long-title" / "edition.json").read_text(encoding="utf-8"))
    assert len(manifest["title"]) <= GIVEN_TITLE_LIMIT
