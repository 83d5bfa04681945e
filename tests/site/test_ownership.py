"""Never delete what is not ours: folders the tool did not make are refused and kept; a catalogue that
was emptied or missed an edition is made whole again from the editions published."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from audio import edition, manifest, publish
from audio.cli.main import main
from audio.site import catalogue

from ..conftest import ROOT, build_and_list

SAMPLE_CONFIG = ROOT / "samples" / "moscow-times.toml"

ARTICLE = "A short story about the city.\n\nIt has a second paragraph, read as its own chapter.\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_a_build_never_swaps_out_a_folder_it_did_not_make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's reproduction: `docs/design.md` was removed by `build docs.txt --out .` (exit 0)."""
    project = tmp_path / "p"
    write(project / "docs" / "design.md", "x\n")
    write(project / "docs.txt", ARTICLE)
    before = tree(project)
    monkeypatch.chdir(project)
    assert run("build", "docs.txt", "--out", ".") == (
        2, "Error: --out .: is a folder audio-edition did not make (.audio-edition missing) and holds files: give a "
           "new or empty folder, or --adopt-out to publish into this one\n")
    assert tree(project) == before
    # Adopted, the folder is ours to publish into, but the folder named like the edition still is not.
    assert run("build", "docs.txt", "--out", ".", "--adopt-out") == (
        2, "Error: docs: is a folder audio-edition did not make (no edition.json of ours), where this article's "
           "edition goes: move it away, or give --slug\n")
    assert (project / "docs" / "design.md").read_text(encoding="utf-8") == "x\n"
    assert not list(project.glob(".docs*"))  # no staging left beside it


def test_a_slug_naming_a_foreign_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    article = write(tmp_path / "a.txt", ARTICLE)
    assert run("build", str(article), "--out", str(out))[0] == 0  # out/ is now ours
    write(out / "notes" / "sub" / "a.txt", "mine\n")
    code, said = run("build", str(article), "--out", str(out), "--slug", "notes")
    assert (code, said) == (2, f"Error: {out / 'notes'}: is a folder audio-edition did not make (no edition.json of "
                               "ours), where this article's edition goes: move it away, or give --slug\n")
    assert (out / "notes" / "sub" / "a.txt").read_text(encoding="utf-8") == "mine\n"
    # An edition of ours in that place is replaced as before.
    assert run("build", str(article), "--out", str(out), "--slug", "again")[0] == 0
    assert run("build", str(article), "--out", str(out), "--slug", "again")[0] == 0
    assert manifest.is_edition(out / "again")


def test_a_batch_keeps_a_foreign_folder_and_builds_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "src" / "main.py", "print('mine')\n")
    write(tmp_path / "articles" / "src.txt", ARTICLE)
    write(tmp_path / "articles" / "other.txt", ARTICLE.replace("city", "river"))
    monkeypatch.chdir(tmp_path)
    code, said = run("batch", "articles", "--out", ".")
    assert code == 2 and "is a folder audio-edition did not make" in said
    code, said = run("batch", "articles", "--out", ".", "--adopt-out", "--jobs", "1")
    assert code == 1, said
    assert "src: is a folder audio-edition did not make (no edition.json of ours)" in said
    assert (tmp_path / "src" / "main.py").read_text(encoding="utf-8") == "print('mine')\n"
    assert manifest.is_edition(tmp_path / "other")
    assert [e.slug for e in catalogue.episodes(tmp_path)] == ["other"]


def test_an_out_folder_of_others_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """It had its index.html overwritten and every hidden .partial file in it deleted."""
    site = tmp_path / "site"
    write(site / "index.html", "<p>my home page</p>\n")
    write(site / ".draft.partial", "half a thought\n")
    write(site / ".feed.xml.abcd1234.partial", "a file of theirs named like one of ours\n")
    article = write(tmp_path / "story.txt", ARTICLE)
    before = tree(site)
    code, said = run("build", str(article), "--out", str(site))
    assert code == 2 and said.startswith(f"Error: --out {site}: is a folder audio-edition did not make")
    assert tree(site) == before
    # Adopted on purpose: the editions are published there, and its hidden files that are not ours stay.
    assert run("build", str(article), "--out", str(site), "--adopt-out")[0] == 0
    assert (site / ".draft.partial").exists() and (site / publish.MARKER).is_file()
    assert run("build", str(article), "--out", str(site))[0] == 0  # marked: no flag needed again


