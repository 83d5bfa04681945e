"""Script and timeline: sentences by a real splitter, chapters, and the arithmetic of times."""
from __future__ import annotations

from pathlib import Path

import pytest

from audio import config
from audio.sound import timeline
from audio.text import article, source
from audio.text.script import SENTENCE_LIMIT, Script, make_script

from ..conftest import SAMPLE

pytestmark = pytest.mark.fast


def script_of(text: str) -> Script:
    doc = source.parse_bytes(text.encode(), Path("t.txt"))
    return make_script(article.parse(doc, config.Config()))


def test_sample_chapters_intro_paragraphs_appeal_last() -> None:
    script = make_script(article.parse(source.read(SAMPLE), config.Config()))
    kinds = [c.kind for c in script.chapters]
    assert kinds == ["intro"] + ["paragraph"] * 14 + ["appeal"]
    assert script.chapters[-1].title == "A Message from The Moscow Times"
    assert script.chapters[0].sentences[-1].text == "From The Moscow Times."
    assert all("Remind me later" not in s.text for s in script.sentences)
    assert script.chapters[1].title == "Belarus's foreign minister Vladimir Makei said…"


def test_sentences_split_by_pysbd_not_on_every_period() -> None:
    script = script_of("Mr. Smith paid $2.50 at 3 p.m. on Jan. 5. He left. Did he?\n")
    assert [s.text for s in script.chapters[1].sentences] == ["Mr. Smith paid $2.50 at 3 p.m. on Jan. 5.", "He left.", "Did he?"]


def test_spoken_form_drops_quote_marks_but_text_keeps_them() -> None:
    sentence = script_of('He said "not a single" soldier (Russian) stays.\n').chapters[1].sentences[0]
    assert sentence.text == 'He said "not a single" soldier (Russian) stays.'
    assert '"' not in sentence.spoken and "(" not in sentence.spoken


def test_over_long_sentence_is_bounded_and_nothing_is_lost() -> None:
    words = " ".join(f"word{i}," for i in range(400))
    sentences = script_of(words + "\n").chapters[1].sentences
    assert len(sentences) > 1 and all(len(s.text) <= SENTENCE_LIMIT for s in sentences)
    assert " ".join(s.text for s in sentences) == words


def test_symbol_only_paragraph_is_not_spoken() -> None:
    script = script_of("Real text.\n* * *\nMore text.\n")
    assert [c.kind for c in script.chapters] == ["intro", "paragraph", "paragraph"]


def test_timeline_is_contiguous_and_cues_lie_in_their_chapters() -> None:
    script = make_script(article.parse(source.read(SAMPLE), config.Config()))
    frames = [1000 + 10 * i for i in range(len(script.sentences))]
    pauses = config.Pauses(lead_in=100, sentence=200, paragraph=500, appeal=1000, tail=300)
    plan = timeline.plan(script, frames, 1000, pauses)
    assert plan.chapters[0].start == 0
    for before, after in zip(plan.chapters, plan.chapters[1:]):
        assert before.end == after.start
    assert plan.chapters[-1].end == plan.total
    for span in plan.chapters:
        for i in span.cues:
            assert span.start <= plan.cues[i].start < plan.cues[i].end <= span.end
    # Exact arithmetic: every take and pause accounted for, in order.
    gaps = sum(s.frames for s in plan.segments if s.take is None)
    assert plan.total == sum(frames) + gaps
    assert plan.cues[0].start == 100
    appeal_start = plan.chapters[-1].start
    previous_cue_end = plan.cues[plan.chapters[-2].cues[-1]].end
    assert appeal_start - previous_cue_end == 1000
    assert [s.take for s in plan.segments if s.take is not None] == list(range(len(frames)))


def test_a_paragraph_remembered_is_not_split_again_and_a_new_lexicon_is_a_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audio import cache
    from audio.text import script as script_module
    from audio.text.lexicon import Entry, Lexicon

    text = "Mr. Smith paid $2.50 at 3 p.m. on Jan. 5. He left.\n\nThe mayor said no. Then she left.\n\nA third one. Short.\n"
    art = article.parse(source.parse_bytes(text.encode(), Path("t.txt")), config.Config())
    store = cache.Cache(tmp_path / "cache")
    plain = make_script(art)
    memo = script_module.Memo(store)
    assert make_script(art, memo=memo) == plain
    memo.save()
    split: list[str] = []
    real = script_module._sentences
    monkeypatch.setattr(script_module, "_sentences", lambda text, *rest: split.append(text) or real(text, *rest))
    assert make_script(art, memo=script_module.Memo(store)) == plain and split == []  # every paragraph remembered
    edited = article.parse(source.parse_bytes(text.replace("said no", "said yes").encode(), Path("t.txt")), config.Config())
    expected = make_script(edited)
    split.clear()
    assert make_script(edited, memo=script_module.Memo(store)) == expected and split == ["The mayor said yes. Then she left."]
    split.clear()
    lexicon = Lexicon((Entry("Smith", "Smyth"),))
    with_lexicon = make_script(art, lexicon, memo=script_module.Memo(store))
    assert "Smyth" in with_lexicon.chapters[1].sentences[0].spoken and len(split) == 3
    entry = script_module.Memo.entry("A third one. Short.", art.language, None)
    store.path("script", entry, ".json").write_text('[["one"]]', encoding="utf-8")  # not a pair: made again
    split.clear()
    assert make_script(art, memo=script_module.Memo(store)) == plain and split == ["A third one. Short."]


def test_the_memo_key_covers_every_module_that_says_a_paragraph() -> None:
    """A change to any of them must be a new key, or a rebuild would speak what the old code said."""
    from audio import cache
    from audio.text import lexicon, normalize, numbers_en, speechwords
    from audio.text import script as script_module

    files = cache.code_files()
    for module in (script_module, normalize, numbers_en, speechwords, lexicon, source):
        assert module.__file__ in files, module.__name__
