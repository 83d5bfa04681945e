"""The article stage on small texts: paragraphs, the appeal, residue, titles, slugs, encodings."""
from __future__ import annotations

from pathlib import Path

import pytest

from audio import config
from audio.errors import BadInput
from audio.text import article, source

from ..conftest import SAMPLE

pytestmark = pytest.mark.fast


def parse(text: str, name: str = "story.txt", **options: object) -> article.Article:
    doc = source.parse_bytes(text.encode("utf-8"), Path(name))
    return article.parse(doc, config.Config(), article.ArticleOptions(**options))  # type: ignore[arg-type]


def test_sample_appeal_is_found_and_residue_dropped() -> None:
    art = article.parse(source.read(SAMPLE), config.Config())
    assert len(art.paragraphs) == 14
    assert art.paragraphs[-1].text.startswith("Minsk has often tread a fine line")
    assert art.appeal is not None
    assert art.appeal.title == "A Message from The Moscow Times"
    assert art.appeal.paragraphs[0].text == "A Message from The Moscow Times:"
    assert art.appeal.paragraphs[-1].text.startswith("By supporting The Moscow Times")
    assert art.residue == ("Remind me later.",)
    assert art.publisher == "The Moscow Times"
    assert all("Remind me later" not in p.text for p in art.paragraphs + art.appeal.paragraphs)


def test_one_paragraph_per_line_or_blank_line_separated() -> None:
    assert [p.text for p in parse("One.\nTwo.\nThree.\n").paragraphs] == ["One.", "Two.", "Three."]
    wrapped = "First para\ncontinues here.\n\nSecond para.\n"
    assert [p.text for p in parse(wrapped).paragraphs] == ["First para continues here.", "Second para."]
    assert [p.line for p in parse(wrapped).paragraphs] == [1, 4]


PASTED_BOX = """A Message from The Moscow Times:
Dear readers,
We are facing unprecedented challenges.
Your support, no matter how small, makes a world of difference.
Remind me later.
Share this article"""


@pytest.mark.parametrize("name", ["story.txt", "story.md"])
def test_an_appeal_box_pasted_line_by_line_under_blank_line_paragraphs_is_found(name: str) -> None:
    """Paragraphs between blank lines, and the page's appeal box pasted under them as it was copied, one
    line a paragraph: its lines were joined into one body paragraph (or an appeal whose publisher was
    "The Moscow Times: Dear readers, … Remind me later."), and its button labels were read aloud."""
    art = parse("Minsk said it would release prisoners.\n\nThe talks lasted two days.\n\n" + PASTED_BOX + "\n", name)
    assert [p.text for p in art.paragraphs] == ["Minsk said it would release prisoners.", "The talks lasted two days."]
    assert art.appeal is not None and art.appeal.title == "A Message from The Moscow Times"
    assert [p.text for p in art.appeal.paragraphs] == PASTED_BOX.splitlines()[:4]
    assert [p.line for p in art.appeal.paragraphs] == [5, 6, 7, 8]
    assert art.publisher == "The Moscow Times"
    assert art.residue == ("Remind me later.", "Share this article")


def test_hard_wrapped_prose_that_opens_like_an_appeal_stays_a_paragraph() -> None:
    """Wrapped lines end mid-sentence: a paragraph whose first line reads like a marker is not cut up."""
    text = ("Minsk said it would release prisoners.\n\nSupport for the plan grew over the summer, officials\n"
            "said, and the talks will\ncontinue.\n\nThe last paragraph.\n")
    art = parse(text)
    assert [p.text for p in art.paragraphs] == [
        "Minsk said it would release prisoners.",
        "Support for the plan grew over the summer, officials said, and the talks will continue.",
        "The last paragraph.",
    ]
    assert art.appeal is None and art.residue == ()


def test_appeal_in_the_middle_moves_to_the_end_and_stops_at_residue() -> None:
    text = "Lede here.\nDear readers,\nPlease give.\nRemind me later.\nBody goes on.\n"
    art = parse(text)
    assert [p.text for p in art.paragraphs] == ["Lede here.", "Body goes on."]
    assert art.appeal is not None
    assert [p.text for p in art.appeal.paragraphs] == ["Dear readers,", "Please give."]
    assert art.appeal.title == "A Message from the Publisher"


