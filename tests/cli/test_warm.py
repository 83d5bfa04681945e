"""`audio-edition warm`: commands sent to a warm process do what they do in a process of their own."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from audio import edition, manifest
from audio.warm import client

from ..conftest import SAMPLE
from ..test_build import ffprobe_chapters
from ..test_faults import digest
from ..test_scale import ARTICLE, decode, write_article

WAIT = 60.0  # seconds: generous, for a loaded CI machine


class Warm(NamedTuple):
    process: subprocess.Popen[str]
    socket: Path
    lines: queue.Queue[str]
    env: dict[str, str]  # the test process's environment, with $AUDIO_EDITION_WARM naming the socket

    def expect(self, pattern: str) -> re.Match[str]:
        """The next line the warm process prints that matches `pattern` (lines before it are passed over)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"the warm process printed no line matching {pattern!r}")

    def stop(self) -> int:
        """SIGTERM, then its exit code once it has ended."""
        self.process.send_signal(signal.SIGTERM)
        return self.end()

    def end(self) -> int:
        """Its exit code once it has ended of itself."""
        code = self.process.wait(timeout=WAIT)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code

    def drain(self) -> None:
        """Pass over what the warm process has printed so far."""
        while not self.lines.empty():
            self.lines.get_nowait()


def plain_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != client.WARM_ENV}


def start_warm(socket: Path, *options: str) -> Warm:
    process = subprocess.Popen([sys.executable, "-m", "audio", "warm", "--socket", str(socket), *options],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=plain_env())
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    warm = Warm(process, socket, lines, {**os.environ, client.WARM_ENV: str(socket)})
    warm.expect(r"listening on ")
    return warm


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warm]:
    running = start_warm(tmp_path_factory.mktemp("warm") / "w.sock")
    yield running
    assert running.stop() == 0
    assert not running.socket.exists()


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "audio", *args]


def test_a_build_through_the_warm_process_is_the_build_of_its_own_process(warm: Warm, tmp_path: Path) -> None:
    article = write_article(tmp_path / "story.txt")
    takes = tmp_path / "cache"
    build = ["build", str(article), "--cache", str(takes)]
    here = subprocess.run(command(*build, "--out", str(tmp_path / "here")), capture_output=True, text=True,
                          env=plain_env(), timeout=WAIT)
    there = subprocess.run(command(*build, "--out", str(tmp_path / "there")), capture_output=True, text=True,
                           env=warm.env, timeout=WAIT)
    assert (here.returncode, there.returncode) == (0, 0), there.stderr
    warm.expect(rf"pid \d+: build {re.escape(str(article))} \(exit 0\)")  # it ran there, not here
    assert there.stdout == here.stdout.replace(str(tmp_path / "here"), str(tmp_path / "there"))
    local, sent = manifest.load(tmp_path / "here" / "story"), manifest.load(tmp_path / "there" / "story")
    assert sent.manifest["chapters"] == local.manifest["chapters"] and sent.manifest["cues"] == local.manifest["cues"]
    assert ffprobe_chapters(sent.audio) == ffprobe_chapters(local.audio)
    assert decode(sent.audio) == decode(local.audio)


def test_bad_input_through_the_warm_process_is_one_line_and_exit_2(warm: Warm, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    done = subprocess.run(command("build", str(missing), "--out", str(tmp_path / "out")), capture_output=True,
                          text=True, env=warm.env, cwd=tmp_path, timeout=WAIT)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"Error: {missing}: no such file\n")
    warm.expect(rf"pid \d+: build {re.escape(str(missing))} \(exit 2\)")
    assert not (tmp_path / "out").exists()


def test_the_command_takes_on_the_clients_directory_and_environment(warm: Warm, tmp_path: Path) -> None:
    """A relative path is the client's; so is the take cache the environment names."""
    write_article(tmp_path / "story.txt")
    env = {**warm.env, "AUDIO_EDITION_CACHE": str(tmp_path / "its-cache")}
    done = subprocess.run(command("build", "story.txt", "--out", "out"), capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=WAIT)
    assert done.returncode == 0, done.stderr
    warm.expect(r"pid \d+: build story.txt \(exit 0\)")
    assert done.stdout.startswith(f"{Path('out') / 'story' / 'story.mp3'}  5 chapters, ")
    assert (tmp_path / "out" / "story" / "story.mp3").is_file()
    assert any((tmp_path / "its-cache").rglob("*.wav"))


