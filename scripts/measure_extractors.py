"""Compare trafilatura and readability-lxml on the HTML fixtures: paragraphs found, furniture read, time on a 12 MB page.

Run: .venv/bin/python scripts/measure_extractors.py   (needs the extra: `.venv/bin/pip install -e ".[compare]"`)
Each extractor runs twice: on the raw page, and after audio/text/html.py's own cleaning (code, furniture and the
appeal box out), which is how the build uses it.
"""
from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audio import config  # noqa: E402

from audio.text import html

FIXTURES = ROOT / "tests" / "fixtures" / "html"
SPACES = re.compile(r"\s+")


def matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    return lambda text: any(c.fullmatch(text) for c in compiled)


def cleaned(page: str) -> lxml.html.HtmlElement:
    cfg = config.Config()
    root = html.parse_page(page, "page")
    html.strip_code(root)
    html.take_appeal(root, matcher(cfg.appeal_markers), matcher(cfg.residue), None)
    html.strip_furniture(root)
    return root


def trafilatura_blocks(page: str | lxml.html.HtmlElement) -> list[str]:
    import trafilatura

    xml = trafilatura.extract(page, output_format="xml", include_comments=False, include_tables=False)
    if not xml:
        return []
    doc = lxml.etree.fromstring(xml.encode())
    return [SPACES.sub(" ", "".join(e.itertext())).strip() for e in doc.find("main").iter("p", "head", "item")]


def readability_blocks(page: str | lxml.html.HtmlElement) -> list[str]:
    from readability import Document

    text = page if isinstance(page, str) else lxml.html.tostring(page, encoding="unicode")
    summary = lxml.html.fromstring(Document(text).summary(html_partial=True))
    tags = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li")
    return [
        SPACES.sub(" ", e.text_content()).strip() for e in summary.iter(*tags)
        if not any(a.tag in tags for a in e.iterancestors())
    ]


def main() -> None:
    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    variants = {
        "trafilatura raw": lambda p: trafilatura_blocks(p),
        "trafilatura cleaned": lambda p: trafilatura_blocks(cleaned(p)),
        "readability raw": lambda p: readability_blocks(p),
        "readability cleaned": lambda p: readability_blocks(cleaned(p)),
    }
    print(f"{'variant':22} {'found':>7} {'missed':>7} {'extra':>6} {'exact pages':>12}")
    for label, run in variants.items():
        found = missed = extra = exact = 0
        for name, want in expected.items():
            data = (FIXTURES / name).read_bytes()
            page = data.decode("cp1251" if "cp1251" in name else "utf-8")
            wanted = [t for h, t in want["paragraphs"]] + [h for h, _ in want["paragraphs"] if h]
            got = [b for b in run(page) if b and b != want["title"]]
            found += sum(1 for t in wanted if t in got)
            missed += sum(1 for t in wanted if t not in got)
            extra += sum(1 for b in got if b not in wanted)
            exact += set(got) == set(wanted)
        print(f"{label:22} {found:>7} {missed:>7} {extra:>6} {exact:>8}/{len(expected)}")

    base = (FIXTURES / "wordpress.html").read_text(encoding="utf-8")
    comments = "".join(
        f'<div class="comment" id="c{i}"><p>Comment {i}: I think the council is wrong about this, and here is a long '
        "reason why it matters to all of us.</p></div>\n" for i in range(75000)
    )
    huge = base.replace('<div id="respond"', comments + '<div id="respond"')
    print(f"\nA {len(huge.encode()) / 1e6:.1f} MB page (75,000 comments):")
    for label, run in variants.items():
        start = time.perf_counter()
        blocks = run(huge)
        print(f"{label:22} {time.perf_counter() - start:6.1f} s, {len(blocks)} blocks")


if __name__ == "__main__":
    main()
