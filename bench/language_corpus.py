"""The language evaluation corpus: pt-BR and English speech made with espeak-ng, and audio to reject.

Every clip is one utterance, as the audio chain would cut it (16 kHz mono int16). Speech comes from
espeak-ng's formant voices (several variants and speeds), counter and meeting sentences, some mixed
with noise by sox; the audio a provider must refuse to transcribe is Portuguese for an English-only
model (`reject_pt_to_en`), music-like signals, TV-like noise (babble of reversed speech under hiss)
and silence. Each clip belongs to the `tune` half (for choosing the rejection thresholds) or the
`holdout` half (for reporting them): sentences alternate between the halves, so no sentence is in both.

Clips are written once under a cache folder and reused (`build(folder)`); the corpus is a pure
function of this file, so two runs on two machines hear the same audio.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

SR = 16_000
Int16 = np.ndarray[Any, np.dtype[np.int16]]

# A pharmacy counter and a meeting, as the people Escuta is built for speak them.
PT_COUNTER = [
    "Bom dia, eu queria um remédio para dor de cabeça.",
    "Vocês têm dipirona em gotas?",
    "Quanto custa a caixa de vitamina C?",
    "O senhor tem a receita do médico?",
    "Esse antibiótico precisa de receita.",
    "Pode pagar no cartão ou no pix.",
    "Eu preciso de um xarope para tosse seca.",
    "Tem protetor solar para criança?",
    "A farmácia fecha às dez da noite.",
    "Vou levar também uma pomada para assaduras.",
    "Qual é o genérico mais barato desse remédio?",
    "Minha filha está com febre desde ontem.",
]
PT_MEETING = [
    "Bom dia a todos e obrigado por participarem da reunião.",
    "Vamos revisar os números do último trimestre.",
    "O lançamento está previsto para o fim do mês.",
    "Alguém tem perguntas sobre o orçamento?",
    "Então podemos passar para o próximo assunto.",
    "Precisamos contratar mais duas pessoas para a equipe.",
    "O cliente pediu uma nova versão da proposta.",
    "Eu vou mandar o relatório por email hoje à tarde.",
    "A próxima reunião fica marcada para quinta-feira.",
    "As vendas cresceram dez por cento em relação ao ano passado.",
    "Temos que resolver o problema do sistema até sexta.",
    "Obrigado a todos, até a semana que vem.",
]
EN_COUNTER = [
    "Good morning, I would like something for a headache.",
    "Do you have this medicine in a smaller box?",
    "How much is the bottle of vitamin C?",
    "Do you have the prescription from your doctor?",
    "This antibiotic needs a prescription.",
    "You can pay by card or in cash.",
    "I need a syrup for a dry cough.",
    "Is there a sunscreen for children?",
    "The pharmacy closes at ten in the evening.",
    "I will also take a cream for the rash.",
    "What is the cheapest generic of this medicine?",
    "My daughter has had a fever since yesterday.",
]
EN_MEETING = [
    "Good morning everyone and thanks for joining the meeting today.",
    "Let us look at the numbers from the last quarter.",
    "The new release is planned for the end of the month.",
    "Does anyone have questions about the budget?",
    "Then we can move on to the next topic.",
    "We need to hire two more people for the team.",
    "The customer asked for a new version of the proposal.",
    "I will send the report by email this afternoon.",
    "The next meeting is on Thursday morning.",
    "Sales grew ten percent compared with last year.",
    "We have to fix the problem with the system by Friday.",
    "Thank you all, see you next week.",
]
# Good English that looks like what the rules refuse, so that false rejection is measured honestly:
# one-word answers, numbers, English with Portuguese words in it (code-switching at a Brazilian counter)
# and English with a Brazilian accent. espeak-ng has no such voice: the `pt-br` voice reads the
# sentences respelled as a Brazilian hears them ("ai uld laik", Portuguese vowels, prosody and rhythm).
EN_SHORT = ["Okay.", "Yes.", "No.", "Sure.", "Right.", "Okay, thanks.", "Yes, please.", "Hello.", "Maybe.", "Got it."]
EN_NUMBERS = [
    "Forty two.",
    "Three, seven, nine, one.",
    "It costs twelve fifty.",
    "One hundred and twenty milligrams.",
    "Take two pills every eight hours.",
    "The total is eighty nine reais.",
]
EN_CODE_SWITCH = [
    "I need dipirona for my daughter.",
    "Do you have Dorflex or Neosaldina?",
    "Can I pay with pix?",
    "My mother takes losartana every morning.",
    "Is this remédio generic?",
    "I want the Buscopan, the big box.",
]
# (what was said, what the pt-br voice reads)
EN_ACCENTED = [
    ("Good morning, I would like something for a headache.", "Gud mórnin, ai uód laique sâmtin for a rédeique."),
    ("How much is the bottle of vitamin C?", "Ráu mâtch is dê bótou óf váitamin ci?"),
    ("You can pay by card or in cash.", "Iú quén pêi bai cárd ór in quéch."),
    ("I need a syrup for a dry cough.", "Ai nid a sírap for a drai cóf."),
    ("Let us look at the numbers from the last quarter.", "Lét âs luk ét dê nâmbers from dê lést quórter."),
    ("We need to hire two more people for the team.", "Uí nid tchu ráier tchu mór pípou for dê tim."),
    ("I will send the report by email this afternoon.", "Ai uíu sénd dê ripórt bai ímeil dis afternun."),
    ("Thank you all, see you next week.", "Téncs iú óu, si iú nékst uík."),
]
ADVERSARIAL = frozenset({"short", "numbers", "codeswitch", "accent"})  # the clips' condition's first word
ADVERSARIAL_VOICES = ["en-us", "en-us+m3", "en-us+f2", "en-gb+f4"]
ACCENT_VOICES = ["pt-br", "pt-br+m3", "pt-br+f2", "pt-br+f4"]

# espeak-ng formant voices and variants: male and female timbres, three speeds.
VOICES = {"pt-BR": ["pt-br", "pt-br+m3", "pt-br+f2", "pt-br+f4"], "en": ["en-us", "en-us+m3", "en-us+f2", "en-gb+f4"]}
SPEEDS = [135, 160, 185]
RENDITIONS = 4  # each sentence in this many voice/speed combinations
NOISY_EVERY = 3  # one utterance in three is mixed with noise
NOISE_SNR_DB = 15.0


@dataclass(frozen=True)
class Clip:
    id: str
    kind: str  # "speech" or "reject"
    language: str  # the language spoken ("pt-BR", "en"), or "" for non-speech
    text: str  # the reference transcript ("" for non-speech)
    split: str  # "tune" or "holdout"
    condition: str  # e.g. "clean", "noise", "music", "tv", "silence"
    path: str

    def audio(self) -> Int16:
        with wave.open(self.path) as w:
            return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).copy()


def _sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


def _read(path: Path) -> Int16:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).copy()


def _write(path: Path, x: Int16) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(x.astype(np.int16).tobytes())


def espeak(text: str, voice: str, wpm: int, out: Path) -> None:
    """One sentence as 16 kHz mono 16-bit, trimmed, with 0.2 s of silence either side (an utterance's pre-roll)."""
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text], check=True)
        # -D: no dither. sox dithers a resampled 16-bit output with random noise by default, and one least
        # significant bit is enough to flip a borderline Whisper decode: the corpus would differ per build.
        _sox(
            "-D",
            str(raw),
            "-r",
            str(SR),
            "-c",
            "1",
            "-b",
            "16",
            str(out),
            "silence",
            "1",
            "0.02",
            "0.5%",
            "reverse",
            "silence",
            "1",
            "0.02",
            "0.5%",
            "reverse",
            "pad",
            "0.2",
            "0.2",
        )


