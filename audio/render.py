"""Stream takes and pauses into ffmpeg: loudness-normalised MP3/M4A with chapters written in."""
from __future__ import annotations

import logging
import re
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import tools
from .errors import BadInput, ToolFailed
from .tagging import Tags, tag_mp3
from .timeline import Timeline
from .voice import Take

log = logging.getLogger(__name__)

FORMATS = ("mp3", "m4a")
MIME = {"mp3": "audio/mpeg", "m4a": "audio/x-m4a"}
BITRATE = "64k"
# Spoken-podcast loudness: -16 LUFS as heard on two speakers (dual mono), which is -19 LUFS
# measured on the mono signal itself (AES TD1004). True peak kept under -1 dBTP with margin
# for the encoder.
TARGET_I = -16.0
TARGET_TP = -2.0
PEAK_MARGIN = 1.0  # dB between the sample-peak limit and the true-peak target
# Loudness the encoders take away (their low-pass removes K-weighted treble), in LU, measured
# on eSpeak NG speech at 22.05 kHz: PCM vs its MP3 (LAME, 64-96 kbit/s) and AAC at 64 kbit/s.
ENCODER_LOSS = {"mp3": 0.4, "m4a": 0.1}
_CHUNK = 1 << 16


def parse_formats(value: str) -> tuple[str, ...]:
    """'mp3,m4a' -> ('mp3', 'm4a'); unknown names are BadInput naming the option."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise BadInput(f"--format '{value}': unknown format (choose from: {', '.join(FORMATS)})")
    return chosen


def render(takes: Sequence[Take], timeline: Timeline, outputs: dict[str, Path], tags: Tags) -> None:
    """Encode the edition into each output path (keyed by format), chapters included.

    Two passes over the streamed PCM: measure loudness, then encode every format at once
    with one gain. The output keeps the takes' sample rate, so chapter times stay sample-exact.
    """
    measured = measure(takes, timeline)
    with tempfile.TemporaryDirectory(prefix="audio-edition-") as tmp:
        command = [tools.ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]
        command += _pcm_input(timeline)
        if "m4a" in outputs:
            meta = Path(tmp) / "chapters.ffmeta"
            meta.write_text(ffmetadata(timeline, tags), encoding="utf-8")
            command += ["-f", "ffmetadata", "-i", str(meta)]
        for fmt, path in outputs.items():
            gain = loudness_filter(measured, ENCODER_LOSS[fmt])
            command += ["-map", "0:a", "-af", gain, "-ac", "1", "-b:a", BITRATE]
            if fmt == "mp3":
                # Tags and chapters are written by mutagen afterwards (CTOC, nested tables).
                command += ["-map_metadata", "-1", "-map_chapters", "-1", "-c:a", "libmp3lame", "-f", "mp3"]
            else:
                command += ["-map_metadata", "1", "-map_chapters", "1", "-c:a", "aac", "-movflags", "+faststart", "-f", "mp4"]
            command.append(str(path))
        _stream(command, takes, timeline)
    if "mp3" in outputs:
        tag_mp3(outputs["mp3"], timeline, tags)


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS, measured as dual mono (mono as heard on two speakers)
    peak: float  # dBFS (sample peak)


def _pcm_input(timeline: Timeline) -> list[str]:
    return ["-f", "s16le", "-ar", str(timeline.sample_rate), "-ac", "1", "-i", "pipe:0"]


def measure(takes: Sequence[Take], timeline: Timeline) -> Loudness | None:
    """BS.1770 integrated loudness and sample peak of the stream (ffmpeg ebur128); None for silence.

    The sample peak costs a third of ffmpeg's 4x-oversampled true peak; the margin in
    loudness_filter covers the inter-sample overshoot, and the tests measure the true peak
    of the encoded file.
    """
    command = [tools.ffmpeg(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]
    command += _pcm_input(timeline) + ["-af", "ebur128=peak=sample:dualmono=true:framelog=verbose", "-f", "null", "-"]
    return parse_ebur128(_stream(command, takes, timeline), command)


def parse_ebur128(stderr: str, command: Sequence[str] = ("ffmpeg",)) -> Loudness | None:
    summary = stderr[stderr.rfind("Summary:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf|nan) LUFS", summary)
    peak = re.search(r"(?:Sample|True) peak:\s+Peak:\s+(-?[\d.]+|-inf|nan) dBFS", summary)
    if not integrated or not peak:
        raise ToolFailed("ffmpeg", command, 0, "ebur128 printed no summary:\n" + stderr[-2000:])
    if integrated.group(1) in ("-inf", "nan") or float(integrated.group(1)) <= -70:
        return None
    return Loudness(float(integrated.group(1)), float(peak.group(1)))


def loudness_filter(measured: Loudness | None, encoder_loss: float = 0.0) -> str:
    """One linear gain to the target; a limiter only when that gain would push peaks over the ceiling."""
    if measured is None:
        return "anull"
    gain = TARGET_I - measured.integrated + encoder_loss
    # Samples kept 1 dB under the true-peak ceiling leave room for inter-sample peaks.
    ceiling_db = TARGET_TP - PEAK_MARGIN
    if measured.peak + gain <= ceiling_db:
        return f"volume={gain:.2f}dB"
    ceiling = 10 ** (ceiling_db / 20)
    return f"volume={gain:.2f}dB,alimiter=limit={ceiling:.4f}:attack=1:release=50:level=false"


def _stream(command: list[str], takes: Sequence[Take], timeline: Timeline) -> str:
    """Run ffmpeg with the edition's PCM on its stdin; returns its stderr. Memory stays at one chunk."""
    log.debug("run: %s", " ".join(command))
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        except FileNotFoundError:
            raise ToolFailed("ffmpeg", command, None, f"{command[0]} not found") from None
        assert process.stdin is not None
        try:
            write_pcm(process.stdin, takes, timeline)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit code and stderr say why
        finally:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass
            returncode = process.wait()
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    if returncode != 0:
        raise ToolFailed("ffmpeg", command, returncode, stderr)
    return stderr


