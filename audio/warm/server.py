"""`audio-edition warm`: a warm process that runs the commands the console script sends it.

A command's own work is a small part of a short build: starting Python and importing what a build
imports is about half of a rebuild's CPU time (docs/performance.md, "A warm process"). The warm
process imports all of it once, compiles the text stages' regular expressions, then forks a copy of
itself for every command a client (client.py) sends: the copy takes on the client's arguments,
directory, environment, umask, limits and standard streams, and runs the command as `audio-edition`
would. A copy is a fresh process every time, so no state passes from one command to the next, and
builds run side by side as they would from separate shells.

Wire format, over a Unix socket: the client sends a 4-byte little-endian length and a marshalled
request (client.request). The server answers b"F" and a reason when it cannot be the client's
process (the client then runs the command itself); else its copy answers b"?", the client sends
one byte with its fds 0-2 (only to a live copy: streams in flight would be held open by a warm
process that never reads them, and the client's reader would wait for them), and the copy answers
b"R" once it is the client's process. Until then only the copy reads the connection (it tells the
server over a pipe: b"R"); the client may then send b"S" and a signal number, which the server
passes to the copy's process group. The copy's last act is b"X" and its exit code (b"D" into the
pipe first); if it is killed, the server sends b"K" and the signal. When the client goes away
before the command has ended (killed), the copy's process group is killed: a killed build leaves
the previous edition as it was, through the warm process as without it.
"""
from __future__ import annotations

import contextlib
import logging
import marshal
import os
import selectors
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cache import code_stamp
from ..errors import AudioEditionError, BadInput
from . import copy as warmcopy
from .client import HEADER

log = logging.getLogger(__name__)

MAX_REQUEST = 4 << 20  # bytes: arguments and environment; more is no client of ours
REQUEST_TIMEOUT = 5.0  # seconds for a client to send its request once connected
STALE = "the installed code changed"


@dataclass
class Copy:
    """A command's copy of the warm process, as the server follows it."""

    conn: socket.socket  # the client's connection
    command: str
    pipe: int  # the copy writes b"R" here once it has the client's streams, b"D" once its command has ended
    ready: bool = False  # b"R" read: the copy is done reading the connection, the server reads it from now
    ended: bool = False

    def news(self) -> bool:
        """Read what the copy has written; False once it has ended (the pipe closed)."""
        try:
            data = os.read(self.pipe, 64)
        except BlockingIOError:
            return True
        self.ready = self.ready or b"R" in data
        self.ended = self.ended or b"D" in data
        return bool(data)


def serve(path: Path, run: Callable[[], int], idle: float | None = None) -> None:
    """Listen on `path` until SIGTERM or SIGINT (then the running commands are ended like a killed
    build), or until `idle` seconds pass with nothing running; fork a copy for every command, which
    runs it with `run` (the command line: its exit code)."""
    if not hasattr(os, "fork") or not hasattr(socket, "AF_UNIX"):
        raise BadInput("audio-edition warm needs fork and Unix sockets (Linux, macOS)")
    _warm()
    stamp = code_stamp()
    if sys.platform.startswith("linux"):  # what a killed command leaves running is ours to reap, not init's
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
    listener = _listen(path)
    ours = os.stat(path)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    stopping = False
    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda *_: None)  # the number arrives on wake_r
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "listener")
    selector.register(wake_r, selectors.EVENT_READ, "signal")
    running: dict[int, Copy] = {}
    _say(f"listening on {path} (export AUDIO_EDITION_WARM={path})")
    last = time.monotonic()
    try:
        while running or not stopping:
            timeout = None if running or idle is None else max(0.0, last + idle - time.monotonic())
            events = selector.select(timeout)
            if not events and not running and idle is not None and time.monotonic() >= last + idle:
                _say(f"idle for {idle:g} s, stopping")
                break
            for key, _ in events:
                what, pid = key.data if isinstance(key.data, tuple) else (key.data, 0)
                if what == "listener" and not stopping:
                    conn, _address = listener.accept()
                    last = time.monotonic()
                    keep = [listener.fileno(), wake_r, wake_w, getattr(selector, "fileno", lambda: -1)()]
                    started = _start(conn, stamp, keep, running, run)
                    if started == "stale":  # upgraded under us: a new server has to take over
                        _say("the installed code changed, stopping")
                        stopping = True
                    elif isinstance(started, tuple):
                        running[started[0]] = started[1]
                        selector.register(started[1].pipe, selectors.EVENT_READ, ("pipe", started[0]))
                        _say(f"pid {started[0]}: {started[1].command} (started)")
                elif what == "signal":
                    numbers = os.read(wake_r, 512)
                    if any(n != signal.SIGCHLD for n in numbers) and not stopping:
                        stopping = True
                        for pid in running:
                            _kill_group(pid, signal.SIGTERM)
                    for pid, how in _reaped(running):
                        copy = running.pop(pid)
                        copy.news()
                        _forget(selector, copy.pipe)
                        os.close(copy.pipe)
                        _forget(selector, copy.conn)
                        _report(copy.conn, how)
                        ran = copy.ended or os.WIFSIGNALED(how)
                        _say(f"pid {pid}: {copy.command} ({_describe(how) if ran else 'not run'})")
                        last = time.monotonic()
                elif what == "pipe" and pid in running:
                    _on_pipe(selector, pid, running[pid])
                elif what == "client" and pid in running and not _from_client(pid, running[pid]):
                    copy = running[pid]  # the client has gone: if its command had not ended, it was killed
                    _forget(selector, copy.conn)
                    copy.conn.close()
            if stopping:
                with contextlib.suppress(KeyError):
                    selector.unregister(listener)
                _unlink_if_ours(path, ours)
    finally:
        _unlink_if_ours(path, ours)
        listener.close()
        signal.set_wakeup_fd(-1)


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # its terminal gone: it goes on serving
        print(f"audio-edition warm: {line}", flush=True)


