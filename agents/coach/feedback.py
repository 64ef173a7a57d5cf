"""Feedback events in seed 002's payload, their Portuguese messages, and who receives them.

Payload (exactly seed 002's keys; times in epoch milliseconds):

    {"id": "fb-<uuid>", "type": "volume_baixo", "severity": "warning", "ts": 1731368534123,
     "meetingId": "RM_123", "participantId": "user_abc",
     "window": {"start": 1731368531000, "end": 1731368534000},
     "message": "Fulano: volume baixo; aproxime-se do microfone.", "tips": ["..."],
     "metadata": {"rmsDbfs": -29.7, "speechCoverage": 0.62, ...}}

`participantId` is null only for `silencio_prolongado`, which is about the meeting, not a person.
Events travel to hosts as text streams on `FEEDBACK_TOPIC`, addressed to the hosts' identities.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

FEEDBACK_TOPIC = "escuta.coach.feedback"

FeedbackType = Literal[
    "volume_baixo",
    "volume_alto",
    "silencio_prolongado",
    "overlap_fala",
    "monologo_prolongado",
    "tom_monotono",
    "fala_acelerada",
]
FEEDBACK_TYPES: tuple[FeedbackType, ...] = get_args(FeedbackType)
Severity = Literal["info", "warning", "critical"]

TIPS: dict[FeedbackType, list[str]] = {
    "volume_baixo": ["Verifique entrada de áudio", "Peça para aproximar-se do microfone"],
    "volume_alto": ["Peça para afastar-se do microfone", "Verifique o ganho do microfone"],
    "silencio_prolongado": ["Faça uma pergunta aberta ao grupo", "Retome a pauta"],
    "overlap_fala": ["Combine a vez de falar", "Peça que um termine antes do outro começar"],
    "monologo_prolongado": ["Convide outras pessoas a participar", "Sugira uma pausa para perguntas"],
    "tom_monotono": ["Sugira variar a entonação", "Destaque os pontos principais com pausas"],
    "fala_acelerada": ["Peça para falar mais devagar", "Sugira pausas entre as ideias"],
}


def message(kind: FeedbackType, name: str | None, **facts: Any) -> str:
    """The Portuguese text the host reads; it names the participant (or the other speaker)."""
    who = name or "Participante"
    match kind:
        case "volume_baixo":
            return f"{who}: volume baixo; aproxime-se do microfone."
        case "volume_alto":
            return f"{who}: volume alto; afaste-se do microfone ou reduza o ganho."
        case "silencio_prolongado":
            return f"Silêncio prolongado: ninguém fala há {facts['seconds']:.0f} s."
        case "overlap_fala":
            return f"{who} e {facts['other']} estão falando ao mesmo tempo."
        case "monologo_prolongado":
            return f"{who} fala há {facts['seconds']:.0f} s sem pausa; abra espaço para os outros."
        case "tom_monotono":
            return f"{who}: tom de voz monótono; varie a entonação."
        case "fala_acelerada":
            return f"{who}: fala acelerada; fale mais devagar."
    raise ValueError(kind)  # pragma: no cover


@dataclass(frozen=True)
class Feedback:
    """One event. Times are on the session clock (seconds); `payload()` converts them to epoch ms."""

    type: FeedbackType
    severity: Severity
    meeting_id: str
    participant_id: str | None
    window_start: float
    window_end: float
    detected_at: float  # session time at which the coach knew (>= window_end)
    message: str
    tips: list[str]
    metadata: dict[str, Any]
    id: str = field(default_factory=lambda: f"fb-{uuid.uuid4()}")

    def payload(self, clock_origin: float, *, sent_at: float | None = None) -> dict[str, Any]:
        """Seed 002's JSON. `clock_origin` is the epoch time of session-clock zero; `ts` is when it is sent."""

        def ms(t: float) -> int:
            return round((clock_origin + t) * 1000)

        ts = round(sent_at * 1000) if sent_at is not None else ms(self.detected_at)
        # The window is on the participant's audio clock, anchored to wall time when the track started;
        # frames the network delivers in a burst can put that clock a few ms ahead of the wall clock
        # (CI once saw the end 7 ms after `ts`). A window cannot end after the event about it was sent.
        end = min(ms(self.window_end), ts)
        start = min(ms(self.window_start), end)
        return {
            "id": self.id,
            "type": self.type,
            "severity": self.severity,
            "ts": ts,
            "meetingId": self.meeting_id,
            "participantId": self.participant_id,
            "window": {"start": start, "end": end},
            "message": self.message,
            "tips": list(self.tips),
            "metadata": dict(self.metadata),
        }

    def to_json(self, clock_origin: float, *, sent_at: float | None = None) -> str:
        return json.dumps(self.payload(clock_origin, sent_at=sent_at), ensure_ascii=False)


@dataclass(frozen=True)
class Delivery:
    """A feedback event and the host identities it goes to (empty: record only, send nothing)."""

    feedback: Feedback
    recipients: tuple[str, ...]
