"""MP3 encoding: LAME in this process (on threads), behind ffmpeg's limiter where peaks need it, or
ffmpeg's own encoder; each piece of the edition on its own (audio/sound/mp3frames.py joins them)."""
from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import logging
import queue
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

from .. import tools
from ..errors import ToolFailed, naming
from .mp3frames import JOIN_DROP, Piece, frame_samples, read_piece, tag_values

__all__ = ["BITRATE_KBPS", "JOIN_DROP", "QUALITY", "Piece", "encode", "encode_with_ffmpeg", "frame_samples",
           "lame_available", "limit_then_encode"]

log = logging.getLogger(__name__)

BITRATE_KBPS = 64
# LAME's quality 7 (`lame -f`: the psychoacoustic model still picks short blocks against pre-echo, but
# there is no noise shaping). For eSpeak NG's voice at 64 kbit/s mono it comes closer to the source
# than LAME's (and so ffmpeg's) default 3, in every band and by wideband PESQ (the sample and fixtures
# in English, French, Russian and Arabic; scripts/mp3_quality.py), in less than half the CPU time.
QUALITY = 7


# ---------------------------------------------------------------- encoding


@functools.cache
def _lame() -> ctypes.CDLL | None:
    """The system's libmp3lame (it comes with Debian's ffmpeg), or None."""
    lib = tools.shared_library("libmp3lame.so.0", "mp3lame")
    if lib is None:
        return None
    lib.lame_init.restype = ctypes.c_void_p
    for fn in ("lame_init_params", "lame_close", "lame_encode_flush", "lame_encode_buffer"):
        getattr(lib, fn).argtypes = None
    lib.lame_set_scale.argtypes = [ctypes.c_void_p, ctypes.c_float]
    lib.lame_get_lametag_frame.restype = ctypes.c_size_t
    return lib


def lame_available() -> bool:
    return _lame() is not None


