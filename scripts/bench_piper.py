#!/usr/bin/env python3
"""Benchmark Piper on the sample's body text: how worker processes and ONNX Runtime's intra-op threads
share the cores, against the bare `python -m piper ... && ffmpeg ...` one-liner in the same run.

Each round runs, in an order that rotates from round to round (so all see the same machine noise):
the bare one-liner; audio/speech/piper_engine.py with 1 process x 1 thread, 1 x 2, 2 x 1, and 1 x 2 whose idle
threads sleep instead of spinning (each a fresh Python process that loads the model, speaks the
sentences one take each, writes a WAV; then the same ffmpeg encode); and `espeak-ng` on the same
text. It prints each arrangement's wall time as a ratio to the bare run of its own round (median and
the rounds' values), its CPU seconds, and the real-time factor (audio seconds per wall second of
speaking, model load and process start included).

--rates measures the table audio/speech/piper_engine.py maps --rate with: the joe voice's words per minute at a
range of length scales, and eSpeak NG's at a range of --rate values, on the same sentences.
Usage: .venv/bin/python scripts/bench_piper.py [--runs 3] | --rates
"""
from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audio.speech import piper_engine as piper  # noqa: E402

SAMPLE = ROOT / "samples" / "moscow-times-belarus.txt"
CONFIG = ROOT / "samples" / "moscow-times.toml"
RATE = 175
SILENT = 328  # 1 % of full scale: below this a sample counts as silence when takes are trimmed
# (processes, intra-op threads each, whether idle threads spin: ONNX Runtime's default)
ARRANGEMENTS = ((1, 1, True), (1, 2, True), (2, 1, True), (1, 2, False))


def body_sentences() -> list[str]:
    """The spoken text of the sample's body sentences, as the build hands them to the engine."""
    from audio import config
    from audio.text import article, script, source

    parsed = article.parse(source.read(SAMPLE), config.load(CONFIG))
    made = script.make_script(parsed)
    return [s.spoken for c in made.chapters if c.kind == "paragraph" for s in c.sentences]


