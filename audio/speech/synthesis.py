"""Where takes come from: the take cache, this process, a pool of worker processes, or a Dask cluster."""
from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .. import stops
from ..cache import Cache
from ..errors import ToolFailed, naming
from . import engine as seam
from . import takes as taking
from . import words
from .takes import Take, VoiceSettings, cached, wav_frames
from .voice import engine, engine_origins, engine_text, take_key

log = logging.getLogger(__name__)

# Fewer takes than this are spoken in this process: starting workers (and their engines) costs more.
POOL_FROM = 6


def synthesize(
    texts: Sequence[str],
    settings: VoiceSettings,
    workdir: Path | None,
    *,
    cache: Cache | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    timeout: float | None = None,
    on_take: Callable[[int, Take], None] | None = None,
) -> tuple[Take, ...]:
    """Speak each text into its own WAV take; every take is verified before it is returned.

    With a cache, takes already made are reused and new ones stored there (else they go to workdir,
    which may then be None); identical texts are spoken once. jobs > 1 speaks in that many worker
    processes; a scheduler address sends the work to a Dask cluster. on_take(index, take) is called
    as each take becomes ready."""
    if cache is None:  # the takes go to workdir (with a cache, into it: nothing is made here)
        if workdir is None:
            raise ValueError("synthesize needs a workdir or a cache for its takes")
        workdir.mkdir(parents=True, exist_ok=True)
    takes: list[Take | None] = [None] * len(texts)

    def ready(index: int, take: Take) -> None:
        takes[index] = take
        if on_take is not None:
            on_take(index, take)

    keys = [take_key(text, settings) for text in texts] if cache is not None else None
    groups: dict[str, list[int]] = {}
    hits: list[tuple[int, Take]] = []  # reported once the workers are started (on_take may start threads)
    for index, text in enumerate(texts):
        if cache is not None and keys is not None:
            hit = cached(cache, keys[index])
            if hit is not None:
                hits.append((index, hit))
                continue
        # With a cache, the same sentence twice is one take; without, every sentence gets its own file.
        groups.setdefault(keys[index] if keys is not None else str(index), []).append(index)

    # One task a distinct text: (first index, engine text, cache key or "", where to write the WAV).
    tasks: list[tuple[int, str, str, str]] = []
    try:  # (from the first placeholder made: a stop meanwhile leaves none behind)
        seam.keep_in(cache)  # where a model optimised once is kept (before the workers start: they inherit it)
        for entry, indexes in groups.items():
            first = indexes[0]
            with stops.deferred():  # (a placeholder made is listed, for the finally below, before a stop)
                if cache is not None:
                    path = str(cache.partial("takes", entry, ".wav"))
                else:
                    assert workdir is not None
                    path = str(workdir / f"take-{first:05d}.wav")
                tasks.append((first, engine_text(texts[first], settings.lexicon), entry if cache is not None else "", path))
        by_index = {task[0]: task for task in tasks}

        def made(index: int, frames: int, sample_rate: int) -> None:
            _, _, entry, path = by_index[index]
            # The words first: a take in the cache always has its words (takes.cached).
            told = words.settle(Path(path), texts[index], engine_origins(texts[index], settings.lexicon), frames)
            if cache is not None:
                cache.commit(told, "takes", entry, words.WORDS)
            final = cache.commit(Path(path), "takes", entry, ".wav") if cache is not None else Path(path)
            take = Take(final, frames, sample_rate)
            for member in groups[entry if cache is not None else str(index)]:
                ready(member, take)

        with contextlib.ExitStack() as stack:
            pool = None
            if tasks and scheduler is None and jobs > 1 and len(tasks) >= POOL_FROM:
                from .pool import Pool

                pool = stack.enter_context(Pool(settings, jobs, timeout))
                pool.start(len(tasks))  # forked while this process has no threads: see pool.context
            for index, take in hits:
                ready(index, take)
            if tasks and scheduler is not None:
                _on_cluster(scheduler, settings, tasks, made, timeout)
            elif pool is not None:
                pool.run([(i, text, path) for i, text, _, path in tasks], made)
            elif tasks:
                speaker = engine(settings.engine)
                with _hang_alarm(timeout, speaker.program):
                    for index, text, _, path in tasks:
                        stops.check()
                        take = seam.take(speaker, text, settings, Path(path))
                        made(index, take.frames, take.sample_rate)
    finally:
        seam.keep_in(None)
        if cache is not None:  # what a failure left half-made is never an entry
            for _, _, _, path in tasks:
                for made_here in (Path(path), Path(path).with_suffix(".warm.wav"),  # (and a killed worker's warm-up)
                                  words.events_path(Path(path)), words.words_path(Path(path))):
                    with contextlib.suppress(FileNotFoundError):
                        made_here.unlink()
    return tuple(t for t in takes if t is not None) if all(t is not None for t in takes) else _missing(takes)


@contextlib.contextmanager
def _hang_alarm(timeout: float | None, program: str) -> Iterator[None]:
    """Takes spoken in this process: one that takes longer than the speech pool lets a worker (its
    timeout) ends the build with an error, where the pool would replace the worker. A process has one
    engine and it cannot be started again, so the take is not retried here; a build that waited would
    wait for ever. Only in the main thread (where signals are handled), where a timer exists, and where
    nothing else watches the takes (a batch worker's batch replaces the worker, and tries its article again),
    and where the process does not use the timer itself."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer") \
            or seam.watching() or _timer_in_use():
        yield
        return

    seconds = taking.TAKE_TIMEOUT if timeout is None else timeout

    def hung(number: int, frame: Any) -> None:
        raise ToolFailed(program, ["take"], None, f"a take has not ended after {seconds:.0f} s: the engine hangs")

    def watch(speaking: bool) -> None:
        signal.setitimer(signal.ITIMER_REAL, seconds if speaking else 0)

    previous = signal.signal(signal.SIGALRM, hung)
    try:
        with seam.watched(watch):
            yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _timer_in_use() -> bool:
    """Whether this process (a program that builds through the library) uses the interval timer or
    SIGALRM itself: the hang alarm then steps aside rather than cancel its timer or take its signal."""
    armed = signal.getitimer(signal.ITIMER_REAL)[0] > 0
    return armed or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN, None)


def _on_cluster(
    scheduler: str,
    settings: VoiceSettings,
    tasks: list[tuple[int, str, str, str]],
    made: Callable[[int, int, int], None],
    timeout: float | None,
) -> None:
    from . import cluster

    paths = {task[0]: Path(task[3]) for task in tasks}

    def arrived(index: int, wav: bytes, events: list[list[int]] | None) -> None:
        with naming(paths[index]):
            paths[index].write_bytes(wav)
        if events is not None:
            words.heard(paths[index], [(c, s) for c, s in events])
        found = wav_frames(paths[index])
        if found is None:
            raise ToolFailed("dask worker", ["remote_take"], None, f"take {index}: not a 16-bit mono WAV")
        made(index, found[0], found[1])

    # Texts go as the engine should say them; keys name the tasks (a take never made twice).
    cluster.run(scheduler, settings, [(i, text, entry or f"{i}", str(path)) for i, text, entry, path in tasks],
                arrived, timeout or 30.0)


def _missing(takes: list[Take | None]) -> tuple[Take, ...]:
    missing = [i for i, t in enumerate(takes) if t is None]
    raise ToolFailed("speech engine", ["synthesize"], None, f"no take for sentences {missing[:5]}")
