"""A copy of the warm process (server.py), forked for one command: it takes on the client's process
and runs the command as `audio-edition` would, then exits with its code."""
from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

from .client import HEADER


def become(conn: socket.socket, request: dict[str, Any], pipe: int, close: list[int], server: int,
           run: Callable[[], int]) -> None:
    """In the copy: take on the client's process and its streams, answer b"R", run the command (`run`:
    the command line, returning its exit code), exit with its code."""
    try:
        os.setpgid(0, 0)
        _die_with(server)
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        logging.root.handlers.clear()  # `audio-edition -v warm` set them up; the command sets up its own
        logging.root.setLevel(logging.WARNING)
        for fd in close:
            with contextlib.suppress(OSError):
                os.close(fd)
        import resource
        import tempfile

        for name, (soft, hard) in request["limits"].items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # $TMPDIR is read again, from the client's environment
        os.umask(request["umask"])
        conn.sendall(b"?")
        _, fds, _, _ = socket.recv_fds(conn, 1, 3)
        if len(fds) != 3:  # the client has gone (or sent something else): nothing to run
            os._exit(0)
        import fcntl

        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in fds]  # none of them 0-2 while placed
        for fd in fds:
            os.close(fd)
        for target, fd in enumerate(high):
            os.dup2(fd, target)
            os.close(fd)
        _streams(request["streams"])
    except (OSError, ValueError, KeyError, TypeError) as exc:  # the client runs the command itself
        with contextlib.suppress(OSError):
            conn.sendall(b"F" + str(exc).encode())
        os._exit(0)
    os.write(pipe, b"R")  # the server may read the connection now
    conn.sendall(b"R")
    sys.argv = list(request["argv"])
    try:
        code = run()
    except Exception:  # what Python does with it at the top of its own process: the traceback, exit 1
        import traceback

        with contextlib.suppress(Exception):
            sys.stdout.flush()
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
        code = 1
    with contextlib.suppress(OSError):  # the client may go now (the exit is no work of the command's),
        os.write(pipe, b"D")  # and the server, which sees it go, knows that the command had ended
        conn.sendall(b"X" + HEADER.pack(code & 0xFF))
    os._exit(code)


def _die_with(server: int) -> None:
    """The copy is killed if the server is (Linux): its client then hears that it stopped."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != server:
        os._exit(1)


def _streams(encodings: list[tuple[str, str] | None]) -> None:
    """sys.stdin/stdout/stderr over the client's streams, with its encodings, line-buffered at a terminal."""
    for number, (name, spec) in enumerate(zip(("stdin", "stdout", "stderr"), encodings)):
        if spec is None:
            setattr(sys, name, None)
            continue
        encoding, errors = spec
        tty = os.isatty(number)
        raw = io.FileIO(number, "r" if number == 0 else "w", closefd=False)
        buffered = io.BufferedReader(raw) if number == 0 else io.BufferedWriter(raw)
        setattr(sys, name, io.TextIOWrapper(buffered, encoding=encoding, errors=errors,
                                           line_buffering=tty or number == 2, write_through=number == 2))