def _warm() -> None:
    """Import what commands import, and run the text stages once on a short English article with
    the default config: the article's patterns and pysbd's and the normalizer's regular expressions
    are compiled here once (they stay in `re`'s cache) instead of in every command. Nothing that
    depends on the environment (tools, voices, cache and model directories) is looked up here,
    and nothing is kept but modules and compiled patterns: every command looks those up again in
    the client's environment."""
    import importlib

    # (The command line itself is imported already: `audio-edition warm` runs in it.)
    for name in ("edition", "batch", "sound.render", "sound.live", "site.refresh", "site.feed", "site.catalogue",
                 "speech.voice", "speech.pyttsx3_engine", "speech.pool", "speech.synthesis", "publish",
                 "sound.sidecars", "sound.tagging", "site.player", "site.pages", "cache", "sound.mp3",
                 "sound.loudness", "sound.timeline", "sound.pieces", "text.language", "text.lexicon", "text.source",
                 "text.article", "text.script", "text.normalize"):
        importlib.import_module(f"audio.{name}")
    # NumPy scores the language (language._MappedModel) faster once loaded, but importing it costs a
    # command more than that saves: worth it only here (docs/performance.md). One BLAS thread: it forks.
    # (This process's environment only: every copy takes on its client's.)
    os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # What a build imports on the way (the model's directory and files, the bundled eSpeak NG's
    # path); not pyttsx3.drivers, which loads a libespeak-ng on import.
    for name in ("numpy", "platformdirs", "mmap", "ast", "zipfile", "importlib.resources.readers",
                 "encodings.utf_16_le", "encodings.utf_32_le", "pyttsx3", "pyttsx3.voice", "espeakng_loader"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from .. import config
    from ..text import article, script, source

    text = ("Paid in full\n\nOn 3 May 2024, Dr. Ana Ruiz paid $500 (about €460) for 2.5 kg of the U.S. report, "
            "or 12% more than in 1998. \"Why?\" she asked, at 9:30 a.m.\n\nA Message from the Publisher\n\n"
            "Dear readers, support us.\n")
    doc = source.parse_bytes(text.encode(), Path("warm.txt"))
    script.make_script(article.parse(doc, config.Config(), article.ArticleOptions(language="en")))
    import gc

    gc.collect()
    gc.freeze()  # the copies' collections then leave the server's objects (and their pages) alone
    threads = _threads()
    if threads > 1:  # a fork copies one thread: a lock another one held would be held forever in the copy
        raise AudioEditionError(f"audio-edition warm: {threads} threads after warming up, where a fork needs one")


def _threads() -> int:
    """This process's threads, native ones included (Linux; elsewhere those Python knows of)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        import threading

        return threading.active_count()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))




def _listen(path: Path) -> socket.socket:
    """A socket at `path` only this user can connect to, put in place whole (a stale one replaced)."""
    path = path.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    making = path.with_name(f".{path.name}.{os.getpid()}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old = os.umask(0o177)
        try:
            listener.bind(str(making))
        finally:
            os.umask(old)
        listener.listen(64)
        os.replace(making, path)
    except OSError as exc:
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(making)
        raise BadInput(f"--socket {path}: {exc.strerror or exc}") from None
    listener.set_inheritable(False)
    return listener


def _unlink_if_ours(path: Path, ours: os.stat_result) -> None:
    """Remove the socket file unless another server has put its own there since."""
    with contextlib.suppress(OSError):
        now = os.stat(path)
        if (now.st_dev, now.st_ino) == (ours.st_dev, ours.st_ino):
            os.unlink(path)


def _start(conn: socket.socket, stamp: str, server_fds: list[int],
           running: dict[int, Copy], run: Callable[[], int]) -> tuple[int, Copy] | str | None:
    """Read a client's request and fork its copy; (pid, what runs), "stale", or None (refused: the
    client runs the command itself)."""
    refusal = ""
    try:
        if not _same_user(conn):
            refusal = "another user"
        else:
            conn.settimeout(REQUEST_TIMEOUT)
            request = marshal.loads(_receive(conn))
            if not _same_install(request):
                refusal = "another Python or another install"
            elif code_stamp() != stamp:
                refusal = STALE
            conn.settimeout(None)
    except (OSError, EOFError, ValueError, TypeError, KeyError) as exc:
        refusal = f"the request was not read: {exc}"
    if refusal:
        log.debug("a command refused: %s", refusal)
        with contextlib.suppress(OSError):
            conn.sendall(b"F" + refusal.encode())
        conn.close()
        return "stale" if refusal == STALE else None
    others = [fd for c in running.values() for fd in (c.conn.fileno(), c.pipe)]
    pipe_r, pipe_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: never returns into the server's loop, whatever happens
        try:
            warmcopy.become(conn, request, pipe_w, [*server_fds, *others, pipe_r], os.getppid(), run)
        finally:
            os._exit(1)
    os.close(pipe_w)
    os.set_blocking(pipe_r, False)
    with contextlib.suppress(OSError):  # the copy does the same: whichever runs first
        os.setpgid(pid, pid)
    return pid, Copy(conn, " ".join(request["argv"][1:3]), pipe_r)


def _same_user(conn: socket.socket) -> bool:
    """Only this user's processes may run commands as this user (Linux: the peer's credentials; the
    socket file is this user's alone everywhere)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


