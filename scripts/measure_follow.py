"""How long from an item appearing in a site's feed to its episode in out/feed.xml, with `follow --every`.

Run: .venv/bin/python scripts/measure_follow.py [--every 10] [--runs 5]
A local server (tests/localsite.py) serves the feed and the pages; `audio-edition follow FEED --every Ns`
runs as a process of its own. Each run publishes a new item at a random moment of the poll cycle and
times, from the server's request log and out/feed.xml: the wait for the next poll, the fetches (the feed
and the page) and the rest (build, catalogue and feed).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.localsite import Route, page, rss, running  # noqa: E402

PLACES = ("Riverside", "Hillford", "Marsh End", "Oakley", "Stonebridge", "Ashby", "Kingsmoor", "Westerby")


def paragraphs(n: int) -> tuple[str, ...]:
    """Every story its own sentences: none of its takes is in the cache yet."""
    place = PLACES[n % len(PLACES)]
    return (f"The {place} council met on Monday evening to discuss budget plan number {n} for the coming year.",
            f"Members in {place} agreed to spend {n + 3} thousand more on libraries and less on road signs.",
            f"A vote on the {place} plan, the {n + 1}th this year, is expected before the end of the month.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(27)
    rows = []
    with running() as site, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        cfg = Path(tmp) / "publisher.toml"
        cfg.write_text('publisher = "Local"\n[feed]\ntitle = "Local"\ndescription = "News"\nlink = "https://example.org/"\n'
                       'language = "en"\nowner_email = "a@example.org"\ncategory = "News"\nexplicit = false\n'
                       'base_url = "https://example.org/audio/"\n', encoding="utf-8")
        items: list[tuple[str, str, str]] = []

        def publish(n: int) -> None:
            site.routes[f"/news/story-{n}.html"] = Route(page(f"Council story number {n}", *paragraphs(n)).encode())
            items.append((f"story-{n}", site.url(f"/news/story-{n}.html"), "Mon, 07 Dec 2026 08:00:00 +0000"))
            site.routes["/rss.xml"] = Route(rss(items, site.url("/")), etag=f'"v{n}"',
                                            headers={"Content-Type": "application/rss+xml"})

        publish(0)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "AUDIO_EDITION_CACHE": str(Path(tmp) / "cache")}
        command = [sys.executable, "-m", "audio", "follow", site.url("/rss.xml"), "--every", f"{args.every:g}s",
                   "--delay", "0", "--out", str(out), "--config", str(cfg)]
        errors = open(Path(tmp) / "stderr", "w+", encoding="utf-8")
        with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors) as process:
            try:
                while "Council story number 0" not in _feed(out):
                    if process.poll() is not None:
                        errors.seek(0)
                        sys.exit(f"follow ended: {errors.read()}")
                    time.sleep(0.05)
                for n in range(1, args.runs + 1):
                    time.sleep(rng.uniform(0, args.every))
                    published = time.monotonic()
                    publish(n)
                    while f"Council story number {n}" not in _feed(out):
                        time.sleep(0.02)
                    listed = time.monotonic()
                    feed = next(r for r in site.asked("/rss.xml") if r.at >= published)
                    asked_page = site.asked(f"/news/story-{n}.html")[0]
                    rows.append((listed - published, feed.at - published, asked_page.at - feed.at, listed - asked_page.at))
                    print(f"run {n}: {rows[-1][0]:.2f} s = poll wait {rows[-1][1]:.2f} + feed to page request "
                          f"{rows[-1][2]:.3f} + page fetch, build and feed {rows[-1][3]:.2f}", flush=True)
            finally:
                process.terminate()
    for label, column in (("total", 0), ("poll wait", 1), ("feed to page request", 2), ("page, build, feed", 3)):
        print(f"{label}: median {statistics.median(r[column] for r in rows):.2f} s "
              f"(min {min(r[column] for r in rows):.2f}, max {max(r[column] for r in rows):.2f})")


def _feed(out: Path) -> str:
    try:
        return (out / "feed.xml").read_text(encoding="utf-8")
    except OSError:
        return ""


if __name__ == "__main__":
    main()
