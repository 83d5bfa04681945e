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

from ..conftest import ROOT

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


def paragraphs(body: str, head: str = "<meta charset='utf-8'>") -> article.Article:
    return article.parse(source.parse_bytes(page(body, head), Path("p.html")), config.Config())


PROSE = ("The ferry to the island will run twice a day from May, the council said, after a winter in which storms "
         "cancelled one crossing in three.")


def test_furniture_never_takes_the_element_that_holds_the_text() -> None:
    """Blogger wraps every post in div.widget.Blog: the class said furniture, and a sidebar of long link titles
    made the post less than half the page, so the post went and the sidebar was read."""
    archive = "".join(f"<li><a href='/p{i}'>An older post about the island ferry and its timetable, part {i}</a></li>"
                      for i in range(40))
    post = "<br><br>".join(f"{PROSE} Paragraph {i}." for i in range(4))
    art = paragraphs(f"<div class='widget Blog'><div class='post-body'>{post}</div></div>"
                     f"<div class='widget BlogArchive'><h2>Blog Archive</h2><ul>{archive}</ul></div>")
    assert [p.text for p in art.paragraphs] == [f"{PROSE} Paragraph {i}." for i in range(4)]


@pytest.mark.parametrize(
    ("math", "spoken"),
    [
        ('<math alttext="x squared"><msup><mi>x</mi><mn>2</mn></msup></math>', "x squared"),
        ('<math alttext="{\\displaystyle x^{2}}"><semantics><msup><mi>x</mi><mn>2</mn></msup>'
         '<annotation encoding="text/plain">x to the power two</annotation></semantics></math>', "x to the power two"),
        ("<math><mi>n</mi><mo>+</mo><mn>1</mn></math>", "n + 1"),
        ('<math alttext="{\\displaystyle x^{2}}"><msup><mi>x</mi><mn>2</mn></msup></math>', "a formula"),
        ('<span class="mwe-math-element"><span style="display: none;"><math alttext="E=m c^2">'
         "<mi>E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn>2</mn></msup></math>"
         '</span><img src="e.svg" alt="E=mc^2"></span>', "a formula"),
    ],
    ids=["alttext", "annotation", "simple", "tex only", "hidden behind an image"],
)
def test_a_formula_is_read_as_words_and_the_sentence_goes_on(math: str, spoken: str) -> None:
    art = paragraphs(f"<article><p>{PROSE}</p><p>The rule is {math}, which the engineers checked twice.</p></article>")
    assert art.paragraphs[1].text == f"The rule is {spoken}, which the engineers checked twice."


def test_a_data_table_is_announced_and_a_layout_table_read() -> None:
    rows = "".join(f"<tr><td>{2000 + i}</td><td>{i * 7} crossings</td></tr>" for i in range(5))
    data = f"<table><caption>Crossings by year</caption><tr><th>Year</th><th>Crossings</th></tr>{rows}</table>"
    layout = (f"<table><tr><td><p>{PROSE} In a cell.</p></td><td><p>{PROSE} In another.</p></td></tr>"
              "<tr><td></td><td></td></tr></table>")
    art = paragraphs(f"<article><p>{PROSE}</p>{data}<p>{PROSE} After.</p></article>")
    assert [p.text for p in art.paragraphs] == [
        PROSE, "A table of 5 rows follows, not read aloud: Crossings by year.", f"{PROSE} After."]
    from audio.text import html
    root = html.parse_page(page(layout).decode(), "p.html")
    html.announce_tables(root)
    assert root.find(".//table") is not None


