"""Drive a ``CounterAssistant`` with ``(role, text)`` turns and collect what it suggested."""

from __future__ import annotations

from agents.counter.assistant import CounterAssistant, RecommendationOutcome
from agents.counter.conversation import Role, Segment


async def say(assistant: CounterAssistant, *turns: tuple[Role, str]) -> list[RecommendationOutcome]:
    out: list[RecommendationOutcome] = []
    t = float(len(assistant.state.turns))
    for role, text in turns:
        identity = "carla-balcao-1" if role == "atendente" else "cliente-7"
        out.extend(await assistant.on_segment(Segment(identity, role, text, t, t + 1.0)))
        t += 1.0
    return out


def products(outcomes: list[RecommendationOutcome]) -> list[str]:
    return [o.event["produto"] for o in outcomes]
