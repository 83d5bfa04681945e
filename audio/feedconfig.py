"""The [feed] table of the publisher config: the podcast channel's settings, checked."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from .errors import BadInput

# Apple Podcasts' categories and their subcategories (Apple's podcast category list).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden", "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News", "Tech News",
    ),
    "Religion & Spirituality": (
        "Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality",
    ),
    "Science": (
        "Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences", "Nature",
        "Physics", "Social Sciences",
    ),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": (
        "Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby", "Running",
        "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}

# What Apple requires of a show that the project cannot make up; artwork is generated.
REQUIRED = ("title", "description", "language", "category", "explicit")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")  # ISO 639 code, optionally a region: en, en-us
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DESCRIPTION_LIMIT = 4000  # bytes, Apple's limit for the show description


class FeedConfig(NamedTuple):
    """Channel settings; None means not given (required ones are checked when the feed is written)."""

    title: str | None = None
    description: str | None = None
    link: str | None = None  # the publication's site; defaults to base_url
    language: str | None = None
    author: str | None = None  # defaults to the config's publisher
    owner_name: str | None = None
    owner_email: str | None = None
    category: str | None = None
    subcategory: str | None = None
    explicit: bool | None = None
    artwork: str | None = None  # an http(s) URL, or a PNG/JPEG file (absolute once loaded)
    base_url: str | None = None  # where out/ is served, ending in "/"
    locked: bool = False  # podcast:locked: "yes" asks other platforms not to import the feed
    limit: int | None = None  # at most this many episodes, the newest; None: all
    podcast_guid: str | None = None  # the show's podcast:guid, set outright (a show that had one elsewhere)
    origin: str | None = None  # the config file they came from, for messages; None: no config

    def require(self) -> None:
        """Raise BadInput naming the first required key that is missing."""
        for key in REQUIRED:
            if getattr(self, key) is None and self.origin is None:
                raise BadInput(f"[feed] {key} is missing: give --config FILE with a [feed] table (see samples/moscow-times.toml)")
            if getattr(self, key) is None:
                raise BadInput(f"{self.origin}: [feed] {key} is missing; the podcast feed needs it")


def parse(raw: Any, origin: str) -> FeedConfig:
    """Check a [feed] table; every refusal names the key."""
    if not isinstance(raw, dict):
        raise BadInput(f"{origin}: 'feed' must be a table ([feed])")
    known = set(FeedConfig._fields) - {"origin"}
    values: dict[str, Any] = {"origin": origin}
    for key, value in raw.items():
        if key not in known:
            raise BadInput(f"{origin}: unknown key feed.{key} (expected one of: {', '.join(sorted(known))})")
        if key in ("explicit", "locked"):
            if not isinstance(value, bool):
                raise BadInput(f"{origin}: feed.{key} must be true or false")
        elif key == "limit":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInput(f"{origin}: feed.limit must be a whole number of episodes, at least 1")
        elif not isinstance(value, str) or not value.strip():
            raise BadInput(f"{origin}: feed.{key} must be a non-empty string")
        else:
            value = value.strip()
            check_text(value, f"{origin}: feed.{key}")
        values[key] = value
    config = FeedConfig(**values)
    _check(config, origin, Path(origin).parent)
    if config.base_url is not None:
        values["base_url"] = base_url(config.base_url, f"{origin}: feed.base_url")
        # A base URL means every build rewrites the feed: refuse now, before a build, not after.
        config.require()
    if config.artwork is not None and not _is_url(config.artwork):
        values["artwork"] = str((Path(origin).parent / config.artwork).resolve())
    return FeedConfig(**values)


def base_url(value: str, what: str) -> str:
    """An absolute http(s) URL ending in '/', under which out/ is served."""
    if not _is_url(value):
        raise BadInput(f"{what}: '{value}' is not an absolute http:// or https:// URL")
    return value if value.endswith("/") else value + "/"


def _check(c: FeedConfig, origin: str, folder: Path) -> None:
    if c.language is not None and not _LANGUAGE.fullmatch(c.language):
        raise BadInput(f"{origin}: feed.language '{c.language}' is not an ISO 639 language code such as en or en-us")
    if c.category is not None and c.category not in CATEGORIES:
        raise BadInput(f"{origin}: feed.category '{c.category}' is not an Apple Podcasts category")
    if c.subcategory is not None:
        if c.category is None:
            raise BadInput(f"{origin}: feed.subcategory needs feed.category")
        if c.subcategory not in CATEGORIES[c.category]:
            raise BadInput(f"{origin}: feed.subcategory '{c.subcategory}' is not in the category '{c.category}'")
    if c.description is not None and len(c.description.encode("utf-8")) > _DESCRIPTION_LIMIT:
        raise BadInput(f"{origin}: feed.description is longer than Apple's {_DESCRIPTION_LIMIT} bytes")
    if c.podcast_guid is not None and not _is_uuid(c.podcast_guid):
        raise BadInput(f"{origin}: feed.podcast_guid '{c.podcast_guid}' is not a UUID")
    if c.owner_email is not None and not _EMAIL.fullmatch(c.owner_email):
        raise BadInput(f"{origin}: feed.owner_email '{c.owner_email}' is not an e-mail address")
    if c.link is not None and not _is_url(c.link):
        raise BadInput(f"{origin}: feed.link '{c.link}' is not an absolute http:// or https:// URL")
    if c.artwork is not None and _is_url(c.artwork) and not urlsplit(c.artwork).path.lower().endswith((".png", ".jpg")):
        raise BadInput(f"{origin}: feed.artwork URL '{c.artwork}' must end in .png or .jpg (Apple Podcasts)")
    if c.artwork is not None and not _is_url(c.artwork):
        artwork = folder / c.artwork
        if artwork.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise BadInput(f"{origin}: feed.artwork '{c.artwork}' must be a .png or .jpg file, or a URL")
        if not artwork.is_file():
            raise BadInput(f"{origin}: feed.artwork '{artwork}' not found")
        check_artwork(artwork)  # now, before a build: found once the edition is published, it left the feed stale


# What XML 1.0 cannot carry (C0 controls but tab and line ends, surrogates, U+FFFE and U+FFFF): in the
# feed's settings it fails every feed written with them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_text(value: str, what: str) -> None:
    """Refuse a setting holding a character a feed cannot carry, naming it."""
    bad = _NOT_XML.search(value)
    if bad:
        raise BadInput(f"{what} holds U+{ord(bad.group()):04X}, a character a podcast feed cannot carry")


def is_url(value: str) -> bool:
    """An absolute http:// or https:// URL (the only kind a feed, a page or a chapter may link to)."""
    return _is_url(value)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def insecure(url: str) -> bool:
    """A plain http: URL that apps reach over a network: not loopback, a private network or a .local host.
    The Podcasting 2.0 namespace requires https: for the URLs it defines."""
    import ipaddress

    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a public name over plain http
    return not (address.is_loopback or address.is_private or address.is_link_local)


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


