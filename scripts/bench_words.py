"""What word times cost: Piper's model load and the sample's takes, with the model patched for phoneme
alignments (piper_engine._source, as builds load it) and without, each in a fresh process, alternated; with
--builds BASE, cold builds of the sample (a fresh take cache each) by BASE, a copy of the code without word
times (`git archive d5c71ca | tar -x -C BASE`), and by this tree, alternated: wall and CPU seconds.

    python scripts/bench_words.py [--runs 3] [--builds BASE [--engine piper]]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once(patched: bool) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from audio import edition
    from audio.speech import piper_engine

    _, _, script = edition.prepare(ROOT / "samples" / "moscow-times-belarus.txt", edition.BuildOptions())
    info = piper_engine.voice_info(piper_engine.BUNDLED)
    piper_engine._modules()
    if not patched:
        piper_engine._source = lambda model: contextlib.nullcontext(str(model))  # type: ignore[assignment]  # as before
    import onnx  # noqa: F401  (imported before the clock either way)

    started, cpu = time.perf_counter(), time.process_time()
    piper_engine.load(info)
    load = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    spoken = [piper_engine.speak(s.spoken, info, 175) for s in script.sentences]
    words = sum(len(s.events or ()) for s in spoken)
    return {"load_s": load[0], "load_cpu_s": load[1], "peak_rss_after_load_mib": peak,
            "takes_cpu_s": time.process_time() - cpu, "frames": sum(s.frames for s in spoken), "words": words,
            "rss_after_takes_mib": _rss_mib()}


def build(tree: Path, engine: str) -> tuple[float, float]:
    """One cold build of the sample by the code in `tree`: wall and CPU seconds (its processes, workers too)."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "PYTHONPATH": str(tree), "AUDIO_EDITION_CACHE": f"{scratch}/cache"}
        env.pop("AUDIO_EDITION_WARM", None)
        command = [sys.executable, "-m", "audio", "build", "samples/moscow-times-belarus.txt", "--config",
                   "samples/moscow-times.toml", "--engine", engine, "--out", f"{scratch}/out"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return time.perf_counter() - started, cpu


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", choices=("patched", "plain"), help=argparse.SUPPRESS)
    parser.add_argument("--builds", type=Path, metavar="BASE", help="compare cold builds with the code in BASE")
    parser.add_argument("--engine", default="pyttsx3")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(once(args.one == "patched")))
        return
    if args.builds:
        for run in range(args.runs):
            for tree in (args.builds.resolve(), ROOT):
                print(run + 1, args.engine, "base" if tree != ROOT else "words", *(f"{v:.2f}" for v in build(tree, args.engine)))
        return
    for run in range(args.runs):
        for mode in ("plain", "patched"):
            done = subprocess.run([sys.executable, __file__, "--one", mode], capture_output=True, text=True, check=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            print(run + 1, mode, " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
