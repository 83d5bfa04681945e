"""Speak takes on a Dask distributed cluster (`--scheduler tcp://HOST:PORT`); the WAVs come back here.

Imported only when a scheduler is given: without one, nothing of Dask is loaded.
"""
from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import BadInput, ToolFailed

_ENGINE_LOCK = threading.Lock()  # a Dask worker runs tasks in threads; a process has one engine


def remote_take(settings: Any, text: str) -> tuple[bytes, list[list[int]] | None]:
    """Runs on a Dask worker: this worker process's engine speaks one take; returns the WAV's bytes and the
    engine's word events (words.heard), or None where it told none."""
    import json

    from . import engine as seam
    from . import voice, words

    with _ENGINE_LOCK, tempfile.TemporaryDirectory(prefix="audio-edition-remote-") as tmp:
        take = seam.take(voice.engine(settings.engine), text, settings, Path(tmp) / "take.wav")
        told = words.events_path(take.path)
        events = json.loads(told.read_text(encoding="utf-8")) if told.exists() else None
        return take.path.read_bytes(), events


def run(
    address: str,
    settings: Any,
    tasks: Sequence[tuple[int, str, str, str]],
    done: Callable[[int, bytes, list[list[int]] | None], None],
    timeout: float,
) -> None:
    """Send every (index, text, cache key, path) task to the cluster; `done(index, wav, word events)` as each returns."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BadInput("--scheduler needs Dask: pip install 'audio-edition[dask]'") from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ToolFailed("dask", ["Client", address], None, f"cannot reach the scheduler at {address}: {exc}") from None
    try:
        futures = {}
        for index, text, entry, _path in tasks:
            # The take's cache key names the task: the same sentence twice is spoken once.
            future = client.submit(remote_take, settings, text, key=f"take-{entry}", retries=1, pure=False)
            futures[future] = index
        for future in as_completed(futures, loop=client.loop):
            try:
                wav, events = future.result()
            except Exception as exc:  # the worker's error, shipped back by Dask
                raise ToolFailed("dask worker", ["remote_take"], None, f"{type(exc).__name__}: {exc}") from None
            done(futures[future], wav, events)
    finally:
        client.close()
