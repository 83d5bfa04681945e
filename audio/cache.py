"""The take cache: takes (and encoded pieces, loudness) stored under a key of everything that changes their sound."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from . import stops
from .errors import naming

CACHE_ENV = "AUDIO_EDITION_CACHE"  # a directory: overrides the platform's user cache directory
KINDS = ("takes", "pieces", "loudness", "script", "gains", "onnx")


def default_dir() -> Path:
    """$AUDIO_EDITION_CACHE, else the platform's user cache directory (platformdirs)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen)
    import platformdirs

    return Path(platformdirs.user_cache_dir("audio-edition", appauthor=False))


def key(**parts: Any) -> str:
    """A stable hex key of named parts (JSON with sorted keys, so the order of arguments does not matter)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Usage(NamedTuple):
    kind: str
    entries: int
    bytes: int


# Entries used this recently are never pruned (see Cache.prune).
IN_USE_SECONDS = 3600


class Cache:
    """Files named by key under root/<kind>/<2 hex>/; written beside their name, then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, kind: str, entry: str, suffix: str) -> Path:
        return self.root / kind / entry[:2] / f"{entry}{suffix}"

    def partial(self, kind: str, entry: str, suffix: str) -> Path:
        """A fresh name beside the entry to write it under; `commit` renames it into place."""
        final = self.path(kind, entry, suffix)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{entry[:16]}.", suffix=f".partial{suffix}", dir=final.parent)
        os.close(fd)
        return Path(name)

    def commit(self, partial: Path, kind: str, entry: str, suffix: str) -> Path:
        """Rename a finished partial into place. No fsync: an entry a crash left short fails the
        size/header check on its next use and is made again, so durability is not worth a disk flush."""
        final = self.path(kind, entry, suffix)
        os.replace(partial, final)
        return final

    def touch(self, path: Path) -> None:
        """Mark an entry used now (prune removes the ones unused longest)."""
        _touch(path)

    def read_json(self, kind: str, entry: str) -> Any:
        path = self.path(kind, entry, ".json")
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError):
            return None  # damaged: made again, and replaced by the new entry (never removed: see `take`)
        _touch(path)
        return value

    def write_json(self, kind: str, entry: str, value: Any) -> None:
        with stops.deferred():  # (a stop between making the partial and the try would leave it)
            partial = self.partial(kind, entry, ".json")
            try:
                with naming(partial):
                    partial.write_text(json.dumps(value, separators=(",", ":")), encoding="utf-8")
                self.commit(partial, kind, entry, ".json")
            except BaseException:
                partial.unlink(missing_ok=True)  # (a full disk: no empty entries-to-be left behind)
                raise

    def usage(self) -> list[Usage]:
        found = []
        for kind in KINDS:
            files = list(self._entries(kind))
            found.append(Usage(kind, len(files), sum(size for _, size, _ in files)))
        return found

    def prune(self, days: float) -> tuple[int, int]:
        """Remove entries not used in `days` days (and leftovers of killed writers); returns (files, bytes).
        An entry used within IN_USE_SECONDS is kept whatever `days` says: a build running now may have
        looked it up (a lookup marks it used) and not read it yet."""
        cutoff = time.time() - max(days * 86400, IN_USE_SECONDS)
        removed = freed = 0
        for kind in KINDS:
            for path, size, used in self._entries(kind, partials=True):
                if used < cutoff or (".partial" in path.name and used < time.time() - 3600):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed += 1
                        freed += size
        return removed, freed

    def _entries(self, kind: str, partials: bool = False) -> Iterator[tuple[Path, int, float]]:
        base = self.root / kind
        if not base.is_dir():
            return
        for shard in base.iterdir():
            if not shard.is_dir():
                continue
            for path in shard.iterdir():
                if ".partial" in path.name and not partials:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    stat = path.stat()
                    yield path, stat.st_size, stat.st_mtime


def _touch(path: Path) -> None:
    """Mark an entry used now: prune removes what was not used for a while."""
    with contextlib.suppress(OSError):
        os.utime(path)


def code_files() -> list[str | None]:
    """The code a cached script or a warm process depends on: every module of this package, pysbd's and
    num2words' (found, not imported)."""
    import importlib.util

    files: list[str | None] = [str(path) for path in sorted(Path(__file__).parent.rglob("*.py"))]
    for package in ("pysbd", "num2words"):
        spec = importlib.util.find_spec(package)
        files.append(spec.origin if spec is not None else None)
    return files


@functools.cache
def code_version() -> str:
    """code_stamp(), once a process."""
    return code_stamp()


def code_stamp() -> str:
    """code_files() by name, size and modification time: any change to them is a new stamp."""
    stamps = []
    for name in code_files():
        try:
            found = os.stat(name) if name else None
        except OSError:
            found = None
        stamps.append(f"{name}:{found.st_size}:{found.st_mtime_ns}" if found else f"{name}:-")
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()
