"""Audition a word or phrase: its spoken form with the publisher's lexicon, eSpeak's phonemes, and a WAV to play."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from . import language as languages
from . import lexicon, normalize, publish, tools, voice
from .config import Config
from .errors import BadInput


class Said(NamedTuple):
    text: str
    spoken: str
    language: str
    voice: str
    phonemes: str | None  # eSpeak's own phoneme reading (espeak-ng -x), where the program is installed
    wav: Path


def say(text: str, config: Config, out: Path, lang: str | None = None, wanted_voice: str | None = None,
        rate: int | None = None) -> Said:
    """Speak text as a build would (normalizer, lexicon, the language's voice) into the WAV file out."""
    if not text.strip():
        raise BadInput("say: give a word or phrase to speak")
    tag = languages.normalize_tag(lang) if lang else None
    if lang and tag is None:
        raise BadInput(f"--lang '{lang}': not a language tag (for example en, fr, pt-br)")
    language = languages.choose(tag, None, text)
    words = lexicon.load(Path(config.lexicon)) if config.lexicon else None
    spoken = normalize.speak(text, language, words).text
    chosen = wanted_voice or config.voice or voice.voice_for_language(language)
    if chosen is None:
        raise BadInput(f"no voice speaks '{language}': pick one with --voice (see 'audio-edition voices')")
    voice_id = voice.resolve_voice(chosen) or chosen
    if out.is_dir():
        raise BadInput(f"--out {out}: is a directory; give a .wav file name")
    with tempfile.TemporaryDirectory(prefix="audio-edition-say-") as work:
        take = voice.synthesize([spoken], voice.VoiceSettings(voice_id, rate or config.rate), Path(work), jobs=1)[0]
        publish.write_atomic(out, take.path.read_bytes())  # (a phrase: small) nothing half-written left at `out`
    return Said(text, spoken, language, voice_id, _phonemes(spoken, voice_id), out)


def _phonemes(spoken: str, voice_id: str) -> str | None:
    program = shutil.which("espeak-ng")
    if program is None:
        return None
    done = tools.run([program, "-q", "-x", "-v", voice_id, spoken], program="espeak-ng")
    return " ".join(done.stdout.decode("utf-8", "replace").split())
