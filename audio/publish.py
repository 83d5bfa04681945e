"""Put finished files into out/ atomically: written beside their final name, then renamed."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from pathlib import Path

from .errors import BadInput, naming

# The mark of an output folder this tool made or was told to adopt: nothing is written into, or removed
# from, a folder without it.
MARKER = ".audio-edition"

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file beside its final name, flush it to disk, then rename it over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600: a web server must read what we publish
        with naming(path), os.fdopen(fd, "wb") as handle:  # (a full disk: named by the file it was to be)
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.replace(tmp, path)
        except IsADirectoryError as exc:  # named by the file it was to be, not by its hidden partial
            raise IsADirectoryError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def staging_dir(final: Path) -> Path:
    """A hidden directory beside `final` to build into; removed by replace_dir or discard.

    Its name carries the builder's PID, so that `sweep` can tell a killed build's leftovers
    from a build still running.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".partial", dir=final.parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; the published edition must be readable
    return staging


def published_name(path: Path) -> Path | None:
    """Where a file in a staging directory (staging_dir) is published: out/<slug>/<name>; else None."""
    staging = path.parent.name
    if not (staging.startswith(".") and staging.endswith(".partial")):
        return None
    final, pid, _ = (staging[1 : -len(".partial")].rsplit(".", 2) + ["", ""])[:3]
    if not (final and pid.isdigit()):
        return None
    return path.parent.parent / final / path.name


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def sweep(final: Path) -> None:
    """Remove staging left by killed builds of this edition (their process is gone)."""
    for leftover in final.parent.glob(f".{glob.escape(final.name)}.*.partial"):
        pid = leftover.name[len(final.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def flush_dir(new: Path) -> None:
    """Put a finished directory's files on disk, before replace_dir swaps it in (outside its lock)."""
    for entry in new.iterdir():
        with open(entry, "rb") as handle:
            os.fsync(handle.fileno())


def replace_dir(new: Path, final: Path) -> None:
    """Swap a finished, flushed directory into place; readers see the old edition or the new, never a mix."""
    if not final.exists():
        os.rename(new, final)
        return
    if _exchange(new, final):
        shutil.rmtree(new)  # now holds the previous edition
        return
    old = final.with_name(f".{final.name}.previous")
    shutil.rmtree(old, ignore_errors=True)
    os.rename(final, old)
    os.rename(new, final)
    shutil.rmtree(old, ignore_errors=True)


def recover(final: Path) -> None:
    """After a kill between the two renames of the fallback swap, bring the previous edition back."""
    old = final.with_name(f".{final.name}.previous")
    if old.exists() and not final.exists():
        os.rename(old, final)


def discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE): both names swap in one step. False where unsupported."""
    from .tools import shared_library

    libc = shared_library("libc.so.6", "c", use_errno=True)
    if libc is None:
        return False
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def claim(out: Path, adopt: bool = False) -> None:
    """Make sure `out` is an output folder of ours before anything is written into it: a new or empty
    folder is marked as ours; a folder with content but no mark is refused, unless `adopt` (--adopt-out)."""
    if not str(out) or Path(os.path.abspath(out)) == Path(os.path.abspath(out)).parent:
        raise BadInput(f"--out '{out}': give a folder for the editions, not the root of the file system")
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: is not a directory")
    marker = out / MARKER
    if marker.is_file():
        return
    # An out/ written before folders were marked has a catalogue: ours.
    adopt = adopt or (out / "catalogue.sqlite").is_file()
    if out.is_dir() and not adopt and _holds_anything(out):
        raise BadInput(
            f"--out {out}: is a folder audio-edition did not make ({MARKER} missing) and holds files: "
            "give a new or empty folder, or --adopt-out to publish into this one"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(marker, "This folder holds audio editions made by audio-edition.\n")


def _holds_anything(folder: Path) -> bool:
    """Whether the folder holds anything but what a build marking it at the same moment makes."""
    with os.scandir(folder) as entries:
        return any(not (e.name == ".lock" or e.name.startswith(f".{MARKER}.") and e.name.endswith(".partial"))
                   for e in entries)
