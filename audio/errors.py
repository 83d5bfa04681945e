"""The package's exceptions: one base, bad input (exit 2) and failed programs (exit 1)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path


class AudioEditionError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1


class BadInput(AudioEditionError):
    """The user's file, option or config cannot be used; the message names it."""

    exit_code = 2


class ToolFailed(AudioEditionError):
    """An external program (ffmpeg, the speech engine) failed."""

    exit_code = 1

    def __init__(self, program: str, command: Sequence[str], returncode: int | None, stderr: str) -> None:
        self.program = program
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr
        tail = " | ".join(line.strip() for line in stderr.strip().splitlines()[-3:] if line.strip())
        ending = f" ({_ending(returncode)})" if returncode is not None else ""  # (None: it did not end, or is no program)
        super().__init__(f"{program} failed{ending}: {tail or 'no error output'}")


def _ending(returncode: int) -> str:
    """How a program ended: its exit code, or the signal that killed it (a negative code, as subprocess gives it)."""
    if returncode >= 0:
        return f"exit {returncode}"
    import signal

    try:
        return f"killed by {signal.Signals(-returncode).name}: {signal.strsignal(-returncode)}"
    except ValueError:
        return f"killed by signal {-returncode}"


class ToolMissing(AudioEditionError):
    """A required program or library is not installed; the message says what to install."""

    exit_code = 1


@contextlib.contextmanager
def naming(path: Path | str) -> Iterator[None]:
    """An OSError raised while writing `path` names it: a write to an open file that fails (a full
    disk, a file past its size limit) raises one that names no file, and the error would say only
    "No space left on device"."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
