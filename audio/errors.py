"""The package's exceptions: one base, bad input (exit 2) and failed programs (exit 1)."""
from __future__ import annotations

from collections.abc import Sequence


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
        super().__init__(f"{program} failed (exit {returncode}): {tail or 'no error output'}")


class ToolMissing(AudioEditionError):
    """A required program or library is not installed; the message says what to install."""

    exit_code = 1
