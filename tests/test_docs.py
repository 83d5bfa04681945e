"""The documents: every file and section the README, docs/ and the code cite exists; the README stays short."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.fast

README_LIMIT = 10 * 1024  # bytes: a README a user reads to the end (issue 21)

# A path cited in prose or a comment: a module, a document, a test file or a script.
CITED = re.compile(
    r"(?<![\w/.-])(audio/[\w/]+\.py|docs/[\w.-]+\.md|tests/\w+\.py|scripts/[\w.-]*\w)(?![\w/-])"
)
# A section cited by its heading: `docs/performance.md, "A warm process"`, `README's "Speed"`.
SECTION = re.compile(r"(README(?:\.md)?|docs/[\w.-]+\.md)(?:'s)?,?\s+\"([^\"]+)\"")
LINK = re.compile(r"\]\(([^)\s]+)\)")  # a Markdown link's target


def cited_in() -> list[Path]:
    """README.md, docs/*.md and every module of the package: what a reader follows references from."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "audio").rglob("*.py"))]


def where(path: Path, text: str, at: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, at) + 1}"


def headings(document: Path) -> list[str]:
    return [line.lstrip("#").strip() for line in document.read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def test_every_cited_path_exists() -> None:
    dangling = []
    for path in cited_in():
        text = path.read_text(encoding="utf-8")
        for found in CITED.finditer(text):
            if not (ROOT / found.group(1)).exists():
                dangling.append(f"{where(path, text, found.start())}: {found.group(1)}")
    assert not dangling, "dangling:\n" + "\n".join(dangling)


def test_every_cited_section_exists() -> None:
    """A section named after a document ("README, "Speed"") is the start of one of its headings."""
    dangling = []
    for path in cited_in():
        text = path.read_text(encoding="utf-8")
        for found in SECTION.finditer(text):
            document = ROOT / ("README.md" if found.group(1).startswith("README") else found.group(1))
            named = " ".join(found.group(2).split())
            if not document.exists() or not any(h.startswith(named) for h in headings(document)):
                dangling.append(f"{where(path, text, found.start())}: {found.group(1)}, \"{named}\"")
    assert not dangling, "dangling:\n" + "\n".join(dangling)


def test_every_link_between_documents_leads_to_a_file() -> None:
    dangling = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for found in LINK.finditer(text):
            target = found.group(1).split("#")[0]
            if target and "://" not in target and not target.startswith("mailto:"):
                if not (path.parent / target).exists():
                    dangling.append(f"{where(path, text, found.start())}: {found.group(1)}")
    assert not dangling, "dangling:\n" + "\n".join(dangling)


def test_readme_is_short() -> None:
    size = (ROOT / "README.md").stat().st_size
    assert size < README_LIMIT, f"README.md is {size} bytes: move detail into docs/"


def test_the_module_map_names_every_module() -> None:
    """docs/architecture.md has a row for every module under audio/, in a section for its folder."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.MULTILINE)
    missing = []
    for module in sorted((ROOT / "audio").rglob("*.py")):
        folder = module.parent.relative_to(ROOT).as_posix()
        if module.name == "__init__.py" and folder != "audio":
            continue  # a stage group's face is its folder's section
        section = next((s for s in sections if s.startswith(f"`{folder}/`")), "")
        if f"| `{module.stem}` |" not in section:
            missing.append(module.relative_to(ROOT).as_posix())
    assert not missing, "not in docs/architecture.md's module map:\n" + "\n".join(missing)
