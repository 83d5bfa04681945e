"""Saved article pages: exact extraction on six publishers' shapes, charsets, huge pages, language and voice, CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from audio import config, edition
from audio.cli.main import main
from audio.errors import BadInput
from audio.text import article, source

from .conftest import ROOT

PAGES = ROOT / "tests" / "fixtures" / "html"
EXPECTED = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_extraction_is_exact(name: str) -> None:
    want = EXPECTED[name]
    art = article.parse(source.read(PAGES / name), config.Config())
    assert [[p.heading, p.text] for p in art.paragraphs] == want["paragraphs"]
    assert (art.title, art.byline, art.date, art.language) == (want["title"], want["byline"], want["date"], want["language"])
    assert (art.url, art.publisher) == (want["url"], want["publisher"])
    appeal = art.appeal and {"title": art.appeal.title, "paragraphs": [p.text for p in art.appeal.paragraphs], "url": art.appeal.url}
    assert appeal == want["appeal"]


def test_paragraphs_keep_their_source_lines() -> None:
    art = article.parse(source.read(PAGES / "french.html"), config.Config())
    lines = (PAGES / "french.html").read_text(encoding="utf-8").splitlines()
    for paragraph in art.paragraphs:
        assert paragraph.text[:20] in lines[paragraph.line - 1]


def test_config_donation_url_wins_over_the_pages_link() -> None:
    art = article.parse(source.read(PAGES / "appeal-inline.html"), config.Config(donation_url="https://example.org/give"))
    assert art.appeal is not None and art.appeal.url == "https://example.org/give"


def test_lang_option_wins_over_the_page() -> None:
    doc = source.read(PAGES / "french.html")
    assert article.parse(doc, config.Config(), article.ArticleOptions(language="fr_CA")).language == "fr-ca"


def test_config_language_stands_where_the_page_says_none_and_skips_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    from audio.text import language

    def no_detection(text: str) -> str:
        raise AssertionError("detection ran although the config gives the language")

    monkeypatch.setattr(language, "detect", no_detection)
    german = config.from_mapping({"language": "DE_at"}, "c.toml")
    assert german.language == "de-at"
    text = source.read(ROOT / "samples" / "moscow-times-belarus.txt")
    assert article.parse(text, german).language == "de-at"
    assert article.parse(source.read(PAGES / "french.html"), german).language.startswith("fr")  # the page's own wins
    assert article.parse(text, german, article.ArticleOptions(language="en")).language == "en"  # and --lang over all
    with pytest.raises(BadInput, match=r"c.toml: 'language' must be a language tag"):
        config.from_mapping({"language": "German!"}, "c.toml")


def page(body: str, head: str = "<meta charset='utf-8'>") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}<title>T</title></head><body>{body}</body></html>".encode()


RUSSIAN = "<p>Во вторник в Новосибирске запустили вторую линию канатной дороги через реку Обь.</p>"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (page(RUSSIAN, "<meta charset='windows-1251'>").decode().encode("cp1251"), "windows-1251"),
        (page(RUSSIAN, "<meta charset='windows-1251'>"), "utf-8 (declared windows-1251)"),
        (page(RUSSIAN).decode().encode("cp1251"), "cp1251 (declared utf-8)"),
        (page(RUSSIAN, "<meta http-equiv='Content-Type' content='text/html; charset=ISO-8859-1'>").decode().encode("cp1251"),
         "cp1251 (declared iso-8859-1)"),
    ],
    ids=["as declared", "utf-8 declared cp1251", "cp1251 declared utf-8", "cp1251 declared latin-1"],
)
def test_a_page_is_decoded_as_what_it_holds(data: bytes, encoding: str) -> None:
    doc = source.parse_bytes(data, Path("p.html"))
    assert doc.encoding == encoding
    assert "Новосибирске" in doc.text


def test_a_page_mixing_encodings_is_refused_naming_the_byte() -> None:
    data = page(RUSSIAN) + "Ещё".encode("cp1251")
    with pytest.raises(BadInput) as caught:
        source.parse_bytes(data, Path("p.html"))
    assert str(caught.value) == (
        f"p.html: declares charset utf-8 but mixes UTF-8 with another encoding (byte {len(page(RUSSIAN))} is not UTF-8); "
        "save the page in one encoding"
    )


HUGE = """
import resource, sys
from audio.text import html
base = open(sys.argv[1], encoding="utf-8").read()
comments = "".join(
    f'<div class="comment" id="c{i}"><p>Comment {i}: I think the council is wrong about this, and here is a long '
    "reason why it matters to all of us.</p></div>\\n" for i in range(75000)
)
page = base.replace('<div id="respond"', comments + '<div id="respond"')
assert len(page.encode()) > 10_000_000
found = html.extract(page, "huge.html", lambda t: False, lambda t: False)
print(len(found.blocks), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def test_a_12_mb_page_is_read_in_bounded_memory() -> None:
    """75,000 comments around the article: dropped before the extractor sees them (trafilatura alone took 593 s)."""
    done = subprocess.run([sys.executable, "-c", HUGE, str(PAGES / "wordpress.html")], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    blocks, peak_mb = map(int, done.stdout.split())
    assert blocks == 6  # five paragraphs and the "Who pays" heading
    assert peak_mb < 1024


def test_a_page_of_countless_elements_is_refused_before_extraction() -> None:
    data = page("<div><span>a</span><i></i></div>" * 140_000)
    doc = source.parse_bytes(data, Path("p.html"))
    with pytest.raises(BadInput) as caught:
        article.parse(doc, config.Config())
    assert str(caught.value) == "p.html: the page has more than 400,000 elements; it is not an article page we can read"


def test_french_page_builds_with_a_french_voice(tmp_path: Path) -> None:
    built = edition.build(PAGES / "french.html", edition.BuildOptions(out=tmp_path / "out", cache=tmp_path / "cache"),
                          )
    manifest = json.loads((built.directory / "edition.json").read_text(encoding="utf-8"))
    assert manifest["voice"] == "roa/fr" and manifest["language"] == "fr"
    assert manifest["byline"] == "Camille Berthier" and manifest["date"] == "2024-03-12"
    intro = [cue["spoken"] for cue in manifest["cues"] if cue["chapter"] == 0]
    assert intro[1:] == ["Par Camille Berthier.", "De La Gazette du Rhône, le douze mars deux mille vingt-quatre."]


def test_stdin_page_with_format_in(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["script", "-", "--format-in", "html", "--json"],
                                input=(PAGES / "news-jsonld.html").read_bytes())
    assert result.exit_code == 0, result.output
    script = json.loads(result.output)
    assert script["slug"] == "latvia-to-spend-3-of-gdp-on-defense-from-2025"
    assert script["chapters"][-1]["url"] == "https://balticledger.example/donate?utm_source=article"


def test_script_lint_lists_what_was_not_settled(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text("The ABCD met.\n\nIt costs 3,5 units † today.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["script", str(story), "--lint", "--lang", "nl"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{story}:1: all-caps word not in the lexicon: ABCD",
        f"{story}:3: number left as digits: 3,5",
        f"{story}:3: symbol dropped: †",
    ]


def test_say_speaks_with_the_configs_lexicon(tmp_path: Path) -> None:
    (tmp_path / "words.toml").write_text("\"Makei\" = \"[[m@k'eI]]\"\n", encoding="utf-8")
    (tmp_path / "paper.toml").write_text('lexicon = "words.toml"\n', encoding="utf-8")
    out = tmp_path / "makei.wav"
    result = CliRunner().invoke(main, ["say", "Makei", "spoke", "--config", str(tmp_path / "paper.toml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "says: [[m@k'eI]] spoke"
    assert lines[-1] == f"{out}  (gmw/en)"
    assert out.stat().st_size > 10_000


def test_a_language_without_a_voice_builds_with_the_voice_given(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text("Xa tlhIngan Hol.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(story), "--out", str(tmp_path / "out"), "--lang", "tlh",
                                       "--voice", "gmw/en", "--rate", "450", "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "story" / "edition.json").read_text(encoding="utf-8"))
    assert (manifest["language"], manifest["voice"]) == ("tlh", "gmw/en")


@pytest.mark.parametrize(
    ("name", "data", "options", "message"),
    [
        ("nav.html", page("<nav><a href='/'>Home</a></nav><footer>© 2024</footer>"), [],
         "{path}: no article text found in the page (is it an article page?)"),
        ("mixed.html", page(RUSSIAN) + "Ещё".encode("cp1251"), [],
         "{path}: declares charset utf-8 but mixes UTF-8 with another encoding (byte " + str(len(page(RUSSIAN))) + " is not UTF-8); "
         "save the page in one encoding"),
        ("story.txt", b"Un article.\n", ["--lang", "fr!"], "--lang 'fr!': not a language tag (for example en, fr, pt-br)"),
        ("story.txt", b"Xa tlhIngan Hol.\n", ["--lang", "tlh"],
         "no voice speaks the article's language 'tlh': pick one with --voice (see 'audio-edition voices'), "
         "or set the language with --lang"),
        ("story.txt", b"Text.\n", ["--format-in", "html"], "{path}: no article text found in the page (is it an article page?)"),
    ],
)
def test_bad_pages_and_options_exit_2_with_one_line(
    tmp_path: Path, name: str, data: bytes, options: list[str], message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(path), "--out", str(out), *options])
    assert result.exit_code == 2
    assert result.output == f"Error: {message.format(path=path)}\n"
    assert not out.exists()


def test_a_missing_lexicon_named_in_the_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "paper.toml").write_text('lexicon = "missing.pls"\n', encoding="utf-8")
    story = tmp_path / "story.txt"
    story.write_text("Text.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["script", str(story), "--config", str(tmp_path / "paper.toml")])
    assert result.exit_code == 2
    assert result.output == f"Error: {tmp_path / 'missing.pls'}: lexicon file not found\n"


def test_the_language_model_is_unpacked_once_and_classifies_as_packed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """py3langid's LZMA model is unpacked into the user cache once; scored from there without NumPy, it gives py3langid's answers."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from audio.text import language

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    language._identifier.cache_clear()
    try:
        unpacked = language._identifier()
    finally:
        language._identifier.cache_clear()
    (made,) = (tmp_path / "audio-edition" / "models").iterdir()
    assert sorted(p.name for p in made.iterdir()) == sorted(f"{name}.npy" for name in language._ARRAYS)
    packed = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    texts = [article.parse(source.read(ROOT / "samples" / "moscow-times-belarus.txt"), config.Config()).paragraphs[0].text]
    texts += [(ROOT / "tests" / "fixtures" / "html" / name).read_text(encoding="utf-8", errors="replace")
              for name in ("french.html", "arabic-rtl.html", "wordpress.html")]
    texts += ["Москва и Минск подписали новое соглашение о сотрудничестве.", "北京今天宣布了新的经济政策。",
              "Η κυβέρνηση ανακοίνωσε νέα μέτρα για την οικονομία.", "Die Regierung hat heute neue Maßnahmen angekündigt.",
              "THE GOVERNMENT ANNOUNCED NEW MEASURES TODAY.", "12345 !!!"]
    assert type(unpacked).__name__ == "_MappedModel"  # scored over the mapped arrays, without NumPy
    for text in texts:
        code, confidence = unpacked.classify(text)
        assert code == packed.classify(text)[0]
        assert confidence == pytest.approx(packed.classify(text)[1], abs=1e-5)  # float64 here, float32 in NumPy
        # Where NumPy is loaded already (a warm process), it sums the same floats in the same order.
        counts = unpacked.features(text.encode("utf-8"))
        assert unpacked.scores_numpy(counts) == unpacked.scores(counts) or not counts
