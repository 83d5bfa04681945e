"""Published media immutable by URL: an edition's audio, chapters and transcripts also published under
names made from their content, the ones a rebuild replaced kept beside them for a while, then pruned."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from ..manifest import MANIFEST, is_edition

log = logging.getLogger(__name__)

# The files a podcast app downloads or fetches live, whose URL must never serve other content.
ROLES = ("audio", "chapters", "transcript")
# What version() names a file: its own name with the first 12 hex digits of its SHA-256 before the
# extension (48 bits: a collision between two builds of one edition is out of reach).
_VERSIONED = re.compile(r".+\.[0-9a-f]{12}\.[A-Za-z0-9]+")


def versioned_name(name: str, digest: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return f"{stem}.{digest[:12]}.{extension}" if dot else f"{name}.{digest[:12]}"


def version(staging: Path, previous: Path, files: list[dict[str, Any]], now: str) -> list[dict[str, str]]:
    """Give each entry of `files` (in `staging`) that an app fetches its "versioned" name, a hard link to
    the file beside it; then carry over, linked into staging too, the versioned files of the edition in
    `previous` that this build does not publish again. Returns them as edition.json's "superseded" list:
    name and since when. The edition folder is replaced as a whole, so what it keeps must be in staging."""
    current = set()
    for entry in files:
        if entry.get("role") not in ROLES:
            continue
        name = str(entry["name"])
        digest = _sha256(staging / name)
        entry["versioned"] = versioned_name(name, digest)
        _link(staging / name, staging / entry["versioned"])
        current.add(entry["versioned"])
    superseded: list[dict[str, str]] = []
    for name, since in _published_before(previous, now):
        source = previous / name
        if name in current or not _VERSIONED.fullmatch(name) or "/" in name or (staging / name).exists() \
                or source.is_symlink() or not source.is_file():
            continue  # (published again, or pruned, or never ours)
        with contextlib.suppress(FileNotFoundError):  # pruned meanwhile: nothing to keep
            _link(source, staging / name)
            superseded.append({"name": name, "since": since})
    return superseded


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):  # (an hour's MP3 is tens of MB)
            digest.update(block)
    return digest.hexdigest()


def _published_before(previous: Path, now: str) -> list[tuple[str, str]]:
    """The versioned files of the edition being replaced: those it published (superseded from now on)
    and those it had carried over already (since when they were)."""
    if not is_edition(previous):
        return []
    try:
        manifest = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found = [(str(f["versioned"]), now) for f in manifest.get("files", [])
             if isinstance(f, dict) and isinstance(f.get("versioned"), str)]
    found += [(str(s["name"]), str(s["since"])) for s in manifest.get("superseded", [])
              if isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("since"), str)]
    return found


def _link(source: Path, target: Path) -> None:
    """The same bytes under a second name, without a second copy where the file system allows it."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)  # (a file system without hard links)


class Pruned(NamedTuple):
    files: int
    bytes: int


def prune(out: Path, days: float, referenced: Iterable[str], now: dt.datetime | None = None) -> Pruned:
    """Remove the superseded files (edition.json "superseded") of every edition in out/ superseded more than
    `days` ago that `referenced` (paths relative to out/ that a feed lists) does not name. Nothing else is
    touched: not an edition's current files, not a file this tool did not list as superseded."""
    keep = set(referenced)
    cutoff = (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=days)
    removed = freed = 0
    with contextlib.suppress(FileNotFoundError), os.scandir(out) as entries:
        folders = sorted(Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False))
    for folder in folders:
        if not is_edition(folder):
            continue
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        current = {str(f.get("versioned")) for f in manifest.get("files", []) if isinstance(f, dict)}
        for entry in manifest.get("superseded", []):
            name, since = entry.get("name"), _time(entry.get("since"))
            if not isinstance(name, str) or not _VERSIONED.fullmatch(name) or "/" in name or since is None:
                continue
            if since > cutoff or name in current or f"{folder.name}/{name}" in keep:
                continue
            target = folder / name
            if target.is_symlink() or not target.is_file():
                continue
            size = target.stat().st_size
            target.unlink()
            removed, freed = removed + 1, freed + size
            log.debug("pruned %s (superseded %s)", target, since.isoformat())
    return Pruned(removed, freed)


def _time(value: Any) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
