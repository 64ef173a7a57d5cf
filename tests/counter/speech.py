"""A recorded counter dialogue: espeak-ng pt-br voices, one channel (participant) per role.

The local Whisper model is English-only, so the speech-to-text stub answers with the dialogue's
script instead (``ScriptedTranscripts``): the audio is real speech that goes through the VAD, the
segmenter and the provider protocol, and the stub gives back the line that audio was made from.

    .venv/bin/python -m tests.counter.speech OUT.wav   # the fixture as a stereo file (cliente, atendente)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agents.counter.conversation import Role
from agents.counter.quality import Dialogue, parse_dialogue
from tests.transcription.speech import SR, Int16, espeak, write_wav

RECORDED = Path(__file__).parent / "recorded" / "balcao_cabeca_nariz.txt"
VOICES: dict[Role, str] = {"cliente": "pt-br+f3", "atendente": "pt-br"}  # a woman customer, a man clerk
CHANNEL: dict[Role, int] = {"cliente": 0, "atendente": 1}  # replay: speaker-1 customer, speaker-2 device


@dataclass(frozen=True)
class Line:
    role: Role
    text: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class CounterRecording:
    dialogue: Dialogue
    channels: list[Int16]  # [cliente, atendente], the same length
    lines: list[Line]

    def of(self, role: Role) -> list[Line]:
        return [x for x in self.lines if x.role == role]


def record_dialogue(dialogue: Dialogue, *, lead: float = 0.8, gap: float = 1.3) -> CounterRecording:
    """Turns one after the other on their role's channel, silence on the other; `gap` is well above
    the VAD's end-of-speech silence, so each line is one utterance and lines end in script order."""
    clips = [(role, text, espeak(text, voice=VOICES[role])) for role, text in dialogue.turns]
    total = int((lead + sum(len(c) / SR + gap for _r, _t, c in clips)) * SR)
    channels = [np.zeros(total, np.int16), np.zeros(total, np.int16)]
    lines, pos = [], int(lead * SR)
    for role, text, clip in clips:
        channels[CHANNEL[role]][pos : pos + len(clip)] = clip
        lines.append(Line(role, text, pos / SR, (pos + len(clip)) / SR))
        pos += len(clip) + int(gap * SR)
    return CounterRecording(dialogue, channels, lines)


def recorded_dialogue() -> CounterRecording:
    return record_dialogue(parse_dialogue(RECORDED.stem, RECORDED.read_text(encoding="utf-8")))


@dataclass
class ScriptedTranscripts:
    """The stub's ``transcript_for``: the script line a request's audio was made from.

    Lines end in script order with long gaps, so requests arrive in that order; the duration check
    (an utterance is its line plus the VAD's pre/post roll) catches a mismatch instead of shifting
    every later answer, and then the unused line of the nearest duration is taken.
    """

    lines: list[Line]
    used: list[int] = field(default_factory=list)

    def __call__(self, provider: str, seconds: float) -> str:
        free = [i for i in range(len(self.lines)) if i not in self.used]
        if not free:
            return ""
        nxt = free[0]
        # Measured: the VAD adds 0.35-0.55 s around a line (pre-roll plus the end-of-speech silence).
        if not 0.1 <= seconds - self.lines[nxt].seconds <= 0.9:
            nxt = min(free, key=lambda i: abs(seconds - 0.45 - self.lines[i].seconds))
        self.used.append(nxt)
        return self.lines[nxt].text


if __name__ == "__main__":
    rec = recorded_dialogue()
    write_wav(Path(sys.argv[1]), rec.channels)
    for line in rec.lines:
        print(f"{line.start:6.2f} {line.end:6.2f} {line.role}: {line.text}")
