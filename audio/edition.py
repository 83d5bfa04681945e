"""Build one article into an edition in out/<slug>/, and describe it in edition.json."""
from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import article as article_stage
from . import lock, publish, render, sidecars, source, timeline, voice
from .config import Config
from .errors import BadInput
from .script import Script, make_script
from .tagging import Tags

log = logging.getLogger(__name__)

MANIFEST = "edition.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class BuildOptions:
    out: Path = Path("out")
    formats: tuple[str, ...] = ("mp3",)
    title: str | None = None
    slug: str | None = None
    appeal_file: Path | None = None
    no_appeal: bool = False
    voice: str | None = None
    rate: int | None = None
    config: Config = field(default_factory=Config)


@dataclass(frozen=True)
class Edition:
    slug: str
    directory: Path
    manifest: dict[str, Any]

    @property
    def audio(self) -> Path:
        return self.directory / str(self.manifest["files"][0]["name"])


def prepare(path: Path, options: BuildOptions) -> tuple[source.Document, article_stage.Article, Script]:
    """Everything before synthesis: pure, fast, and where every bad input is caught."""
    doc = source.read(path)
    appeal_doc = source.read(options.appeal_file) if options.appeal_file else None
    art = article_stage.parse(
        doc,
        options.config,
        article_stage.ArticleOptions(options.title, options.slug, appeal_doc, options.no_appeal),
    )
    return doc, art, make_script(art)


def build(path: Path, options: BuildOptions) -> Edition:
    """Source -> article -> script -> takes -> timeline -> audio + sidecars -> out/<slug>/."""
    doc, art, script = prepare(path, options)
    settings = voice.VoiceSettings(options.voice or options.config.voice, options.rate or options.config.rate)
    voice_id = voice.resolve_voice(settings.voice)
    if options.out.exists() and not options.out.is_dir():
        raise BadInput(f"--out {options.out}: is not a directory")
    final = options.out / art.slug
    publish.recover(final)
    publish.sweep(final)

    with tempfile.TemporaryDirectory(prefix="audio-edition-takes-") as work:
        takes = voice.synthesize([s.spoken for s in script.sentences], settings, Path(work))
        sample_rate = takes[0].sample_rate if takes else 22050
        plan = timeline.plan(script, [t.frames for t in takes], sample_rate, options.config.pauses)
        staging = publish.staging_dir(final)
        try:
            outputs = {fmt: staging / f"{art.slug}.{fmt}" for fmt in options.formats}
            tags = Tags(
                title=art.title,
                artist=art.publisher,
                album=f"{art.publisher} audio edition" if art.publisher else "Audio edition",
                date=art.date or dt.date.today().isoformat(),
                comment=f"Read by {voice.engine_name()} from {doc.path.name}",
            )
            render.render(takes, plan, outputs, tags)
            (staging / "chapters.json").write_text(sidecars.chapters_json(plan, art.title), encoding="utf-8")
            (staging / "transcript.vtt").write_text(sidecars.transcript_vtt(plan), encoding="utf-8")
            manifest = _manifest(doc, art, script, plan, staging, options, voice_id or voice.current_voice(), settings)
            (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            with lock.locked(options.out):
                publish.replace_dir(staging, final)
        except BaseException:
            publish.discard(staging)
            raise
    return Edition(art.slug, final, manifest)


def load(directory: Path) -> Edition:
    """Read a built edition back from its edition.json."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    return Edition(manifest["slug"], directory, manifest)


def _manifest(
    doc: source.Document,
    art: article_stage.Article,
    script: Script,
    plan: timeline.Timeline,
    staging: Path,
    options: BuildOptions,
    voice_id: str | None,
    settings: voice.VoiceSettings,
) -> dict[str, Any]:
    files: list[dict[str, Any]] = [
        {"name": f"{art.slug}.{fmt}", "type": render.MIME[fmt], "role": "audio"} for fmt in options.formats
    ] + [
        {"name": "chapters.json", "type": "application/json+chapters", "role": "chapters"},
        {"name": "transcript.vtt", "type": "text/vtt", "role": "transcript"},
    ]
    for entry in files:
        entry["bytes"] = (staging / str(entry["name"])).stat().st_size
    sentences = script.sentences
    return {
        "version": MANIFEST_VERSION,
        "slug": art.slug,
        "title": art.title,
        "publisher": art.publisher,
        "byline": art.byline,
        "date": art.date,
        "language": art.language,
        "url": art.url,
        "lede": art.paragraphs[0].text,
        "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": {
            "path": str(doc.path),
            "sha256": doc.sha256,
            "encoding": doc.encoding,
            "format": doc.format,
        },
        "engine": voice.engine_name(),
        "voice": voice_id,
        "rate": settings.rate,
        "duration_ms": plan.duration_ms,
        "files": files,
        "chapters": [
            {
                "kind": span.kind,
                "title": span.title,
                "start_ms": plan.ms(span.start),
                "end_ms": plan.ms(span.end),
                "url": span.url,
                "cues": [plan.cues[i].id for i in span.cues],
            }
            for span in plan.chapters
        ],
        "cues": [
            {
                "id": cue.id,
                "chapter": cue.chapter,
                "start_ms": plan.ms(cue.start),
                "end_ms": plan.ms(cue.end),
                "text": cue.text,
                "spoken": sentence.spoken,
            }
            for cue, sentence in zip(plan.cues, sentences)
        ],
        "residue": list(art.residue),
    }