def encode(chunks: Iterable[bytes], sample_rate: int, gain_db: float, path: Path) -> Piece:
    """Encode 16-bit mono PCM with libmp3lame in this process (the GIL is released while it works)."""
    lib = _lame()
    if lib is None:
        raise ToolFailed("libmp3lame", ["lame_init"], None, "libmp3lame is not installed")
    gfp = ctypes.c_void_p(lib.lame_init())
    if not gfp:
        raise ToolFailed("libmp3lame", ["lame_init"], None, "out of memory")
    try:
        lib.lame_set_in_samplerate(gfp, sample_rate)
        lib.lame_set_out_samplerate(gfp, sample_rate)
        lib.lame_set_num_channels(gfp, 1)
        lib.lame_set_mode(gfp, 3)  # MONO
        lib.lame_set_VBR(gfp, 0)  # CBR, as ffmpeg -b:a asks for
        lib.lame_set_brate(gfp, BITRATE_KBPS)
        lib.lame_set_quality(gfp, QUALITY)
        lib.lame_set_bWriteVbrTag(gfp, 1)  # reserve the Info frame, filled by lame_get_lametag_frame
        lib.lame_set_scale(gfp, ctypes.c_float(10 ** (gain_db / 20)))
        if lib.lame_init_params(gfp) < 0:
            raise ToolFailed("libmp3lame", ["lame_init_params"], None, f"cannot encode {sample_rate} Hz mono")
        out = bytearray()  # a piece is small (64 kbit/s): written once, whole
        buffer = ctypes.create_string_buffer(1 << 18)
        for chunk in chunks:
            for start in range(0, len(chunk), 1 << 17):
                part = chunk[start : start + (1 << 17)]
                n = lib.lame_encode_buffer(gfp, part, part, len(part) // 2, buffer, len(buffer))
                if n < 0:
                    raise ToolFailed("libmp3lame", ["lame_encode_buffer"], n, "encoding failed")
                out += memoryview(buffer)[:n]
        n = lib.lame_encode_flush(gfp, buffer, len(buffer))
        out += memoryview(buffer)[: max(n, 0)]
        size = lib.lame_get_lametag_frame(gfp, buffer, len(buffer))
        tag = bytes(memoryview(buffer)[:size])
    finally:
        lib.lame_close(gfp)
    # The stream starts with a placeholder as long as the tag frame: put the real tag there.
    if not tag or len(out) < len(tag):
        raise ToolFailed("libmp3lame", ["lame_get_lametag_frame"], None, "no Info frame")
    out[: len(tag)] = tag
    with naming(path):
        path.write_bytes(out)
    frames, _, crc = tag_values(tag)  # LAME's own count
    if frames is None:
        raise ToolFailed("libmp3lame", ["lame_get_lametag_frame"], None, "no frame count in the Info frame")
    return Piece(path, frames, len(tag), len(out) - len(tag), crc)


Stretch = tuple[Iterable[bytes], int, Sequence[tuple[int, int, Path]]]  # see limit_then_encode


def limit_then_encode(
    items: Iterable[Stretch], sample_rate: int, audio_filter: str, jobs: int, measure: str | None = None,
    gain_db: float = 0.0,
) -> tuple[list[Piece], bytes]:
    """One ffmpeg run applies the filter (gain, limiter) to consecutive stretches of PCM, each given as
    (its chunks, its length in samples, the pieces to cut from it: (offset, length, MP3 to write) in
    order); libmp3lame encodes each piece in one of `jobs` threads as soon as it has come out. `items`
    may still be arriving (audio/sound/live.py). With `measure`, a filter that logs (loudness.EBUR128) also
    hears the unfiltered stream; the log is returned. `gain_db` is LAME's own (for a filter that has none)."""
    command = [tools.pcm_ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "verbose" if measure else "error"]
    arguments, first = tools.pcm_input(sample_rate)
    command += arguments
    if measure:
        command += ["-filter_complex", f"[0:a]{first}asplit=2[heard][made];[heard]{measure},anullsink;[made]{audio_filter}[out]",
                    "-map", "[out]"]
    else:
        command += ["-af", first + audio_filter]
    command += ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "pipe:1"]
    wanted: queue.Queue[tuple[int, Sequence[tuple[int, int, Path]]] | None] = queue.Queue()  # what comes out next
    failures: list[BaseException] = []
    with tools.scratch() as errors:
        process = tools.start(command, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdin is not None and process.stdout is not None
        source, sink = process.stdin, cast(io.BufferedReader, process.stdout)  # (Popen's default buffering)

        watch = tools.Watch(process, "ffmpeg", command)

        def feed() -> None:
            try:
                with contextlib.suppress(BrokenPipeError, ValueError):
                    for chunks, total, cuts in items:
                        wanted.put((total, cuts))
                        for chunk in chunks:
                            watch.writing(len(chunk))
                            source.write(chunk)
                            watch.wrote()
            except BaseException as exc:  # noqa: BLE001 - raised in the calling thread below
                failures.append(exc)
            finally:
                wanted.put(None)
                with contextlib.suppress(BrokenPipeError):
                    source.close()
                watch.closed()

        def copy(count: int, out: queue.SimpleQueue[bytes | None] | None) -> bool:
            """Move `count` samples of the filtered stream to out as they come (None: drop them); False if it ended."""
            left = count * 2
            odd = b""  # a pipe may split a sample: the encoder gets whole ones
            while left > 0 and (block := sink.read1(min(left, 1 << 16))):
                left -= len(block)
                if out is not None:
                    block = odd + block
                    whole = len(block) & ~1
                    odd = block[whole:]
                    out.put(block[:whole])
            return left == 0

        feeder = threading.Thread(target=feed, daemon=True)
        watch.__enter__()
        feeder.start()
        futures = []
        short = False
        # A piece is encoded while it comes out of ffmpeg; pieces waiting for an encoder wait in memory
        # (15 s of PCM is 660 kB): a few at most, whatever the length.
        room = threading.BoundedSemaphore(2 * max(1, jobs))

        def arriving(blocks: queue.SimpleQueue[bytes | None]) -> Iterator[bytes]:
            while (block := blocks.get()) is not None:
                yield block

        def encode_arriving(blocks: queue.SimpleQueue[bytes | None], path: Path) -> Piece:
            try:
                return encode(arriving(blocks), sample_rate, gain_db, path)
            finally:
                room.release()

        try:
            with ThreadPoolExecutor(max(1, jobs)) as encoders:
                while not short and (item := wanted.get()) is not None:
                    total, cuts = item
                    position = 0
                    for offset, length, path in cuts:
                        short = not copy(offset - position, None)
                        if short:
                            break
                        room.acquire()
                        blocks: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
                        futures.append(encoders.submit(encode_arriving, blocks, path))
                        try:
                            short = not copy(length, blocks)
                        finally:
                            blocks.put(None)  # (a piece cut short fails below: its file is never committed)
                        if short:
                            break
                        position = offset + length
                    short = short or not copy(total - position, None)
                pieces = [future.result() for future in futures]
        except BaseException:
            watch.check()  # (killed as hung: its pieces cut short are not the story)
            raise
        finally:
            sink.close()  # a feeder blocked on a full pipe gets a broken pipe
            feeder.join()
            code = process.wait()
            watch.__exit__(None)
        watch.check()
        errors.seek(0)
        log_text = errors.read()
        if failures:
            raise failures[0]
        if code != 0 or short:
            shown = log_text.decode("utf-8", "replace")
            if measure:  # the log holds every block: show its errors only
                shown = "\n".join(line for line in shown.splitlines() if "Parsed_ebur128" not in line and "t:" not in line)
            raise ToolFailed("ffmpeg", command, code, shown.strip() or "output ended early")
    return pieces, log_text


def encode_with_ffmpeg(
    chunks: Iterable[bytes], sample_rate: int, audio_filter: str, lengths: Sequence[int], paths: Sequence[Path]
) -> list[Piece]:
    """Encode consecutive stretches of one PCM stream (`lengths` samples each) into one file each, in one ffmpeg run.

    The filter (gain and limiter) runs once over the stream; each stretch then gets its own
    libmp3lame encoder, as a piece needs. Used where a limiter is needed, or libmp3lame
    cannot be loaded here.
    """
    arguments, first = tools.pcm_input(sample_rate)
    graph = [f"[0:a]{first}{audio_filter},asplit={len(lengths)}" + "".join(f"[s{i}]" for i in range(len(lengths)))]
    start = 0
    for i, length in enumerate(lengths):
        graph.append(f"[s{i}]atrim=start_sample={start}:end_sample={start + length},asetpts=PTS-STARTPTS[o{i}]")
        start += length
    command = [tools.ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]
    command += arguments + ["-filter_complex", ";".join(graph)]
    for i, path in enumerate(paths):
        command += ["-map", f"[o{i}]", "-ac", "1", "-b:a", f"{BITRATE_KBPS}k", "-c:a", "libmp3lame",
                    "-compression_level", str(QUALITY)]
        command += ["-map_metadata", "-1", "-id3v2_version", "0", "-write_xing", "1", "-f", "mp3", str(path)]
    tools.feed(command, chunks)
    return [read_piece(path) for path in paths]