def mix_noise(clean: Path, out: Path, seed: int, snr_db: float = NOISE_SNR_DB) -> None:
    """`clean` plus pink noise `snr_db` below its speech level (sox makes the noise, numpy sets the level)."""
    x = _read(clean).astype(np.float64)
    with tempfile.TemporaryDirectory() as d:
        noise_path = Path(d) / "noise.wav"
        # -R: sox's repeatable random numbers; the seed picks where in a longer noise this clip's starts.
        _sox(
            "-R",
            "-n",
            "-r",
            str(SR),
            "-c",
            "1",
            "-b",
            "16",
            str(noise_path),
            "synth",
            f"{len(x) / SR + 4:.3f}",
            "pinknoise",
            "vol",
            "0.5",
        )
        start = int((seed % 8) * 0.5 * SR)
        n = _read(noise_path).astype(np.float64)[start : start + len(x)]
    n = np.pad(n, (0, len(x) - len(n)))
    speech_rms = np.sqrt(np.mean(x[np.abs(x) > 200] ** 2)) if np.any(np.abs(x) > 200) else 1.0
    noise_rms = np.sqrt(np.mean(n**2)) or 1.0
    y = x + n * (speech_rms / noise_rms) * 10 ** (-snr_db / 20)
    _write(out, np.clip(y, -32768, 32767).astype(np.int16))


