"""The avatar's conversation: its persona, and what watches the conversation (media triggers, usage).

Everything here works on a bare `AgentSession` (no room), so livekit-agents' text-mode runs can test
it; the room glue (`agents/avatar/profile.py`) only adds audio, the avatar and the room's text streams.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from livekit.agents import Agent, AgentSession, ConversationItemAddedEvent
from livekit.agents.metrics.usage import LLMModelUsage, STTModelUsage, TTSModelUsage

from agents.profiles.base import Publisher
from core.avatar.credits import Usage
from core.avatar.triggers import MEDIA_TOPIC, Source, Trigger, TriggerMatcher
from db import avatar as repo
from db.tenancy import tenant_connection

log = logging.getLogger("escuta.avatar")

STATUS_TOPIC = "escuta.avatar.status"  # avatar availability and credit warnings (docs/avatar.md)
STATUS_ATTRIBUTE = "escuta.avatar.status"  # on the agent participant: "ready" | "unavailable" | "ending"
REASON_ATTRIBUTE = "escuta.avatar.reason"


@dataclass(frozen=True)
class AvatarConfig:
    avatar_id: str
    instructions: str
    language: str
    tts_provider: str
    voice_id: str
    greeting: str | None = None


async def load_config(pool: asyncpg.Pool, org_id: UUID) -> tuple[AvatarConfig | None, list[Trigger]]:
    async with tenant_connection(pool, org_id) as conn:
        row = await repo.get_config(conn, org_id)
        triggers = [Trigger.from_row(r) for r in await repo.list_triggers(conn, org_id, enabled_only=True)]
    if row is None:
        return None, triggers
    config = AvatarConfig(
        row["avatar_id"], row["instructions"], row["language"], row["tts_provider"], row["voice_id"], row["greeting"]
    )
    return config, triggers


class AvatarAgent(Agent):
    """The persona: the organization's instructions, answering in its language (pt-BR by default)."""

    def __init__(self, config: AvatarConfig) -> None:
        language = f"Always answer in the language {config.language}, in short spoken sentences (no markdown)."
        super().__init__(instructions=f"{config.instructions.strip()}\n\n{language}".strip())
        self.config = config

    async def on_enter(self) -> None:
        if self.config.greeting:
            self.session.say(self.config.greeting)


class MediaWatcher:
    """Sends a `media` event when the visitor's or the agent's words match a trigger (cooldown per trigger)."""

    def __init__(self, matcher: TriggerMatcher, publisher: Publisher) -> None:
        self.matcher = matcher
        self.publisher = publisher
        self.sent: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, session: AgentSession[Any]) -> None:
        session.on("conversation_item_added", self._on_item)

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if item.type != "message" or item.role not in ("user", "assistant"):
            return
        self.feed(item.text_content or "", "visitor" if item.role == "user" else "agent")

    def feed(self, text: str, source: Source) -> None:
        for match in self.matcher.feed(text):
            event = match.event(source)
            self.sent.append(event)
            task = asyncio.create_task(self._send(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, event: dict[str, Any]) -> None:
        try:
            await self.publisher.send_text(MEDIA_TOPIC, json.dumps(event, ensure_ascii=False))
        except Exception:  # a closed room must not end the conversation
            log.warning("media event %s could not be sent", event["triggerId"], exc_info=True)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def session_usage(session: AgentSession[Any], *, avatar_seconds: float) -> Usage:
    """What the session consumed, from livekit-agents' own per-model usage counters."""
    usage = Usage(avatar_seconds=avatar_seconds)
    for u in session.usage.model_usage:
        if isinstance(u, LLMModelUsage):
            usage.llm_tokens += u.input_tokens + u.output_tokens
        elif isinstance(u, TTSModelUsage):
            usage.tts_characters += u.characters_count
        elif isinstance(u, STTModelUsage):
            usage.stt_seconds += u.audio_duration
    return usage
