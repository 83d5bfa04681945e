"""Publisher settings from a TOML file; command-line flags override them."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from .errors import BadInput
from .feedconfig import FeedConfig, check_text, is_url
from .feedconfig import parse as parse_feed
from .limits import read_settings

APPEAL_LIMIT = 3000  # characters: an appeal is a few short paragraphs (a page's box too), never the article
DEFAULT_APPEAL_MARKERS = (
    r"A Message from (?P<publisher>.+?)\s*[:.]?",
    r"(?:A )?(?:Note|Letter) from (?:the )?(?P<publisher>.+?)\s*[:.]?",
    r"Dear (?:readers|reader|friends|supporters)\s*[,:!]?",
    r"(?:Support|Donate to|Donate|Become a (?:member|supporter) of|Contribute to)\b[^.?!]{0,60}[:!]?",
)

DEFAULT_RESIDUE = (
    r"Remind me later\.?",
    r"Maybe later\.?",
    r"No,? thanks\.?",
    r"Close\.?",
    r"Share this article\.?",
    r"Read more\.?",
    r"(?:Donate|Support us|Contribute|Subscribe)( now| today)?\.?",
    r"Continue\.?",
)


# The speech engines (audio.speech.voice.ENGINES, which the core may not import: the config is checked here).
ENGINES = ("pyttsx3", "piper")


class Pauses(NamedTuple):
    """Silence in milliseconds between the parts of an edition."""

    lead_in: int = 300
    sentence: int = 350
    paragraph: int = 800
    appeal: int = 1600
    tail: int = 700


class Config(NamedTuple):
    publisher: str | None = None
    donation_url: str | None = None
    appeal_markers: tuple[str, ...] = DEFAULT_APPEAL_MARKERS
    residue: tuple[str, ...] = DEFAULT_RESIDUE
    voice: str | None = None  # pyttsx3: a voice id, name or language code; piper: a model file, folder or the bundled name
    engine: str | None = None  # which engine speaks (ENGINES); None: pyttsx3, or --engine
    rate: int = 175
    pauses: Pauses = Pauses()
    feed: FeedConfig = FeedConfig()  # [feed]: the podcast channel
    lexicon: str | None = None  # pronunciation lexicon (.pls or .toml), relative to the config file
    language: str | None = None  # the articles' language where a page does not say: detection is skipped


def load(path: Path | None) -> Config:
    """Read a config file; None gives the defaults. Unknown keys are errors naming the key."""
    if path is None:
        return Config()
    if not path.exists():
        raise BadInput(f"{path}: config file not found")
    try:
        raw = tomllib.loads(read_settings(path, "a config").decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: not a valid TOML config: {exc}") from None
    except RecursionError:  # tomllib descends once a nested array or table
        raise BadInput(f"{path}: not a valid TOML config: nested too deeply") from None
    config = from_mapping(raw, str(path))
    if config.lexicon is not None:  # a path in the config means beside the config, wherever it is run from
        config = config._replace(lexicon=str(path.parent / config.lexicon))
    return config


def from_mapping(raw: dict[str, Any], origin: str) -> Config:
    known = set(Config._fields)
    section = raw
    config = Config()
    changes: dict[str, Any] = {}
    for key, value in section.items():
        if key == "feed":
            changes[key] = parse_feed(value, origin)
            continue
        if key == "player":
            continue  # read by the player
        if key not in known:
            raise BadInput(f"{origin}: unknown config key '{key}'")
        if key == "pauses":
            if not isinstance(value, dict):
                raise BadInput(f"{origin}: 'pauses' must be a table of milliseconds")
            pause_names = set(Pauses._fields)
            for name, ms in value.items():
                if name not in pause_names or not isinstance(ms, int) or ms < 0:
                    raise BadInput(f"{origin}: pauses.{name} must be one of {sorted(pause_names)} with a whole number of ms")
            changes[key] = Pauses()._replace(**value)
        elif key in ("appeal_markers", "residue"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadInput(f"{origin}: '{key}' must be a list of patterns")
            # Publisher patterns extend the defaults: they never switch them off.
            changes[key] = tuple(value) + getattr(config, key)
        elif key == "language":
            tag = normalize_tag(value) if isinstance(value, str) else None
            if tag is None:
                raise BadInput(f"{origin}: 'language' must be a language tag such as en, fr or pt-br")
            changes[key] = tag
        elif key == "engine":
            if value not in ENGINES:
                raise BadInput(f"{origin}: 'engine' must be one of {', '.join(ENGINES)}")
            changes[key] = value
        elif key == "rate":
            if not isinstance(value, int) or not 80 <= value <= 450:
                raise BadInput(f"{origin}: 'rate' must be words per minute between 80 and 450")
            changes[key] = value
        else:
            if not isinstance(value, str):
                raise BadInput(f"{origin}: '{key}' must be a string")
            check_text(value, f"{origin}: {key}")
            if key == "donation_url" and not is_url(value):  # read as the appeal chapter's link and the feed's funding
                raise BadInput(f"{origin}: donation_url '{value}' is not an absolute http:// or https:// URL")
            changes[key] = value
    return config._replace(**changes)


_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")


def normalize_tag(value: str) -> str | None:
    """'fr_FR', 'EN-us' -> 'fr-fr', 'en-us'; None for what is no language tag."""
    tag = value.strip().replace("_", "-").lower()
    return tag if _TAG.fullmatch(tag) and tag not in ("und", "mul", "zxx") else None
