"""The edition record, out/<slug>/edition.json: what a build made, read back by the site, batch and serve."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from .errors import BadInput

MANIFEST = "edition.json"
VERSION = 1


class Edition(NamedTuple):
    slug: str
    directory: Path
    manifest: dict[str, Any]

    @property
    def audio(self) -> Path:
        return self.directory / str(self.manifest["files"][0]["name"])


def load(directory: Path) -> Edition:
    """Read a built edition back from its edition.json."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    return Edition(manifest["slug"], directory, manifest)


def refuse_foreign(final: Path) -> None:
    """Refuse a path where an edition goes that holds something this tool did not make: publishing swaps
    the folder out and removes it, which must only ever remove an edition."""
    if not final.exists() and not final.is_symlink():
        return
    if final.is_symlink() or not final.is_dir():
        raise BadInput(f"{final}: is a file, where this article's edition goes: move it away, or give --slug")
    if not is_edition(final):
        raise BadInput(f"{final}: is a folder audio-edition did not make (no {MANIFEST} of ours), where this "
                       "article's edition goes: move it away, or give --slug")


def is_edition(folder: Path) -> bool:
    """Whether `folder` holds an edition this tool wrote: its edition.json names it and its files."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(manifest, dict) and manifest.get("slug") == folder.name
            and isinstance(manifest.get("version"), int) and isinstance(manifest.get("files"), list))
