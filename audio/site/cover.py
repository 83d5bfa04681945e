"""The show's artwork in out/: the publisher's own image, checked, or a generated square cover."""
from __future__ import annotations

import hashlib
import io
import logging
import textwrap
import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError, features
from PIL.PngImagePlugin import PngInfo

from .. import publish
from ..feedconfig import ARTWORK_SIZE as SIZE
from ..feedconfig import ARTWORK_TYPES, check_artwork

log = logging.getLogger(__name__)

GENERATED = "cover.png"
_BACKGROUND = (24, 38, 66)
_INK = (250, 250, 246)
_MARK = "generator"  # PNG text key recording what a generated cover shows
_FONTS = ("DejaVuSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf", "LiberationSans-Bold.ttf")


def ensure(out: Path, artwork: str | None, name: str) -> str:
    """The artwork to announce: a URL as given, else the name of its file in out/ (made if needed)."""
    if artwork is not None and artwork.startswith(("http://", "https://")):
        return artwork
    if artwork is not None:
        return _copy(out, Path(artwork))
    target = out / GENERATED
    mark = f"audio-edition cover v1: {name}"
    if _existing_mark(target) != mark:
        publish.write_atomic(target, generate(name, mark))
        log.debug("generated %s for %r", target, name)
    return GENERATED


EMBEDDED_SIZE = 600  # px: the cover inside each audio file, for players of a downloaded file (not the feed's)


def embedded(artwork: str | None) -> bytes | None:
    """The configured artwork file as a JPEG at most EMBEDDED_SIZE px square, to go inside the audio files
    (ID3 APIC, MP4 covr); None without a local artwork file (a URL, or the generated cover: not remade
    at every build)."""
    if artwork is None or artwork.startswith(("http://", "https://")):
        return None
    with Image.open(artwork) as image:  # (checked when the config was read: feedconfig.check_artwork)
        small = image.convert("RGB")
        small.thumbnail((EMBEDDED_SIZE, EMBEDDED_SIZE))
        buffer = io.BytesIO()
        small.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def generate(name: str, mark: str = "", size: int = SIZE, caption: str = "AUDIO EDITION") -> bytes:
    """A square RGB PNG (3000 px: the feed's artwork): the name, large, on a plain background."""
    image = Image.new("RGB", (size, size), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    lines, font = _fit(draw, name, width=int(size * 0.8), height=int(size * 0.5), start=size // 6)
    text = "\n".join(lines)
    box = draw.multiline_textbbox((0, 0), text, font=font, align="center", spacing=font.size // 4)
    x = (size - (box[2] - box[0])) / 2 - box[0]
    y = (size * 0.42 - (box[3] - box[1]) / 2) - box[1]
    draw.multiline_text((x, y), text, font=font, fill=_INK, align="center", spacing=font.size // 4)
    label = _font(size // 22)
    width = draw.textlength(caption, font=label)
    draw.text(((size - width) / 2, size * 0.78), caption, font=label, fill=_INK)
    draw.rectangle((size * 0.4, size * 0.74, size * 0.6, size * 0.74 + size // 150), fill=_INK)
    info = _png_info(mark)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def can_draw(text: str) -> bool:
    """Whether a cover shows `text` as written: the font has a glyph for each character (one it lacks is
    drawn as its empty box, the glyph of a private-use code point), and right-to-left text is shaped (raqm)."""
    font = _font(48)

    def glyph(character: str) -> tuple[tuple[int, int], bytes]:
        mask = font.getmask(character)
        return mask.size, bytes(mask)

    missing = glyph("\U0010fffd")
    for character in set(text):
        if character.isspace():
            continue
        if unicodedata.bidirectional(character) in ("R", "AL") and not features.check("raqm"):
            return False
        if glyph(character) == missing:
            return False
    return True


def _copy(out: Path, source: Path) -> str:
    kind = check_artwork(source)
    data = source.read_bytes()
    # The content's hash in the name: podcast apps cache artwork by URL.
    name = f"cover-{hashlib.sha256(data).hexdigest()[:12]}{ARTWORK_TYPES[kind][0]}"
    if not (out / name).exists():
        publish.write_atomic(out / name, data)
    return name


def _existing_mark(path: Path) -> str | None:
    """The mark of a cover made here: its text chunk comes before the pixels, so nothing is decoded."""
    try:
        with Image.open(path) as image:
            mark = image.info.get(_MARK)
            return str(mark) if mark is not None else None
    except (FileNotFoundError, UnidentifiedImageError, OSError):
        return None


def _png_info(mark: str) -> PngInfo:
    info = PngInfo()
    info.add_text(_MARK, mark)
    return info


def _fit(draw: ImageDraw.ImageDraw, name: str, width: int, height: int,
         start: int) -> tuple[list[str], ImageFont.FreeTypeFont]:
    """The largest font size from `start` down (and line breaks) at which the name fits the box."""
    size = start
    while True:
        font = _font(size)
        average = max(1.0, draw.textlength("abcdefghijklmnopqrstuvwxyz", font=font) / 26)
        lines = textwrap.wrap(name, width=max(1, int(width / average))) or [name]
        box = draw.multiline_textbbox((0, 0), "\n".join(lines), font=font, align="center", spacing=size // 4)
        if (box[2] - box[0] <= width and box[3] - box[1] <= height) or size <= 40:
            return lines, font
        size = int(size * 0.9)


def _font(size: int) -> ImageFont.FreeTypeFont:
    for candidate in _FONTS:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    # Pillow's bundled font (Latin only) where the system has none of the usual ones.
    default = ImageFont.load_default(size)
    assert isinstance(default, ImageFont.FreeTypeFont)
    return default
