"""The whole config is checked before a build speaks a word: artwork, feed text, links. A bad one is
one line and exit 2, with nothing published (before, each was found after the edition was in out/)."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from audio.cli.main import main

from ..conftest import ROOT, SAMPLE

SAMPLE_CONFIG = (ROOT / "samples" / "moscow-times.toml").read_text(encoding="utf-8")


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (no pixels follow: Pillow reads the header only)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def build_with(tmp_path: Path, config: str) -> tuple[int, str]:
    (tmp_path / "c.toml").write_text(config, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(SAMPLE), "--config", str(tmp_path / "c.toml"),
                                       "--out", str(tmp_path / "out"), "--rate", "450"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert not (tmp_path / "out").exists()  # nothing built, nothing published
    return result.exit_code, result.output


def with_artwork(name: str) -> str:
    return SAMPLE_CONFIG.replace('# artwork = "cover.png"', f'artwork = "{name}"')


@pytest.mark.parametrize("case", ["text", "small", "rgba", "bomb", "named-as-jpeg"])
def test_bad_artwork_is_refused_before_the_build(tmp_path: Path, case: str) -> None:
    name = {"named-as-jpeg": "art.jpg"}.get(case, "art.png")
    art = tmp_path / name
    if case == "text":
        art.write_text("not an image", encoding="utf-8")
        expected = "artwork is not an image Pillow can read"
    elif case == "small":
        Image.new("RGB", (100, 100)).save(art)
        expected = "artwork is 100x100; it must be square, 1400 to 3000 px"
    elif case == "rgba":
        Image.new("RGBA", (1400, 1400)).save(art)
        expected = "artwork colour mode is RGBA; Apple Podcasts needs RGB"
    elif case == "bomb":
        art.write_bytes(png_header(60000, 60000))
        expected = "artwork is far too large an image (Image size (3600000000 pixels) exceeds limit of 178956970 pixels"
    else:
        Image.new("RGB", (1400, 1400)).save(art, format="PNG")
        expected = "artwork is PNG but named .jpg; the extension must match the type"
    code, output = build_with(tmp_path, with_artwork(name))
    assert code == 2 and output.startswith(f"Error: {art}: {expected}") and output.count("\n") == 1, output


@pytest.mark.parametrize("character", ["\x01", "\ufffe"])
def test_a_feed_title_a_feed_cannot_carry_is_refused_before_the_build(tmp_path: Path, character: str) -> None:
    config = SAMPLE_CONFIG.replace('title = "The Moscow Times: Audio Edition"',
                                   f'title = "The Moscow Times\\u{ord(character):04x}"')  # (TOML's escape)
    code, output = build_with(tmp_path, config)
    assert (code, output) == (2, f"Error: {tmp_path / 'c.toml'}: feed.title holds U+{ord(character):04X}, "
                                 "a character a podcast feed cannot carry\n")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "//example.org/give"])
def test_a_donation_url_that_is_no_web_address_is_refused(tmp_path: Path, url: str) -> None:
    code, output = build_with(tmp_path, SAMPLE_CONFIG.replace("https://www.themoscowtimes.com/contribute", url))
    assert (code, output) == (
        2, f"Error: {tmp_path / 'c.toml'}: donation_url '{url}' is not an absolute http:// or https:// URL\n")