def voiced_frames(pcm: bytes) -> int:
    """Frames from the first to the last sample above SILENT: a take without its lead-in and tail."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2")
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > SILENT)[0]
    return int(loud[-1] - loud[0] + 1) if loud.size else 0


def words(texts: Sequence[str]) -> int:
    return sum(len(t.split()) for t in texts)


# --- one arrangement, in a process of its own -------------------------------------------------------

_voice: piper.PiperVoiceInfo | None = None
_threads = 1


def _start_worker(threads: int) -> None:
    global _voice, _threads
    _voice, _threads = piper.resolve(None), threads
    piper.load(_voice, threads)  # once per worker, before its first take


def _take(text: str) -> bytes:
    assert _voice is not None
    return piper.speak(text, _voice, RATE, _threads).pcm


def speak_all(processes: int, threads: int, spin: bool, out: Path) -> None:
    piper.SPIN = spin
    sentences = body_sentences()
    if processes == 1:
        _start_worker(threads)
        pcm = [_take(text) for text in sentences]
    else:
        # fork: the parent has imported ONNX Runtime but made no session, so it has no threads yet
        with multiprocessing.get_context("fork").Pool(processes, _start_worker, (threads,)) as pool:
            pcm = pool.map(_take, sentences, chunksize=1)
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(piper.resolve(None).sample_rate)
        wav.writeframes(b"".join(pcm))


# --- the rounds ---------------------------------------------------------------------------------------

def run(command: Sequence[str], stdin: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the command and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(stdin, "rb") if stdin else open("/dev/null", "rb") as given:
        subprocess.run(command, check=True, stdin=given, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def audio_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def rounds(runs: int) -> None:
    ffmpeg = shutil.which("ffmpeg")
    espeak = shutil.which("espeak-ng")
    if ffmpeg is None or espeak is None:
        sys.exit("needs ffmpeg and espeak-ng on PATH")
    model = piper.resolve(None).model
    sentences = body_sentences()
    python = sys.executable
    names = ["bare"] + [f"{p}x{t}" + ("" if spin else " no spin") for p, t, spin in ARRANGEMENTS] + ["espeak-ng"]
    walls: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    speaking: dict[str, list[float]] = {n: [] for n in names}
    audio: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        text = work / "body.txt"
        text.write_text("\n".join(sentences) + "\n", encoding="utf-8")  # a line a sentence, as piper reads it
        for r in range(runs):
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                wav, mp3 = work / f"{name.replace(' ', '-')}.{r}.wav", work / f"{name.replace(' ', '-')}.{r}.mp3"
                if name == "bare":
                    speak = run([python, "-m", "piper", "-m", str(model), "-f", str(wav)], stdin=text)
                elif name == "espeak-ng":
                    speak = run([espeak, "-v", "en", "-s", str(RATE), "-f", str(text), "-w", str(wav)])
                else:
                    processes, threads = name.split()[0].split("x")
                    spin = "spin" if name.endswith("x" + threads) else "no-spin"
                    speak = run([python, __file__, "--speak", processes, threads, spin, str(wav)])
                encode = (0.0, 0.0) if name == "espeak-ng" else run([ffmpeg, "-y", "-i", str(wav), "-b:a", "64k", str(mp3)])
                walls[name].append(speak[0] + encode[0])
                cpus[name].append(speak[1] + encode[1])
                speaking[name].append(speak[0])
                audio[name] = audio_seconds(wav)
                print(f"round {r + 1} {name:>12}: {speak[0]:.2f} s speaking + {encode[0]:.2f} s encoding", file=sys.stderr)
    print(f"sample body: {len(sentences)} sentences, {words(sentences)} words; {runs} rounds, order rotated")
    print(f"{'':>12} {'ratio to bare (median; each round)':<44} {'CPU s':>6} {'audio s':>8} {'RTF':>6}")
    for name in names:
        ratios = [w / b for w, b in zip(walls[name], walls["bare"])]
        each = ", ".join(f"{x:.2f}" for x in ratios)
        rtf = audio[name] / statistics.median(speaking[name])
        note = " (speaking only)" if name == "espeak-ng" else ""
        print(f"{name:>12} {statistics.median(ratios):>5.2f} ({each}){note:<16} "
              f"{statistics.median(cpus[name]):>6.1f} {audio[name]:>8.1f} {rtf:>6.1f}")


# --- the rate table -----------------------------------------------------------------------------------

SCALES = (0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 1.25, 1.6, 2.0)
ESPEAK_RATES = (80, 120, 175, 250, 350, 450)


def rates() -> None:
    sentences = body_sentences()
    voice = piper.resolve(None)
    count = words(sentences)
    print(f"{len(sentences)} sentences, {count} words; speech seconds = takes trimmed of silence at both ends")
    print("joe voice: (length scale, words per minute)")
    for scale in SCALES:
        frames = sum(voiced_frames(piper.speak_scaled(t, voice, scale, 2).pcm) for t in sentences)
        print(f"    ({scale}, {count * 60 / (frames / voice.sample_rate):.1f}),")
    print("eSpeak NG (voice en, as a build of an English article): --rate -> words per minute")
    with tempfile.TemporaryDirectory() as tmp:
        for rate in ESPEAK_RATES:
            frames = 0
            for i, text in enumerate(sentences):
                wav = Path(tmp) / f"{i}.wav"
                subprocess.run(["espeak-ng", "-v", "en", "-s", str(rate), "-w", str(wav), text], check=True)
                with wave.open(str(wav), "rb") as w:
                    frames += voiced_frames(w.readframes(w.getnframes()))
                    sample_rate = w.getframerate()
            print(f"    {rate}: {count * 60 / (frames / sample_rate):.1f}")


# --- whole builds -------------------------------------------------------------------------------------

CHANGED = ("Kyiv had also called the defense call as positive.", "Kyiv had also called the call positive.")


def script_sentences(article: Path) -> list[str]:
    """What a build speaks: every sentence of the article's script, as the engine is given it."""
    from audio import config, edition

    _, _, script = edition.prepare(article, edition.BuildOptions(config=config.Config()))
    return [s.spoken for s in script.sentences]


