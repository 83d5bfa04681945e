#!/usr/bin/env python3
"""How close our MP3 comes to the voice it encodes, at LAME quality settings side by side.

Speaks each article's script with eSpeak NG (the `espeak-ng` program, in the article's language),
encodes the PCM with our encoder (audio/sound/mp3.py, libmp3lame at 64 kbit/s mono) at each --quality,
decodes it with ffmpeg and prints, per quality: the signal-to-noise ratio in four bands, and the
wideband PESQ score (ITU-T P.862.2, 16 kHz; mean over 10 s segments) when the `pesq` package is
installed (`.venv/bin/pip install pesq`: it builds from source, so it needs a C compiler).
It also prints the CPU seconds LAME took at each quality. With --aac-coder, the same for the M4A's
AAC (ffmpeg's encoder at 64 kbit/s, each coder named; CPU seconds of the ffmpeg run).
Usage: .venv/bin/python scripts/mp3_quality.py [ARTICLE ...] [--quality 3 7] [--aac-coder twoloop fast]
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from audio.sound import mp3

from audio import tools

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = [ROOT / "samples" / "moscow-times-belarus.txt"] + [
    ROOT / "tests" / "fixtures" / "html" / f"{name}.html" for name in ("french", "russian-cp1251", "arabic-rtl")]
RATE = 22050
BANDS = ((50, 2000), (2000, 5000), (5000, 8000), (8000, 11000))


def spoken(article: Path, work: Path, espeak: str) -> np.ndarray:
    """The article's script as eSpeak NG says it, in its language: 16-bit samples at 22,050 Hz."""
    script = json.loads(subprocess.run([str(Path(sys.executable).with_name("audio-edition")), "script", str(article), "--json"],
                                       check=True, capture_output=True).stdout)
    text = "\n".join(sentence["text"] for chapter in script["chapters"] for sentence in chapter["sentences"])
    (work / "text.txt").write_text(text, encoding="utf-8")
    subprocess.run([espeak, "-v", script["language"], "-f", str(work / "text.txt"), "-w", str(work / "voice.wav")], check=True)
    return decoded(work / "voice.wav", RATE)


def decoded(path: Path, rate: int) -> np.ndarray:
    raw = subprocess.run([tools.ffmpeg(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float64)


def band_snr(source: np.ndarray, heard: np.ndarray) -> list[float]:
    """SNR in dB of each band (by FFT of the whole signal): how much of the source each band keeps."""
    n = min(len(source), len(heard))
    s, e = np.fft.rfft(source[:n]), np.fft.rfft(heard[:n] - source[:n])
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    result = []
    for low, high in BANDS:
        inside = (freqs >= low) & (freqs < high)
        result.append(float(10 * np.log10(np.sum(np.abs(s[inside]) ** 2) / np.sum(np.abs(e[inside]) ** 2))))
    return result


def pesq_score(source_path: Path, heard_path: Path) -> float | None:
    try:
        from pesq import pesq  # type: ignore[import-not-found]
    except ImportError:
        return None
    a, b = decoded(source_path, 16000), decoded(heard_path, 16000)
    n, segment = min(len(a), len(b)), 160000
    scores = [pesq(16000, a[i:i + segment], b[i:i + segment], "wb") for i in range(0, max(1, n - segment), segment)]
    return float(np.mean(scores))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("articles", nargs="*", type=Path, default=ARTICLES)
    parser.add_argument("--quality", type=int, nargs="+", default=[3, 7], help="LAME qualities, 0 (best) to 9 (fastest)")
    parser.add_argument("--aac-coder", nargs="*", default=[], help="ffmpeg AAC coders to measure too: twoloop, fast")
    args = parser.parse_args()
    espeak = shutil.which("espeak-ng")
    if not mp3.lame_available() or not espeak:
        print("mp3_quality: needs libmp3lame and the espeak-ng program (Debian: libmp3lame0 espeak-ng)", file=sys.stderr)
        return 2
    print(f"SNR in dB by band (Hz): {', '.join(f'{lo}-{hi}' for lo, hi in BANDS)}")
    for article in args.articles:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            source = spoken(article, work, espeak)  # (work / "voice.wav")
            pcm = source.astype(np.int16).tobytes()
            for quality in args.quality:
                mp3.QUALITY = quality
                path = work / f"q{quality}.mp3"
                started = time.process_time()
                mp3.encode([pcm], RATE, 0.0, path)
                _report(article, f"quality {quality}", source, path, work, f"LAME {time.process_time() - started:.3f} CPU-s")
            for coder in args.aac_coder:
                (work / "voice.pcm").write_bytes(pcm)
                path = work / f"{coder}.m4a"
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([tools.ffmpeg(), "-v", "error", "-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1",
                                "-i", str(work / "voice.pcm"), "-c:a", "aac", "-aac_coder", coder, "-b:a", "64k", str(path)],
                               check=True)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                _report(article, f"AAC {coder}", source, path, work, f"ffmpeg {cpu:.3f} CPU-s, {path.stat().st_size} bytes")
    return 0


def _report(article: Path, label: str, source: np.ndarray, path: Path, work: Path, cost: str) -> None:
    """Decode what was encoded, line it up with the source, and print its band SNRs and PESQ-WB."""
    heard = decoded(path, RATE)
    heard = heard[_delay(source, heard):]  # the encoder's delay
    with wave.open(str(work / "heard.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(heard.astype(np.int16).tobytes())
    score = pesq_score(work / "voice.wav", work / "heard.wav")
    snrs = " ".join(f"{x:5.1f}" for x in band_snr(source, heard))
    shown = f"{score:.3f}" if score is not None else "(pesq not installed)"
    print(f"{article.name:28} {label}: SNR {snrs}  PESQ-WB {shown}  {cost}")


def _delay(source: np.ndarray, heard: np.ndarray) -> int:
    """The offset (samples) at which the decoded MP3 lines up with the source best."""
    n = min(len(source), 100000)
    errors = [np.sum((heard[d:d + n] - source[:n]) ** 2) for d in range(0, 3000)]
    return int(np.argmin(errors))


if __name__ == "__main__":
    sys.exit(main())