def test_markdown_heading_title_emphasis_links_and_sections() -> None:
    text = (
        "# The *Big* Story\n\nA **bold** lede with a [link](http://x.org) and `code`.\n\n"
        "## Background\n\nSome _history_.\n\n## Support independent journalism\n\nGive monthly.\n"
    )
    art = parse(text, "story.md")
    assert art.title == "The Big Story"
    assert art.title_given
    assert [p.text for p in art.paragraphs] == ["A bold lede with a link and code.", "Some history."]
    assert art.paragraphs[1].heading == "Background"
    assert art.appeal is not None and art.appeal.title == "Support independent journalism"
    assert [p.text for p in art.appeal.paragraphs] == ["Support independent journalism", "Give monthly."]


def test_support_sentence_in_the_body_is_not_an_appeal() -> None:
    art = parse("Lede.\nSupport for the measure fell to 30 percent.\nEnd.\n")
    assert art.appeal is None
    assert len(art.paragraphs) == 3


def test_title_cut_from_the_lede_at_a_word_boundary() -> None:
    art = parse("A " + "very " * 30 + "long lede. Second sentence.\n")
    assert not art.title_given
    assert len(art.title) <= 80
    assert art.title.endswith("very…")
    assert parse("Short lede. More.\n", title="Given").title == "Given"


def test_appeal_file_and_no_appeal(tmp_path: Path) -> None:
    appeal_file = tmp_path / "appeal.txt"
    appeal_file.write_text("A Message from Daily Planet:\nSubscribe, please.\n", encoding="utf-8")
    art = parse("Lede.\nDear readers,\nOld appeal.\n", appeal=source.read(appeal_file))
    assert [p.text for p in art.paragraphs] == ["Lede."]
    assert art.appeal is not None and art.appeal.title == "A Message from Daily Planet"
    assert [p.text for p in art.appeal.paragraphs][-1] == "Subscribe, please."
    gone = parse("Lede.\nDear readers,\nOld appeal.\n", no_appeal=True)
    assert gone.appeal is None and [p.text for p in gone.paragraphs] == ["Lede."]


def test_config_extends_markers_and_residue() -> None:
    cfg = config.from_mapping({"appeal_markers": [r"Become a Patron\W*"], "residue": [r"Not now"]}, "cfg")
    doc = source.parse_bytes(b"Lede.\nBecome a Patron!\nGive.\nNot now\n", Path("a.txt"))
    art = article.parse(doc, cfg)
    assert art.appeal is not None and art.appeal.title == "Become a Patron"
    assert art.residue == ("Not now",)


def test_only_an_appeal_is_an_error() -> None:
    with pytest.raises(BadInput, match=r"^x.txt: no article paragraphs left after the appeal is removed$"):
        parse("A Message from Us:\nGive.\n", "x.txt")


@pytest.mark.parametrize(
    ("name", "given", "slug"),
    [
        ("Moscow Times Belarus", None, "moscow-times-belarus"),
        ("story", "../../etc/passwd", "etc-passwd"),
        ("story", "Crème brûlée!", "creme-brulee"),
        ("story", "<script>", "script"),
    ],
)
def test_slugs_are_filesystem_safe(name: str, given: str | None, slug: str) -> None:
    assert parse("Lede.\n", f"{name}.txt", slug=given).slug == slug


def test_non_latin_names_get_a_stable_hashed_slug() -> None:
    first = parse("Лид.\n", "статья.txt").slug
    assert first.startswith("article-") and first == parse("Лид.\n", "статья.txt").slug


def test_encodings_detected_and_named() -> None:
    russian = "Министр иностранных дел Белоруссии заявил, что ни один российский солдат не останется в стране.\n"
    doc = source.parse_bytes(russian.encode("cp1251"), Path("ru.txt"))
    assert doc.encoding == "cp1251" and doc.text == russian
    bom = source.parse_bytes(b"\xef\xbb\xbfHello.\r\nWorld.\r\n", Path("b.txt"))
    assert bom.encoding == "utf-8-sig" and bom.text == "Hello.\nWorld.\n"


def test_a_marker_with_more_than_an_appeal_after_it_opens_none() -> None:
    """An appeal is a few short paragraphs (APPEAL_LIMIT characters): a line such as "Support for the plan
    grew" with the rest of the article after it moved all of that into a closing "appeal"."""
    body = "The plan was debated for a year, and the council heard from hundreds of residents along the river."
    text = f"{body}\n\nSupport for the plan grew:\n\n" + "\n\n".join(f"{body} Part {i}." for i in range(40)) + "\n"
    art = parse(text)
    assert art.appeal is None
    assert len(art.paragraphs) == 42