def write_pcm(out: IO[bytes], takes: Sequence[Take], timeline: Timeline) -> None:
    """The edition as raw 16-bit mono PCM: takes in timeline order, zeros for pauses."""
    zeros = bytes(_CHUNK * 2)
    for segment in timeline.segments:
        if segment.take is None:
            left = segment.frames
            while left > 0:
                n = min(left, _CHUNK)
                out.write(zeros[: n * 2])
                left -= n
            continue
        take = takes[segment.take]
        with wave.open(str(take.path), "rb") as wav:
            if wav.getframerate() != timeline.sample_rate:
                raise ToolFailed("speech engine", [str(take.path)], None, "takes differ in sample rate")
            left = segment.frames
            while left > 0:
                data = wav.readframes(min(left, _CHUNK))
                if not data:
                    break
                out.write(data)
                left -= len(data) // 2
            if left > 0:  # a take shorter than its header said: keep the timeline exact
                out.write(bytes(left * 2))


def ffmetadata(timeline: Timeline, tags: Tags) -> str:
    """FFMETADATA with TIMEBASE=1/1000 in every chapter (without it START/END are nanoseconds)."""
    lines = [";FFMETADATA1", f"title={_escape(tags.title)}"]
    if tags.artist:
        lines.append(f"artist={_escape(tags.artist)}")
    if tags.album:
        lines.append(f"album={_escape(tags.album)}")
    if tags.date:
        lines.append(f"date={_escape(tags.date)}")
    if tags.comment:
        lines.append(f"comment={_escape(tags.comment)}")
    for span in timeline.chapters:
        title = span.title.encode("utf-8")[:255].decode("utf-8", "ignore")  # MP4 chapter titles: 255 bytes
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={timeline.ms(span.start)}", f"END={timeline.ms(span.end)}"]
        lines.append(f"title={_escape(title)}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", value)