def compiled() -> None:
    """The package's bytecode written, as an installed package has it (pip compiles at install): with
    PYTHONDONTWRITEBYTECODE set (as on the machine these figures come from) every build would compile the
    sources again first, 0.13-0.15 s of each."""
    import compileall

    compileall.compile_dir(str(ROOT / "audio"), quiet=1)


def build_command(article: Path, out: Path, cache: Path, engine: str) -> list[str]:
    return [sys.executable, "-m", "audio", "build", str(article), "--engine", engine, "--out", str(out), "--cache", str(cache)]


def edition_seconds(out: Path, slug: str) -> float:
    import json

    return float(json.loads((out / slug / "edition.json").read_text(encoding="utf-8"))["duration_ms"]) / 1000


def builds(runs: int) -> None:
    """Rounds of: the bare one-liner on the script's sentences (+ its encode), a cold Piper build of the
    sample (empty cache) followed by its rebuild after one body paragraph changed (same cache), and a
    cold pyttsx3 build; the order rotates. Ratios are each round's own."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        sys.exit("needs ffmpeg on PATH")
    model = piper.resolve(None).model
    compiled()
    names = ["bare", "piper cold", "pyttsx3 cold"]
    walls: dict[str, list[float]] = {n: [] for n in [*names, "piper rebuild"]}
    cpus: dict[str, list[float]] = {n: [] for n in walls}
    audio: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        article = work / "moscow-times-belarus.txt"
        article.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
        text = work / "script.txt"
        sentences = script_sentences(article)
        text.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        for r in range(runs):
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                if name == "bare":
                    wav, mp3 = work / f"bare{r}.wav", work / f"bare{r}.mp3"
                    speak = run([sys.executable, "-m", "piper", "-m", str(model), "-f", str(wav)], stdin=text)
                    encode = run([ffmpeg, "-y", "-i", str(wav), "-b:a", "64k", str(mp3)])
                    walls[name].append(speak[0] + encode[0])
                    cpus[name].append(speak[1] + encode[1])
                    audio[name] = audio_seconds(wav)
                    continue
                engine = name.split()[0]
                out, cache = work / f"out-{engine}{r}", work / f"cache-{engine}{r}"
                article.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
                wall, cpu = run(build_command(article, out, cache, engine))
                walls[name].append(wall)
                cpus[name].append(cpu)
                audio[name] = edition_seconds(out, article.stem)
                if engine == "piper":
                    article.write_text(SAMPLE.read_text(encoding="utf-8").replace(*CHANGED), encoding="utf-8")
                    wall, cpu = run(build_command(article, out, cache, engine))
                    walls["piper rebuild"].append(wall)
                    cpus["piper rebuild"].append(cpu)
            print(f"round {r + 1} ({time.strftime('%H:%M:%S')}, load average {os.getloadavg()[0]:.1f}): "
                  + ", ".join(f"{n} {walls[n][-1]:.2f} s" for n in walls), file=sys.stderr)
    print(f"sample: {len(sentences)} sentences, {words(sentences)} words; {runs} rounds, order rotated")
    cold_ratio = [c / b for c, b in zip(walls["piper cold"], walls["bare"])]
    rebuild_ratio = [w / c for w, c in zip(walls["piper rebuild"], walls["piper cold"])]
    print(f"piper cold build / bare one-liner: median {statistics.median(cold_ratio):.2f} "
          f"({', '.join(f'{x:.2f}' for x in cold_ratio)})")
    print(f"piper rebuild (one paragraph changed) / piper cold build: median {statistics.median(rebuild_ratio):.3f} "
          f"({', '.join(f'{x:.3f}' for x in rebuild_ratio)})")
    for name in walls:
        seconds = audio.get(name, audio.get("piper cold", 0.0))
        print(f"{name:>14}: wall median {statistics.median(walls[name]):6.2f} s, CPU {statistics.median(cpus[name]):6.1f} s, "
              f"audio {seconds:6.1f} s, real-time factor {seconds / statistics.median(walls[name]):6.1f}")


def long_article(words_wanted: int, path: Path) -> None:
    """An article of about `words_wanted` words: the sample's body paragraphs again and again, each
    sentence made distinct (a take cache would otherwise speak a repeated sentence once)."""
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    body = lines[1:lines.index("A Message from The Moscow Times:")]
    paragraphs = ["A long report on Belarus and its neighbours"]
    count, n = 0, 0
    while count < words_wanted:
        text = body[n % len(body)]
        n += 1
        # every sentence its own ("In part 15, he said ..."): a sentence repeated is spoken once
        sentences = re.split(r'(?<=[.!?])\s+(?=[A-Z"])', text)
        text = " ".join(f"In part {n}, {s}" for s in sentences)
        paragraphs.append(text)
        count += len(text.split())
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")


def memory(sizes: Sequence[int]) -> None:
    """A cold Piper build of an article of each size: wall time per 1,000 words and the peak of the
    memory of the build and all its processes together (psutil, sampled every 0.1 s): PSS summed (a
    page shared by n processes counts 1/n in each: the machine's real use), and RSS summed (shared
    pages counted in every process that maps them: an upper bound)."""
    import psutil

    compiled()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in sizes:
            article = work / f"long{size}.txt"
            long_article(size, article)
            sentences = script_sentences(article)
            command = build_command(article, work / f"out{size}", work / f"cache{size}", "piper")
            start = time.perf_counter()
            process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            peak = peak_pss = 0
            parts: dict[str, int] = {}  # each kind of process's largest PSS seen (speech workers: the largest one)
            shown = 0.0
            while process.poll() is None:
                total = total_pss = 0
                with contextlib.suppress(psutil.Error):
                    for p in [process, *process.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            full = p.memory_full_info()
                            total += full.rss
                            total_pss += full.pss
                            part = "build" if p is process else "python" if "python" in p.name() else p.name()
                            parts[part] = max(parts.get(part, 0), full.pss)
                peak, peak_pss = max(peak, total), max(peak_pss, total_pss)
                elapsed = time.perf_counter() - start
                if elapsed >= shown + 60:  # progress, for a run cut short: the peak so far and the takes made
                    shown = elapsed
                    made = sum(1 for p in (work / f"cache{size}" / "takes").rglob("*.wav") if ".partial" not in p.name)
                    print(f"  {size} words: {elapsed:.0f} s, {made} takes of {len(set(sentences))} made, "
                          f"peak so far {peak_pss / 2**20:.0f} MiB PSS ({peak / 2**20:.0f} MiB RSS)", file=sys.stderr, flush=True)
                time.sleep(0.1)
            wall = time.perf_counter() - start
            if process.returncode:
                sys.exit(f"build of {size} words failed: {process.stderr.read().decode() if process.stderr else ''}")
            count = words(sentences)
            seconds = edition_seconds(work / f"out{size}", article.stem)
            print(f"{count} words ({len(sentences)} sentences, {seconds / 60:.1f} min of audio): {wall:.1f} s, "
                  f"{1000 * wall / count:.2f} s per 1,000 words, peak of all processes together: {peak_pss / 2**20:.0f} MiB "
                  f"PSS ({peak / 2**20:.0f} MiB RSS summed), "
                  f"real-time factor {seconds / wall:.1f} ({time.strftime('%H:%M:%S')}, load average "
                  f"{os.getloadavg()[0]:.1f})", flush=True)
            print("  largest PSS seen of each: " + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in sorted(parts.items()))
                  + " (python: a speech worker)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rates", action="store_true", help="measure the rate table instead")
    parser.add_argument("--builds", type=int, metavar="RUNS", help="whole builds: cold and rebuilt, against the one-liner")
    parser.add_argument("--memory", type=int, nargs="+", metavar="WORDS", help="peak memory and time per 1,000 words")
    parser.add_argument("--speak", nargs=4, metavar=("PROCESSES", "THREADS", "SPIN", "WAV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speak:
        speak_all(int(args.speak[0]), int(args.speak[1]), args.speak[2] == "spin", Path(args.speak[3]))
    elif args.rates:
        rates()
    elif args.builds:
        builds(args.builds)
    elif args.memory:
        memory(args.memory)
    else:
        rounds(args.runs)


if __name__ == "__main__":
    main()