def _receive(conn: socket.socket) -> bytes:
    data = conn.recv(64 * 1024)
    if len(data) < HEADER.size:
        raise ValueError("a request cut short")
    size = HEADER.unpack_from(data)[0]
    if size > MAX_REQUEST:
        raise ValueError("a request too large")
    body = bytearray(data[HEADER.size :])
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ValueError("a request cut short")
        body += chunk
    return bytes(body)


def _same_install(request: dict[str, Any]) -> bool:
    """Whether the client runs this Python with this package on the same path, and the same options
    (else its own code, or Python as its options make it: it runs the command itself)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return bool(request["python"] == sys.executable and request["package"] == here
                and request["path"] == sys.path[1:]
                and request["flags"] == [tuple(sys.flags), sys.warnoptions, sys._xoptions])


def _kill_group(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, number)


def _from_client(pid: int, copy: Copy) -> bool:
    """b"S<n>": pass signal n to the command's processes. The connection closed (False): the client
    has gone; if the command had not ended, the client was killed, and so is the command, all its
    processes. (The copy writes b"D" before it tells the client, so it is in the pipe by now.)"""
    try:
        data = copy.conn.recv(64)
    except OSError:
        data = b""
    if not data:
        copy.news()
        if not copy.ended:
            _kill_group(pid, signal.SIGKILL)
        return False
    for i in range(0, len(data) - 1, 2):
        if data[i : i + 1] == b"S":
            _kill_group(pid, data[i + 1])
    return True


def _on_pipe(selector: selectors.BaseSelector, pid: int, copy: Copy) -> None:
    """What the copy wrote: at b"R" the client's connection becomes the server's to read (once:
    later news, such as b"D" read after the client has gone and its connection was closed, is not
    a reason to watch it again); at the pipe's end, the pipe is forgotten."""
    was_ready = copy.ready
    if not copy.news():
        _forget(selector, copy.pipe)
    elif copy.ready and not was_ready and copy.conn.fileno() >= 0:
        selector.register(copy.conn, selectors.EVENT_READ, ("client", pid))


def _forget(selector: selectors.BaseSelector, what: Any) -> None:
    with contextlib.suppress(KeyError, ValueError):
        selector.unregister(what)


def _reaped(running: dict[int, Copy]) -> list[tuple[int, int]]:
    """(pid, wait status) of every copy that has ended; the processes a killed copy left behind are
    reaped too (the server is their subreaper)."""
    done = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in running:
            done.append((pid, status))
    return done


def _report(conn: socket.socket, status: int) -> None:
    if os.WIFSIGNALED(status):
        message = b"K" + HEADER.pack(os.WTERMSIG(status))
    else:
        message = b"X" + HEADER.pack(os.waitstatus_to_exitcode(status))
    with contextlib.suppress(OSError):
        conn.sendall(message)
    conn.close()


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"