ARTWORK_SIZE = 3000  # Apple's largest artwork: 1400-3000 px square
ARTWORK_MIN = 1400
ARTWORK_TYPES = {"PNG": (".png",), "JPEG": (".jpg", ".jpeg")}


def check_artwork(path: Path) -> str:
    """Refuse artwork Apple would refuse; returns the image's real type ("PNG" or "JPEG")."""
    import warnings

    from PIL import (  # (Pillow: only where a config names artwork)
        Image,
        UnidentifiedImageError,
    )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # (its size is refused below)
            with Image.open(path) as image:  # (the header only: no pixel is decoded)
                kind, (width, height), mode = image.format, image.size, image.mode
    except FileNotFoundError:
        raise BadInput(f"{path}: artwork file not found") from None
    except UnidentifiedImageError:
        raise BadInput(f"{path}: artwork is not an image Pillow can read") from None
    except Image.DecompressionBombError as exc:
        raise BadInput(f"{path}: artwork is far too large an image ({exc}); it must be {ARTWORK_MIN} to {ARTWORK_SIZE} px") from None
    except OSError as exc:
        raise BadInput(f"{path}: artwork cannot be read: {exc}") from None
    if kind not in ARTWORK_TYPES:
        raise BadInput(f"{path}: artwork must be PNG or JPEG, not {kind}")
    if path.suffix.lower() not in ARTWORK_TYPES[kind]:
        raise BadInput(f"{path}: artwork is {kind} but named {path.suffix}; the extension must match the type")
    if width != height or not ARTWORK_MIN <= width <= ARTWORK_SIZE:
        raise BadInput(f"{path}: artwork is {width}x{height}; it must be square, {ARTWORK_MIN} to {ARTWORK_SIZE} px")
    if mode != "RGB":
        raise BadInput(f"{path}: artwork colour mode is {mode}; Apple Podcasts needs RGB")
    return kind
