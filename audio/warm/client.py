"""The warm process's client: send a command, with this process's streams, to `audio-edition warm`.

Imported by the console script (audio/cli/entry.py) before anything else: nothing heavier than
`_socket` is loaded here, since the interpreter's start is most of what a command sent to a warm
process costs. The wire format is the server's (audio/warm/server.py).
"""
from __future__ import annotations

import marshal
import os
import struct
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and signal (with enum) are slow to import (docs/performance.md): its C half does
    import signal
    from typing import Any
else:
    import _signal as signal

WARM_ENV = "AUDIO_EDITION_WARM"
# Limits a command runs under: the warm process's copy sets the client's, or the command runs here.
LIMITS = ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CPU", "RLIMIT_CORE", "RLIMIT_STACK")
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
HEADER = struct.Struct("<I")
# Seconds for the warm process to take a command on (it forks a copy, which answers in milliseconds);
# past them the command runs here, and the warm process, seeing this client go, ends any copy it made.
ANSWER_TIMEOUT = 10.0


def request(args: list[str]) -> dict[str, Any]:
    """What the warm process's copy of itself takes on to be this process: arguments, directory, environment,
    umask, limits, the streams' encodings, and what code and Python it must be running."""
    import resource

    umask = os.umask(0)
    os.umask(umask)
    return {
        "argv": ["audio-edition", *args],
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": umask,
        "limits": {name: resource.getrlimit(getattr(resource, name)) for name in LIMITS if hasattr(resource, name)},
        "streams": [(stream.encoding, stream.errors) if stream is not None else None
                    for stream in (sys.stdin, sys.stdout, sys.stderr)],
        "python": sys.executable,
        "package": os.path.dirname(os.path.abspath(__file__)),
        "path": sys.path[1:],
        "flags": [tuple(sys.flags), sys.warnoptions, sys._xoptions],  # -W, -X, -B…: set when Python starts
    }


def through_warm(address: str, args: list[str]) -> tuple[str, int] | None:
    """Send the command with this process's standard streams; ("exit", code) or ("signal", number)
    when the warm process ran it, None when it did not (none there, or it cannot be this process)."""
    import _socket

    if "-" in args and os.isatty(0):  # an article typed at the terminal: the warm copy could not read it
        return None
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return None  # a closed standard stream cannot be passed
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    conn.settimeout(ANSWER_TIMEOUT)  # a warm process that does not answer (stopped, stuck) is passed by
    try:
        distrust = _distrust(address)
        conn.connect(address)
        distrust = distrust or _distrust_peer(conn)
        if distrust:  # the request holds our whole environment (tokens, keys): never to another user
            print(f"audio-edition: not using the warm process at {address}: {distrust}; running here", file=sys.stderr)
            conn.close()
            return None
        payload = marshal.dumps(request(args))
        conn.sendall(HEADER.pack(len(payload)) + payload)
        if conn.recv(1) == b"?":  # a copy is ready to be this process (b"F": it cannot; b"": gone)
            conn.sendmsg([b"!"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, struct.pack("3i", 0, 1, 2))])
            if conn.recv(1) == b"R":
                conn.settimeout(None)  # the command itself takes as long as it takes
                return _wait(conn)
    except OSError:
        pass
    conn.close()
    return None


def _distrust(address: str) -> str | None:
    """Why the socket at `address` may not be this user's warm process, or None: it must be a socket
    this user owns, in a folder that only its owner (this user or root) can write to, or a sticky one
    (/tmp), where no other user can put their own socket in its place."""
    import stat

    try:
        found = os.stat(address)
        folder = os.stat(os.path.dirname(os.path.realpath(address)))
    except OSError:
        return None  # nothing there: connect says so, and the command runs here
    if not stat.S_ISSOCK(found.st_mode):
        return "it is not a socket"
    if found.st_uid != os.getuid():
        return f"its socket belongs to user {found.st_uid}, not to you ({os.getuid()})"
    if folder.st_uid not in (os.getuid(), 0) or (folder.st_mode & 0o022 and not folder.st_mode & stat.S_ISVTX):
        return "its folder can be written by other users, who could put their own socket there"
    return None


def _distrust_peer(conn: Any) -> str | None:
    """The process listening must run as this user (the kernel's word for it, where it gives one)."""
    import _socket

    if not hasattr(_socket, "SO_PEERCRED"):
        return None  # (macOS: the socket file's owner and folder, checked above)
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i")))
    return None if uid == os.getuid() else f"it runs as user {uid}, not as you ({os.getuid()})"


def _wait(conn: Any) -> tuple[str, int]:
    """Pass our signals on (Ctrl-C, a kill) until the warm process reports how the command ended."""

    def forward(number: int, _frame: Any) -> None:
        try:
            conn.send(b"S" + bytes([number]))
        except OSError:
            pass

    for number in FORWARDED:
        signal.signal(number, forward)
    reply = b""
    while len(reply) < 5:
        try:
            chunk = conn.recv(5 - len(reply))
        except InterruptedError:
            continue
        if not chunk:
            break
        reply += chunk
    conn.close()
    if len(reply) < 5 or reply[:1] not in (b"X", b"K"):
        print(f"audio-edition: the warm process at {os.environ.get(WARM_ENV)} stopped before the command ended",
              file=sys.stderr)
        return ("exit", 1)
    return ("exit" if reply[:1] == b"X" else "signal", HEADER.unpack(reply[1:])[0])


def end_like(status: tuple[str, int]) -> None:
    """Exit as the command did: with its code, or killed by its signal (as a shell would see it)."""
    kind, number = status
    if kind == "signal":
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        number = 128 + number
    os._exit(number)
