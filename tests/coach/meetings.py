"""Constructed meetings: one track per participant on one clock (espeak-ng voices placed with sox).

`problem_meeting` holds every situation the coach must flag; `control_meeting` is a well-behaved one
(normal levels, turns taken in order, short pauses) on which nothing may fire.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from livekit import rtc

from agents.audio import AudioChain, AudioChainConfig, frames_from_array, load_silero
from agents.coach.runner import CoachRunner
from tests.coach.speech import Int16, build_track, espeak

HOST_META = '{"roles":["host"],"name":"Ana"}'
NAMES = {"bruno": "Bruno", "carla": "Carla", "davi": "Davi", "eva": "Eva", "fabio": "Fábio"}

MONOLOGUE = (
    "Quero apresentar os resultados do trimestre com calma. As vendas cresceram em todas as regiões do país. "
    "O time do sul superou a meta pela primeira vez neste ano. No nordeste abrimos duas lojas novas em março. "
    "Os custos de logística caíram depois da troca de fornecedor. O atendimento ao cliente melhorou bastante. "
    "Recebemos menos reclamações e respondemos mais rápido. A equipe de tecnologia entregou o novo aplicativo. "
    "Os usuários gostaram da busca e do pagamento por aproximação. Ainda temos problemas com o estoque em "
    "algumas cidades. Vamos contratar mais duas pessoas para o centro de distribuição. O orçamento do próximo "
    "trimestre já foi aprovado. Precisamos revisar as prioridades do marketing digital. Também quero falar "
    "sobre o treinamento das lideranças. Cada gerente vai participar de quatro encontros ao longo do semestre. "
    "Obrigado pela atenção de todos."
)

# participant -> [(start s, text, voice, active level dBFS)]
Plan = dict[str, list[tuple[float, str, str, float]]]

PROBLEM: Plan = {
    "ana": [
        (0.5, "Bom dia a todos, vamos começar a reunião.", "pt-br+f3", -20.0),
        (118.0, "Bom, acho que podemos encerrar por hoje.", "pt-br+f3", -20.0),
    ],
    # Too quiet: about 26 dB under a normal voice.
    "bruno": [
        (5.0, "Eu tenho uma pergunta sobre o cronograma do projeto.", "pt-br+m3", -46.0),
        (9.5, "Quando vamos receber os novos equipamentos?", "pt-br+m3", -46.0),
    ],
    # Shouting into the microphone: hot enough to clip.
    "carla": [
        (14.0, "Isso é inaceitável, o prazo já passou faz tempo!", "pt-br+f2", 0.0),
        (18.0, "Precisamos resolver isso hoje mesmo!", "pt-br+f2", 0.0),
    ],
    # Eva starts, Fábio talks over her for about two seconds.
    "eva": [(23.0, "Eu acho que devemos conversar com o fornecedor antes de decidir.", "pt-br+f4", -22.0)],
    "fabio": [(24.5, "Não, não, precisamos decidir agora mesmo sem esperar ninguém.", "pt-br+m2", -22.0)],
    # A monologue of about 60 s, then 25 s in which nobody speaks.
    "davi": [(31.0, MONOLOGUE, "pt-br", -22.0)],
}
PROBLEM_LENGTH = 123.0

CONTROL: Plan = {
    "ana": [
        (0.5, "Bom dia a todos, vamos começar a reunião.", "pt-br+f3", -20.0),
        (36.0, "Ótimo, obrigada a todos pela participação.", "pt-br+f3", -20.0),
    ],
    "bruno": [(4.5, "Eu tenho uma pergunta sobre o cronograma do projeto.", "pt-br+m3", -24.0)],
    "carla": [(9.0, "O prazo está apertado mas acho que conseguimos.", "pt-br+f2", -19.0)],
    "davi": [
        (13.5, "As vendas cresceram em todas as regiões do país.", "pt-br", -22.0),
        (17.5, "O time do sul superou a meta pela primeira vez neste ano.", "pt-br", -22.0),
    ],
    "eva": [(25.0, "Devemos conversar com o fornecedor antes de decidir.", "pt-br+f4", -23.0)],
    "fabio": [(30.0, "Concordo, vamos marcar uma conversa com eles.", "pt-br+m2", -21.0)],
}
CONTROL_LENGTH = 41.0

# The live meeting (the profile through a room, and its replay): a host, a participant far too quiet,
# and two who overlap by about 2.6 s. Kept short because the test server relays audio in real time.
# LIVE_LEAD seconds of silence first: audio sent before the agent subscribes to a track is lost, and
# the lead keeps every line after that moment. Gaps of >= 0.6 s between the other lines keep any
# misalignment between tracks (each is clocked from its own subscription) from making extra overlaps.
LIVE_LEAD = 3.0
LIVE: Plan = {
    "ana": [(LIVE_LEAD + 0.3, "Bom dia a todos, vamos começar a reunião.", "pt-br+f3", -20.0)],
    "bruno": [
        (LIVE_LEAD + 3.8, "Eu tenho uma pergunta sobre o cronograma do projeto.", "pt-br+m3", -46.0),
        (LIVE_LEAD + 7.6, "Quando vamos receber os novos equipamentos?", "pt-br+m3", -46.0),
    ],
    "eva": [(LIVE_LEAD + 11.0, "Eu acho que devemos conversar com o fornecedor antes de decidir.", "pt-br+f4", -22.0)],
    "fabio": [(LIVE_LEAD + 12.5, "Não, não, precisamos decidir agora mesmo sem esperar ninguém.", "pt-br+m2", -22.0)],
}
LIVE_LENGTH = LIVE_LEAD + 18.0


@dataclass
class Meeting:
    tracks: dict[str, Int16]
    paths: dict[str, Path]
    length: float


def build(plan: Plan, length: float, out_dir: Path) -> Meeting:
    out_dir.mkdir(parents=True, exist_ok=True)
    tracks, paths = {}, {}
    for who, lines in plan.items():
        clips = [(start, espeak(text, voice), level) for start, text, voice, level in lines]
        paths[who] = out_dir / f"{who}.wav"
        tracks[who] = build_track(clips, length, paths[who])
    return Meeting(tracks, paths, length)


def multichannel(meeting: Meeting, order: list[str], out: Path) -> Path:
    """One WAV with a channel per participant (in `order`), for `escuta replay --speakers N`."""
    subprocess.run(["sox", "-V1", "-M", *(str(meeting.paths[w]) for w in order), str(out)], check=True)
    return out


def join_all(runner: CoachRunner, meeting: Meeting, *, host: str | None = "ana") -> None:
    for who in meeting.tracks:
        runner.join(who, metadata=HOST_META if who == host else None, name=NAMES.get(who))


def frames_round_robin(meeting: Meeting, frame_ms: int = 20) -> Iterator[list[tuple[str, rtc.AudioFrame]]]:
    iters = {who: frames_from_array(x, 16000, frame_ms) for who, x in meeting.tracks.items()}
    while iters:
        step = []
        for who in list(iters):
            f = next(iters[who], None)
            if f is None:
                del iters[who]
            else:
                step.append((who, f))
        if step:
            yield step


def replay(runner: CoachRunner, meeting: Meeting) -> None:
    """Every participant's track through its own audio chain, interleaved frame by frame (one clock)."""
    model = load_silero()
    chains = {who: AudioChain(AudioChainConfig(), vad_model=model) for who in meeting.tracks}
    for step in frames_round_robin(meeting):
        for who, frame in step:
            for ev in chains[who].push(frame):
                runner.on_event(who, ev)
    for who, chain in chains.items():
        for ev in chain.close():
            runner.on_event(who, ev)