@pytest.mark.parametrize("out", ["/", "", "//", "/./"])
def test_the_root_or_an_empty_name_is_never_an_out_folder(tmp_path: Path, out: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    article = write(tmp_path / "story.txt", ARTICLE)
    assert run("build", str(article), "--out", out, "--adopt-out") == (
        2, f"Error: --out '{Path(out) if out else ''}': give a folder for the editions, not the root of the file system\n")
    assert run("batch", str(article), "--out", out, "--adopt-out")[0] == 2
    assert list(tmp_path.iterdir()) == [article]


def test_an_out_folder_of_an_older_version_is_ours(tmp_path: Path) -> None:
    """Written before folders were marked: it has a catalogue, and is used as it is (then marked)."""
    out = tmp_path / "out"
    article = write(tmp_path / "story.txt", ARTICLE)
    assert run("build", str(article), "--out", str(out))[0] == 0
    (out / publish.MARKER).unlink()
    assert run("build", str(article), "--out", str(out), "--slug", "second")[0] == 0
    assert (out / publish.MARKER).is_file()


def three_editions(tmp_path: Path) -> tuple[Path, list[Path]]:
    out = tmp_path / "out"
    articles = [write(tmp_path / f"story{n}.txt", ARTICLE.replace("city", f"city number {n}")) for n in range(3)]
    for article in articles:
        build_and_list(article, edition.BuildOptions(out=out))
    return out, articles


@pytest.mark.parametrize("damage", ["emptied", "deleted"])
def test_a_lost_catalogue_is_rebuilt_from_the_editions_published(tmp_path: Path, damage: str) -> None:
    """`: > out/catalogue.sqlite` then a build: the feed listed 1 of its episodes."""
    out, articles = three_editions(tmp_path)
    before = {e.slug: e for e in catalogue.episodes(out)}
    if damage == "emptied":
        (out / "catalogue.sqlite").write_bytes(b"")
    else:
        (out / "catalogue.sqlite").unlink()
    new = write(tmp_path / "story3.txt", ARTICLE.replace("city", "harbour"))
    build_and_list(new, edition.BuildOptions(out=out))
    after = {e.slug: e for e in catalogue.episodes(out)}
    assert sorted(after) == ["story0", "story1", "story2", "story3"]
    for slug, episode in before.items():  # as first built: an undated article keeps its place in the feed
        assert after[slug].guid == episode.guid or after[slug].canonical_url is None
        assert abs((after[slug].first_built - episode.first_built).total_seconds()) < 1.5
    assert "story0" in (out / "index.html").read_text(encoding="utf-8")


def test_an_edition_published_but_never_catalogued_is_recorded_by_the_next_build(tmp_path: Path) -> None:
    """A full disk while the catalogue or index.html was written left the edition published and never listed."""
    out, articles = three_editions(tmp_path)
    orphan = write(tmp_path / "orphan.txt", ARTICLE.replace("city", "valley"))
    edition.build(orphan, edition.BuildOptions(out=out))  # published, then stopped
    assert "orphan" not in {e.slug for e in catalogue.episodes(out)}
    assert run("feed", "--out", str(out), "--config", str(SAMPLE_CONFIG))[0] == 0
    assert "orphan" in {e.slug for e in catalogue.episodes(out)}
    assert re.search(r"orphan/orphan\.[0-9a-f]{12}\.mp3", (out / "feed.xml").read_text(encoding="utf-8"))


def test_an_episode_removed_on_purpose_stays_removed_until_built_again(tmp_path: Path) -> None:
    out, articles = three_editions(tmp_path)
    assert run("feed", "remove", "story1", "--out", str(out))[0] == 0
    new = write(tmp_path / "story3.txt", ARTICLE.replace("city", "harbour"))
    build_and_list(new, edition.BuildOptions(out=out))
    assert sorted(e.slug for e in catalogue.episodes(out)) == ["story0", "story2", "story3"]
    build_and_list(articles[1], edition.BuildOptions(out=out))
    assert sorted(e.slug for e in catalogue.episodes(out)) == ["story0", "story1", "story2", "story3"]


def test_an_edition_rebuilt_but_not_recorded_is_recorded_as_rebuilt(tmp_path: Path) -> None:
    out, articles = three_editions(tmp_path)
    write(articles[0], ARTICLE.replace("city", "city, corrected,"))
    os.utime(out / "story0" / "edition.json", (0, 0))  # (mtime is only a hint: the manifest's build time decides)
    rebuilt = edition.build(articles[0], edition.BuildOptions(out=out))
    (out / "story0" / "edition.json").touch()
    assert run("feed", "--out", str(out), "--config", str(SAMPLE_CONFIG))[0] == 0
    listed = {e.slug: e for e in catalogue.episodes(out)}
    assert listed["story0"].source_sha256 == rebuilt.manifest["source"]["sha256"]
