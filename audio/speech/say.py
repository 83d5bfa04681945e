"""Audition a word or phrase: its spoken form with the publisher's lexicon, eSpeak's phonemes, and a WAV to play."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

from .. import publish, tools
from ..config import Config, normalize_tag
from ..errors import BadInput
from ..text import language as languages
from ..text import lexicon, normalize
from . import voice
from .synthesis import synthesize
from .takes import VoiceSettings


class Said(NamedTuple):
    text: str
    spoken: str
    language: str
    voice: str
    phonemes: str | None  # eSpeak's own phoneme reading (espeak-ng -x), where the program is installed
    wav: Path


def say(text: str, config: Config, out: Path, lang: str | None = None, wanted_voice: str | None = None,
        rate: int | None = None, engine: str | None = None) -> Said:
    """Speak text as a build would (normalizer, lexicon, the language's voice) into the WAV file out."""
    if not text.strip():
        raise BadInput("say: give a word or phrase to speak")
    tag = normalize_tag(lang) if lang else None
    if lang and tag is None:
        raise BadInput(f"--lang '{lang}': not a language tag (for example en, fr, pt-br)")
    language = languages.choose(tag, None, text)
    words = lexicon.load(Path(config.lexicon)) if config.lexicon else None
    spoken = normalize.speak(text, language, words).text
    speaking = engine or config.engine or "pyttsx3"
    voice_id = voice.choose(language, wanted_voice or config.voice, speaking)
    if out.is_dir():
        raise BadInput(f"--out {out}: is a directory; give a .wav file name")
    with tempfile.TemporaryDirectory(prefix="audio-edition-say-") as work:
        take = synthesize([spoken], VoiceSettings(voice_id, rate or config.rate, engine=speaking), Path(work))[0]
        publish.write_atomic(out, take.path.read_bytes())  # (a phrase: small) nothing half-written left at `out`
    return Said(text, spoken, language, voice_id, _phonemes(spoken, voice_id, speaking), out)


def _phonemes(spoken: str, voice_id: str, engine: str) -> str | None:
    """What the engine's phonemizer makes of the spoken text: eSpeak's phoneme names, or for Piper the IPA
    its model receives (lexicon phonemes translated as a take's are)."""
    if engine == "piper":
        from . import piper_engine

        info = piper_engine.voice_info(voice_id)
        model = piper_engine.load(info, piper_engine.THREADS)
        return " ".join("".join(sentence) for sentence in model.phonemize(piper_engine.with_ipa(spoken, info)))
    program = shutil.which("espeak-ng")
    if program is None:
        return None
    done = tools.run([program, "-q", "-x", "-v", voice_id, spoken], program="espeak-ng")
    return " ".join(done.stdout.decode("utf-8", "replace").split())