def _speech_clips(folder: Path, language: str, sentences: list[str]) -> list[Clip]:
    """Each sentence in `RENDITIONS` voices/speeds; a sentence's renditions all go to one half."""
    clips = []
    voices = VOICES[language]
    for i, text in enumerate(sentences):
        split = "tune" if i % 2 == 0 else "holdout"
        for r in range(RENDITIONS):
            n = i * RENDITIONS + r
            voice, wpm = voices[(i + r) % len(voices)], SPEEDS[(i + 2 * r) % len(SPEEDS)]
            cid = f"{language}-{i:02d}-{r}"
            clean = folder / f"{cid}.clean.wav"
            espeak(text, voice, wpm, clean)
            condition, path = "clean", clean
            if n % NOISY_EVERY == 2:
                condition, path = "noise", folder / f"{cid}.noise.wav"
                mix_noise(clean, path, seed=n)
            clips.append(Clip(cid, "speech", language, text, split, f"{condition} {voice} {wpm}wpm", str(path)))
    return clips


def _music(folder: Path, n: int) -> Path:
    """A short tune: plucked chords or a sine melody with tremolo, 3-5 s."""
    out = folder / f"music-{n:02d}.wav"
    notes = [["C4", "E4", "G4"], ["A3", "C4", "E4"], ["F3", "A3", "C4"], ["G3", "B3", "D4"]]
    parts = []
    with tempfile.TemporaryDirectory() as d:
        for k in range(4 + n % 3):
            chord = notes[(n + k) % len(notes)]
            p = Path(d) / f"{k}.wav"
            kind = "pluck" if n % 2 == 0 else "sine"
            synth = [x for note in chord for x in (kind, note)]
            _sox(
                "-n",
                "-r",
                str(SR),
                "-c",
                "1",
                "-b",
                "16",
                str(p),
                "synth",
                "0.8",
                *synth,
                "tremolo",
                "6",
                "40",
                "gain",
                "-n",
                "-12",
            )
            parts.append(str(p))
        _sox(*parts, str(out))
    return out


def _tv(folder: Path, n: int, babble_from: list[Path]) -> Path:
    """TV in the next room: three reversed voices talking over each other, under hiss and hum."""
    out = folder / f"tv-{n:02d}.wav"
    voices = [_read(babble_from[(n + k * 5) % len(babble_from)])[::-1] for k in range(3)]
    length = max(len(v) for v in voices)
    x = np.zeros(length)
    for k, v in enumerate(voices):
        shift = int(0.3 * k * SR)
        seg = v[: max(0, length - shift)].astype(np.float64)
        x[shift : shift + len(seg)] += seg * 0.5
    t = np.arange(length) / SR
    rng = np.random.default_rng(1000 + n)
    x += 800 * rng.standard_normal(length) + 600 * np.sin(2 * np.pi * 60 * t)
    # Through a small loudspeaker: band-limited, as a television heard across a room.
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "raw.wav"
        _write(raw, np.clip(x * 0.6, -32768, 32767).astype(np.int16))
        _sox(str(raw), str(out), "sinc", "300-3400", "gain", "-n", "-14")
    return out


