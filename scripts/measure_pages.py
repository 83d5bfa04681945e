"""Measure what the build reads of each saved page against what a person calls its article.

Run: .venv/bin/python scripts/measure_pages.py [--code CHECKOUT]
The pages and what a person reads in them are tests/fixtures/html/ and its expected.json (the
article's paragraphs, its title, its appeal). For each page it prints the words read that belong to
the article (recall), the words read that do (precision), whether the title is the article's own,
how many paragraphs repeat an earlier one the page does not repeat, and whether the appeal is the
page's (none where it has none). --code measures another checkout's audio package on the same
pages (an older commit, checked out with `git worktree add`), for before-and-after figures.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "html"
WORD = re.compile(r"\w+")


def words(texts: list[str]) -> Counter[str]:
    return Counter(w.lower() for text in texts for w in WORD.findall(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose audio package is measured")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    from audio import config  # noqa: PLC0415 (the checkout chosen above)
    from audio.text import article, source  # noqa: PLC0415
    from audio.errors import BadInput  # noqa: PLC0415

    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    print(f"{'page':22} {'recall':>7} {'precision':>9} {'title':>6} {'repeats':>8} {'appeal':>7}")
    hit = wanted = read = 0
    titles = repeats = appeals = refused = 0
    for name, want in expected.items():
        want_texts = [text for _, text in want["paragraphs"]] + (want["appeal"] or {}).get("paragraphs", [])
        try:
            art = article.parse(source.read(FIXTURES / name), config.Config())
        except BadInput:
            refused += 1
            wanted += sum(words(want_texts).values())
            print(f"{name:22} {'refused':>7}")
            continue
        got_texts = [p.text for p in art.paragraphs] + ([p.text for p in art.appeal.paragraphs] if art.appeal else [])
        want_words, got_words = words(want_texts), words(got_texts)
        common = sum((want_words & got_words).values())
        hit, wanted, read = hit + common, wanted + sum(want_words.values()), read + sum(got_words.values())
        page_repeats = sum(max(0, n - Counter(want_texts)[text]) for text, n in Counter(got_texts).items() if n > 1)
        appeal_right = (art.appeal.title if art.appeal else None) == (want["appeal"] or {}).get("title")
        title_right = art.title == want["title"]
        titles += title_right
        repeats += page_repeats
        appeals += appeal_right
        recall = common / max(1, sum(want_words.values()))
        precision = common / max(1, sum(got_words.values()))
        print(f"{name:22} {recall:7.1%} {precision:9.1%} {'yes' if title_right else 'NO':>6} {page_repeats:>8} "
              f"{'right' if appeal_right else 'WRONG':>7}")
    pages = len(expected)
    print(f"\n{pages} pages: {refused} refused; words of the article read {hit / max(1, wanted):.1%} (recall), "
          f"words read that are the article's {hit / max(1, read):.1%} (precision); titles right {titles}/{pages}; "
          f"repeated paragraphs {repeats}; appeals right {appeals}/{pages - refused}")


if __name__ == "__main__":
    main()