def long_build(warm: Warm, tmp_path: Path, errors: int) -> tuple[Path, Path, dict[str, str], subprocess.Popen[str], int]:
    """An out/ with an edition of the article, then a build of a longer version of it through the warm
    process (a cold take cache: seconds of work), started: (out, article, the edition's digest, client, pid).
    `errors`: where the client's standard error goes."""
    out, article = tmp_path / "out", write_article(tmp_path / "story.txt")
    edition.build(article, edition.BuildOptions(out=out))
    before = digest(out / "story")
    write_article(article, SAMPLE.read_text(encoding="utf-8") + "\n\n" + ARTICLE)
    client_process = subprocess.Popen(command("build", str(article), "--out", str(out), "--cache", str(tmp_path / "cold")),
                                      stdout=subprocess.DEVNULL, stderr=errors, text=True, env=warm.env)
    pid = int(warm.expect(rf"pid (\d+): build {re.escape(str(article))} \(started\)").group(1))
    time.sleep(0.3)  # inside the build (a cold one takes seconds)
    assert client_process.poll() is None
    return out, article, before, client_process, pid


def gone(pid: int) -> bool:
    """Whether no process is left in the command's process group (its last ones may take a moment to
    end: they were signalled with it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_killing_the_client_kills_its_build_and_the_previous_edition_stays(warm: Warm, tmp_path: Path) -> None:
    out, article, before, client_process, pid = long_build(warm, tmp_path, subprocess.DEVNULL)
    client_process.kill()
    client_process.wait(timeout=WAIT)
    warm.expect(rf"pid {pid}: build {re.escape(str(article))} \(killed by signal {signal.SIGKILL}\)")
    assert gone(pid)  # ffmpeg and the speech workers with it
    assert digest(out / "story") == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []


def test_ctrl_c_reaches_the_build_as_it_would_at_a_terminal(warm: Warm, tmp_path: Path) -> None:
    out, article, before, client_process, pid = long_build(warm, tmp_path, subprocess.PIPE)
    client_process.send_signal(signal.SIGINT)
    _, errors = client_process.communicate(timeout=WAIT)
    assert (client_process.returncode, errors) == (1, "\nAborted!\n"), errors  # click's answer to Ctrl-C
    warm.expect(rf"pid {pid}: build {re.escape(str(article))} \(exit 1\)")
    assert gone(pid)
    assert digest(out / "story") == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []


def test_another_install_runs_its_own_command(warm: Warm, tmp_path: Path) -> None:
    """A client whose Python would import other code (here: another path first) is refused, and runs the
    command itself."""
    env = {**warm.env, "PYTHONPATH": str(tmp_path)}
    warm.drain()
    done = subprocess.run(command("--version"), capture_output=True, text=True, env=env, timeout=WAIT)
    assert done.returncode == 0 and "audio-edition" in done.stdout
    marker = subprocess.run(command("voices"), capture_output=True, text=True, env=warm.env, timeout=WAIT)
    assert marker.returncode == 0
    assert warm.expect(r"pid \d+: (\S+ ?\S*) \(exit 0\)").group(1) == "voices"  # --version never reached it


def test_with_no_warm_process_the_command_runs_here(tmp_path: Path) -> None:
    env = {**plain_env(), client.WARM_ENV: str(tmp_path / "none.sock")}
    done = subprocess.run(command("build", str(tmp_path / "nowhere.txt")), capture_output=True, text=True, env=env,
                          timeout=WAIT)
    assert (done.returncode, done.stderr) == (2, f"Error: {tmp_path / 'nowhere.txt'}: no such file\n")


def test_the_warm_process_forks_from_one_thread_and_stops_when_idle(tmp_path: Path) -> None:
    idle = start_warm(tmp_path / "w.sock", "--idle", "1")
    threads = re.search(r"^Threads:\s+(\d+)$", Path(f"/proc/{idle.process.pid}/status").read_text(), re.M)
    assert threads is not None and threads.group(1) == "1"  # a fork of a process with threads can hang
    idle.expect(r"idle for 1 s, stopping")
    assert idle.end() == 0
    assert not (tmp_path / "w.sock").exists()


def test_warming_up_keeps_nothing_that_depends_on_the_environment() -> None:
    """After warm._warm(), the package's caches hold only what is the same in every environment: the
    commands look up tools, voices and directories in the client's."""
    code = (
        "import functools, sys\nfrom audio.warm import server as warm\nwarm._warm()\n"
        "print(sorted(f'{m}.{n}' for m, module in list(sys.modules.items()) if m.startswith('audio.')"
        " for n, f in vars(module).items() if isinstance(f, functools._lru_cache_wrapper)"
        " and f.__module__ == m and f.cache_info().currsize))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=plain_env(), timeout=WAIT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['audio.text.normalize._converter', 'audio.text.script._segmenter']"


def test_a_warm_process_that_does_not_answer_is_passed_by(tmp_path: Path) -> None:
    """A stopped (or stuck) warm process: the command runs in its own process after client.ANSWER_TIMEOUT,
    once; the warm process, going on later, finds the client gone and runs nothing for it. (The client
    here waits 1 s, not its 10: the suite's slowest test waited out the 10.)"""
    stuck = start_warm(tmp_path / "w.sock")
    stuck.process.send_signal(signal.SIGSTOP)
    patient = 1.0
    client_waiting = [sys.executable, "-c", f"import sys; from audio.warm import client; client.ANSWER_TIMEOUT = {patient}; "
                      "from audio.cli import entry; sys.argv[0] = 'audio-edition'; entry.run()"]
    try:
        start = time.monotonic()
        done = subprocess.run([*client_waiting, "build", str(tmp_path / "nowhere.txt")], capture_output=True,
                              text=True, env=stuck.env, timeout=WAIT)
        waited = time.monotonic() - start
    finally:
        stuck.process.send_signal(signal.SIGCONT)
    assert (done.returncode, done.stderr) == (2, f"Error: {tmp_path / 'nowhere.txt'}: no such file\n")
    assert waited >= patient
    # Its copy finds the client gone (or is killed as the server sees it go): nothing run for it.
    stuck.expect(rf"pid \d+: build \S+ \((not run|killed by signal {signal.SIGKILL})\)")
    assert stuck.stop() == 0


def test_the_server_watches_a_clients_connection_from_the_copys_ready_and_never_after_it_closed() -> None:
    """The copy's b"D" can be read (with the client's end of connection) before the pipe's own event in
    the same wait: that event finds the connection closed, and must leave it so."""
    import selectors
    import socket

    from audio.warm import server as warm

    selector = selectors.DefaultSelector()
    ours, theirs = socket.socketpair()
    read, write = os.pipe()
    os.set_blocking(read, False)
    copy = warm.Copy(ours, "build story.txt", read)
    selector.register(read, selectors.EVENT_READ, ("pipe", 1))
    os.write(write, b"R")
    warm._on_pipe(selector, 1, copy)
    assert selector.get_key(ours).data == ("client", 1)
    os.write(write, b"D")
    theirs.close()
    assert not warm._from_client(1, copy) and copy.ended  # the client has gone; its command had ended
    warm._forget(selector, ours)
    ours.close()
    warm._on_pipe(selector, 1, copy)  # nothing left in the pipe: the connection stays closed, unwatched
    assert [key.data for key in selector.get_map().values()] == [("pipe", 1)]
    os.close(write)
    warm._on_pipe(selector, 1, copy)  # the copy has ended: its pipe is forgotten
    assert not selector.get_map()
    os.close(read)
    selector.close()


# A listener that keeps whatever a client sends it (at most 1 MB, 10 s) in the file argv[2].
LISTENER = """
import socket, sys
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(1)
print("ready", flush=True)
server.settimeout(30)
conn, _ = server.accept()
conn.settimeout(10)
got = b""
try:
    while len(got) < 1 << 20:
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
except OSError:
    pass
open(sys.argv[2], "wb").write(got)
"""


def listen_as(socket_path: Path, kept: Path, user: int | None = None) -> subprocess.Popen[str]:
    """The listener, ready; run as `user` it binds in its own folder (a name relative to it: the other
    user cannot pass through ours) with the system's Python (it cannot reach our virtual environment)."""
    python, where = (sys.executable, None) if user is None else ("/usr/bin/python3", socket_path.parent)
    names = [str(socket_path), str(kept)] if user is None else [socket_path.name, kept.name]
    listener = subprocess.Popen([python, "-I", "-c", LISTENER, *names], stdout=subprocess.PIPE, text=True, user=user,
                                cwd=where)
    assert listener.stdout is not None and listener.stdout.readline() == "ready\n"
    return listener


def finish(listener: subprocess.Popen[str]) -> None:
    listener.wait(timeout=WAIT)
    assert listener.stdout is not None
    listener.stdout.close()


def client_with_a_secret(socket_path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**plain_env(), client.WARM_ENV: str(socket_path), "SECRET_TOKEN": "hunter2"}
    return subprocess.run(command("build", str(tmp_path / "nowhere.txt")), capture_output=True, text=True, env=env,
                          timeout=WAIT)


def test_a_socket_in_a_folder_others_can_write_is_sent_nothing(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # (not sticky: anyone may replace the socket)
    listener = listen_as(shared / "w.sock", tmp_path / "kept")
    done = client_with_a_secret(shared / "w.sock", tmp_path)
    finish(listener)
    assert (done.returncode, done.stderr) == (2, (
        f"audio-edition: not using the warm process at {shared / 'w.sock'}: its folder can be written by other users, "
        f"who could put their own socket there; running here\nError: {tmp_path / 'nowhere.txt'}: no such file\n"))
    assert (tmp_path / "kept").read_bytes() == b""


def test_a_socket_of_another_user_is_sent_nothing(tmp_path: Path) -> None:
    if os.getuid() != 0 or not os.path.exists("/usr/bin/python3"):
        pytest.skip("running a listener as another user needs root and /usr/bin/python3")
    theirs = tmp_path / "theirs"  # the other user's folder: their socket is made there, then put in ours
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    tmp_path.chmod(0o755)
    listener = listen_as(theirs / "w.sock", theirs / "kept", user=65534)
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o700)
    os.rename(theirs / "w.sock", ours / "w.sock")
    done = client_with_a_secret(ours / "w.sock", tmp_path)
    finish(listener)
    assert (done.returncode, done.stderr) == (2, (
        f"audio-edition: not using the warm process at {ours / 'w.sock'}: its socket belongs to user 65534, "
        f"not to you (0); running here\nError: {tmp_path / 'nowhere.txt'}: no such file\n"))
    assert b"hunter2" not in (theirs / "kept").read_bytes()
    # The socket file made ours again, the process behind it still another user's: the kernel says so.
    os.chown(ours / "w.sock", 0, 0)
    listener = listen_as(theirs / "w2.sock", theirs / "kept2", user=65534)
    os.rename(theirs / "w2.sock", ours / "w.sock")
    os.chown(ours / "w.sock", 0, 0)
    done = client_with_a_secret(ours / "w.sock", tmp_path)
    finish(listener)
    assert "it runs as user 65534, not as you (0); running here\n" in done.stderr and done.returncode == 2
    assert b"hunter2" not in (theirs / "kept2").read_bytes()


# A warm process (and a plain one) whose command line holds one more command, which fails as no command
# of ours should: an error of no kind the command line reports.
WITH_BOOM = ("import sys\nfrom audio.cli import main as cli\n@cli.main.command()\ndef boom() -> None:\n"
             "    print('started')\n    raise ZeroDivisionError('the unexpected')\n"
             "sys.argv = ['audio-edition', *sys.argv[1:]]\ncli.run()\n")


def test_an_unexpected_error_through_warm_prints_what_it_prints_without_warm(tmp_path: Path) -> None:
    plain = subprocess.run([sys.executable, "-c", WITH_BOOM, "boom"], capture_output=True, text=True,
                           env=plain_env(), timeout=WAIT)
    assert plain.returncode == 1 and plain.stdout == "started\n"
    assert plain.stderr.startswith("Traceback") and plain.stderr.endswith("ZeroDivisionError: the unexpected\n")
    process = subprocess.Popen([sys.executable, "-c", WITH_BOOM, "warm", "--socket", str(tmp_path / "w.sock")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=plain_env())
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in process.stdout or ()], daemon=True).start()
    boomer = Warm(process, tmp_path / "w.sock", lines, {**plain_env(), client.WARM_ENV: str(tmp_path / "w.sock")})
    boomer.expect(r"listening on ")
    try:
        warm_run = subprocess.run(command("boom"), capture_output=True, text=True, env=boomer.env, timeout=WAIT)
        boomer.expect(r"pid \d+: boom \(exit 1\)")  # run there, not here (where there is no such command)
    finally:
        assert boomer.stop() == 0
    assert (warm_run.returncode, warm_run.stdout) == (1, "started\n")
    assert warm_run.stderr.startswith("Traceback") and warm_run.stderr.endswith("ZeroDivisionError: the unexpected\n")