def test_a_heading_and_its_text_inside_one_block_are_read_once_each() -> None:
    """Feature cards (a list item holding a heading and a paragraph) and definitions holding paragraphs were
    read glued together ("Boat tripsBoats leave…") and then again piece by piece."""
    art = paragraphs(f"<article><p>{PROSE}</p><ul><li><h3>Boat trips</h3><p>Boats leave the harbour at nine.</p></li>"
                     "<li><h3>The museum</h3><p>The keepers' rooms are kept as they were.</p></li></ul>"
                     "<dl><dt>Keeper</dt><dd><p>Stood the watches in turn.</p><p>Kept the glass clean.</p></dd></dl>"
                     "</article>")
    assert [(p.heading, p.text) for p in art.paragraphs] == [
        (None, PROSE), ("Boat trips", "Boats leave the harbour at nine."),
        ("The museum", "The keepers' rooms are kept as they were."), (None, "Keeper"),
        (None, "Stood the watches in turn."), (None, "Kept the glass clean.")]


@pytest.mark.parametrize(
    "body",
    [
        # a list item of the article that happens to open like an appeal
        f"<article><p>{PROSE}</p><p>The charter sets three aims:</p><ul><li>Support and mentor young engineers</li>"
        f"<li>Record the region's history</li></ul><p>{PROSE} Later.</p></article>",
        # a box whose class says contribution, by the byline, with the whole article after it
        "<article><header><h1>Ferries</h1><span class='count'><div class='tooltip contribution-tooltip'>Comments are a "
        f"benefit for subscribers. 412 readers have shared their thoughts.</div></span></header><p>{PROSE}</p>"
        f"<p>{PROSE} Two.</p><p>{PROSE} Three.</p></article>",
        # an invitation to edit, not to give
        f"<main><p>{PROSE}</p><p>{PROSE} Two.</p></main><div class='fandom-contributor-module'><h2>Become a Fandom "
        "Contributor!</h2><p>Fandom is built by fans like you. Start editing today.</p></div>",
    ],
    ids=["list item", "tooltip by the byline", "contributor"],
)
def test_what_is_not_an_appeal(body: str) -> None:
    art = paragraphs(body)
    assert art.appeal is None
    assert PROSE in [p.text for p in art.paragraphs]


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        ("<meta property='og:title' content='The Courier'><meta property='og:site_name' content='The Courier'>",
         "<article><h1>Ferries to run twice a day</h1>", "Ferries to run twice a day"),
        ('<script type="application/ld+json">{"@type": "Article", "name": "List of island ferries", '
         '"headline": "Wikimedia list article"}</script><title>List of island ferries - Wikipedia</title>',
         "<main><h1>List of island ferries</h1>", "List of island ferries"),
        ("<meta property='og:title' content='Ferries to run twice a day | The Courier'>"
         "<meta property='og:site_name' content='The Courier'>", "<article><h1>Ferries to run twice a day</h1>",
         "Ferries to run twice a day"),
        ("<title>Shin splints: causes and treatment - Health Library - Riverside Clinic</title>",
         "<h1>Overview</h1><p>Intro.</p><h1>Symptoms</h1><div>", "Shin splints: causes and treatment"),
    ],
    ids=["site name alone", "metadata type", "site suffix", "section headings"],
)
def test_the_title_is_the_articles_own_headline(head: str, body: str, title: str) -> None:
    closing = "</article>" if "<article>" in body else "</main>" if "<main>" in body else "</div>"
    art = paragraphs(f"{body}<p>{PROSE}</p>{closing}", "<meta charset='utf-8'>" + head)
    assert art.title == title


def test_an_appeal_box_between_the_articles_paragraphs_is_still_the_appeal() -> None:
    box = ("<div class='support-box'><p>Our journalism is funded by readers like you. Please support us with a gift "
           "today.</p><a href='https://courier.example/donate'>Give</a></div>")
    art = paragraphs(f"<article><h1>Ferries</h1><div class='body'><p>{PROSE}</p>{box}<p>{PROSE} Two.</p>"
                     f"<p>{PROSE} Three.</p></div></article>")
    assert art.appeal is not None and art.appeal.url == "https://courier.example/donate"
    assert [p.text for p in art.appeal.paragraphs] == [
        "Our journalism is funded by readers like you. Please support us with a gift today."]
    assert [p.text for p in art.paragraphs] == [PROSE, f"{PROSE} Two.", f"{PROSE} Three."]