def _silence(folder: Path, n: int) -> Path:
    """Digital silence, or a quiet room's hiss (-60 to -50 dBFS), 1.5-4 s."""
    out = folder / f"silence-{n:02d}.wav"
    seconds = 1.5 + (n % 4) * 0.8
    rng = np.random.default_rng(2000 + n)
    level = 0 if n % 3 == 0 else 10 ** ((-60 + 5 * (n % 3)) / 20) * 32768
    _write(out, np.clip(level * rng.standard_normal(int(seconds * SR)), -32768, 32767).astype(np.int16))
    return out


def _adversarial_clips(folder: Path) -> list[Clip]:
    """Good English the rules must accept: short answers, numbers, code-switching, a Brazilian accent.
    Two renditions each (two voices, two speeds); items alternate between the halves."""
    clips = []
    groups: list[tuple[str, list[tuple[str, str]], list[str]]] = [
        ("short", [(t, t) for t in EN_SHORT], ADVERSARIAL_VOICES),
        ("numbers", [(t, t) for t in EN_NUMBERS], ADVERSARIAL_VOICES),
        ("codeswitch", [(t, t) for t in EN_CODE_SWITCH], ADVERSARIAL_VOICES),
        ("accent", EN_ACCENTED, ACCENT_VOICES),
    ]
    for group, items, voices in groups:
        for i, (said, read) in enumerate(items):
            split = "tune" if i % 2 == 0 else "holdout"
            for r in range(2):
                voice, wpm = voices[(i + 2 * r) % len(voices)], SPEEDS[(i + r) % len(SPEEDS)]
                cid = f"en-{group}-{i:02d}-{r}"
                path = folder / f"{cid}.wav"
                espeak(read, voice, wpm, path)
                clips.append(Clip(cid, "speech", "en", said, split, f"{group} {voice} {wpm}wpm", str(path)))
    return clips


def build(folder: Path) -> list[Clip]:
    """The whole corpus under `folder` (made once; a manifest marks each part complete)."""
    return _build_main(folder) + _build_adversarial(folder)


def _build_adversarial(folder: Path) -> list[Clip]:
    manifest = folder / "adversarial.json"
    if manifest.exists():
        return [Clip(**c) for c in json.loads(manifest.read_text())]
    folder.mkdir(parents=True, exist_ok=True)
    clips = _adversarial_clips(folder)
    manifest.write_text(json.dumps([asdict(c) for c in clips], indent=1))
    return clips


def _build_main(folder: Path) -> list[Clip]:
    manifest = folder / "manifest.json"
    if manifest.exists():
        return [Clip(**c) for c in json.loads(manifest.read_text())]
    folder.mkdir(parents=True, exist_ok=True)
    clips = [
        *_speech_clips(folder, "pt-BR", PT_COUNTER + PT_MEETING),
        *_speech_clips(folder, "en", EN_COUNTER + EN_MEETING),
    ]
    pt_clean = [Path(c.path) for c in clips if c.language == "pt-BR" and c.condition.startswith("clean")]
    en_clean = [Path(c.path) for c in clips if c.language == "en" and c.condition.startswith("clean")]
    for n in range(12):
        split = "tune" if n % 2 == 0 else "holdout"
        clips.append(Clip(f"music-{n:02d}", "reject", "", "", split, "music", str(_music(folder, n))))
        clips.append(Clip(f"tv-{n:02d}", "reject", "", "", split, "tv", str(_tv(folder, n, pt_clean + en_clean))))
        clips.append(Clip(f"silence-{n:02d}", "reject", "", "", split, "silence", str(_silence(folder, n))))
    manifest.write_text(json.dumps([asdict(c) for c in clips], indent=1))
    return clips
