"""The counter profile (seed 001, "Balto"): transcription plus product suggestions for the clerk.

Roles come from the tokens, never from what is said: the participant whose token carries a counter
device (``/token`` with a ``bk_`` device key puts ``escuta.role=device`` and ``escuta.device_id`` in
its attributes, and ``deviceId`` in its metadata) is the clerk (``atendente``); everyone else is a
customer (``cliente``). Each transcribed utterance goes to ``CounterAssistant``; every suggestion is
stored, then sent as seed 001's event on ``escuta.balcao.recomendacao`` to the device participants'
identities only (never to everyone: with no device in the room nothing is sent). The clerk answers
through the RPC method ``escuta.balcao.feedback`` or a text message on the same topic name.

``atendente`` in the event is the device participant's name (the token's ``userId``, which the
counter app sets to the clerk logged in), else its identity. Telling clerks apart by voice is out of
scope. A device with one microphone that hears both people would be all ``atendente`` here: the
customer must be a separate participant (or channel) until speaker separation exists. The exception is
a device bridged from seed 001's `/ws` (its token says ``escuta.microphone=shared``): as in seed 001,
everything its microphone hears is read as the conversation (role ``cliente``), and it still receives
the suggestions as the clerk's screen.

In ``escuta replay`` there are no tokens: channel 2 (``speaker-2``) plays the counter device and
channel 1 the customer, and with no organization the sample catalog and the local recommender run.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from agents.audio import SpeechEnded
from agents.counter.assistant import CounterAssistant, RecommendationOutcome
from agents.counter.conversation import Role, Segment
from agents.counter.events import (
    FEEDBACK_RPC_METHOD,
    FEEDBACK_TOPIC,
    RECOMMENDATION_TOPIC,
    encode_event,
    parse_feedback,
)
from agents.counter.recommender import LocalRecommender
from agents.counter.recommender.factory import recommender_for_org
from agents.counter.store import CounterStore, load_index
from agents.profiles.base import (
    ParticipantHandler,
    ProfileContext,
    ProfileRpcError,
    RequestHandler,
    Speaker,
    register,
)
from agents.transcription.profile import TranscriptionProfile
from core.counter.catalog import CatalogIndex, load_sample_catalog
from core.counter.wire import MICROPHONE_ATTRIBUTE, SHARED_MICROPHONE
from db.transcription import TranscriptRow

log = logging.getLogger("escuta.counter")

REPLAY_CLERK_IDENTITY = "speaker-2"  # `escuta replay --speakers 2`: the second channel is the device
FEEDBACK_HELP = 'expected {"id": "<event id>", "feedback": "aceito" | "rejeitado"}'


def device_of(speaker: Speaker) -> uuid.UUID | None:
    """The counter device id a participant's token carries, or None (customers, hosts, guests)."""
    raw: object = None
    if speaker.attributes.get("escuta.role") == "device":
        raw = speaker.attributes.get("escuta.device_id")
    if raw is None and speaker.metadata:
        try:
            meta = json.loads(speaker.metadata)
        except ValueError:
            meta = None
        if isinstance(meta, dict) and "device" in (meta.get("roles") or []):
            raw = meta.get("deviceId")
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def shared_microphone(speaker: Speaker) -> bool:
    """A device whose one microphone hears customer and clerk (seed 001's `/ws` devices, bridged)."""
    return speaker.attributes.get(MICROPHONE_ATTRIBUTE) == SHARED_MICROPHONE


def clerk_name(speaker: Speaker) -> str:
    """What the event's ``atendente`` says: the token's name (``userId``), else the identity."""
    return speaker.name or speaker.identity


@register
class CounterProfile(TranscriptionProfile):
    name = "counter"
    # The counter's TV or radio must not reach speech-to-text as the customer's words (issue 19).
    rejects_background = True

    def __init__(self) -> None:
        super().__init__()
        self.assistant: CounterAssistant | None = None
        self.devices: dict[str, uuid.UUID | None] = {}  # clerk identity -> device id (None in a replay)
        self.store: CounterStore | None = None
        self.counter: dict[str, int] = {
            "recommendations": 0,
            "delivered": 0,
            "undelivered": 0,
            "feedback": 0,
            "feedback_refused": 0,
            "counter_store_errors": 0,
        }
        self.event_latency_ms: list[float] = []  # utterance cut by the VAD -> event handed to the room
        self.event_own_ms: list[float] = []  # the same minus the speech-to-text provider's time
        self._cut_at: dict[str, float] = {}  # speaker key -> perf_counter of its current utterance's cut
        self._stt_seconds = 0.0
        self._stt_provider: str | None = None

    async def start(self, ctx: ProfileContext) -> None:
        await super().start(ctx)
        org = ctx.session.org_id
        if ctx.pool is not None and org is not None:
            index = await load_index(ctx.pool, org)
            if not index.items:
                log.warning("counter: organization %s has an empty catalog; nothing will be suggested", org)
            recommender = await recommender_for_org(ctx.settings, index, org_id=org, pool=ctx.pool)
        else:
            # Offline (a replay without an organization): the demo catalog, never a network call.
            index = CatalogIndex(load_sample_catalog())
            recommender = LocalRecommender(index)
        self.assistant = CounterAssistant(index, recommender)

    # --- roles ---------------------------------------------------------------------------------------

    def is_clerk(self, speaker: Speaker) -> bool:
        if speaker.identity in self.devices:
            return True
        device = device_of(speaker)
        org = self.ctx.session.org_id if self.ctx else None
        claimed_org = speaker.attributes.get("escuta.org_id")
        if device is not None and (org is None or claimed_org in (None, str(org))):
            self._learn_clerk(speaker, device)
            return True
        replay = self.ctx is not None and self.ctx.session.room_name.startswith("replay:")
        if replay and speaker.identity == REPLAY_CLERK_IDENTITY:
            self._learn_clerk(speaker, None)
            return True
        return False

    def _learn_clerk(self, speaker: Speaker, device: uuid.UUID | None) -> None:
        self.devices[speaker.identity] = device
        if self.assistant is not None and not self.assistant.atendente:
            self.assistant.atendente = clerk_name(speaker)

    def participant(self, speaker: Speaker) -> ParticipantHandler:
        self.is_clerk(speaker)  # a device is known from its first track, before it says anything
        return super().participant(speaker)

    # --- utterances ----------------------------------------------------------------------------------

    async def handle(self, speaker: Speaker, utt: SpeechEnded, received: float) -> None:
        # A speaker's utterances are handled one at a time by its own task, so the cut time of the
        # utterance now in flight is unambiguous when `on_transcript` runs.
        self._cut_at[_key(speaker)] = received
        await super().handle(speaker, utt, received)

    async def on_transcript(self, speaker: Speaker, row: TranscriptRow) -> None:
        if row.status != "ok" or self.assistant is None:
            return
        self._stt_seconds += max(0.0, row.end_s - row.start_s)
        self._stt_provider = row.provider or self._stt_provider
        clerk = self.is_clerk(speaker)
        role: Role = "atendente" if clerk and not shared_microphone(speaker) else "cliente"
        if self.devices:
            await self._open_store()  # the interaction exists (and is costed) even with no suggestion
        if not row.text:
            return
        outcomes = await self.assistant.on_segment(Segment(speaker.identity, role, row.text, row.start_s, row.end_s))
        for outcome in outcomes:
            await self._deliver(outcome)
            cut = self._cut_at.get(_key(speaker))
            if cut is not None:
                total = (time.perf_counter() - cut) * 1000
                self.event_latency_ms.append(total)
                self.event_own_ms.append(max(0.0, total - (row.provider_ms or 0.0)))

    async def _deliver(self, outcome: RecommendationOutcome) -> None:
        assert self.ctx is not None
        self.counter["recommendations"] += 1
        store = await self._open_store()
        if store is not None:
            # Stored before it is sent, so feedback on it can never arrive for an unknown id.
            try:
                await store.record(outcome)
            except Exception:
                self.counter["counter_store_errors"] += 1
                log.exception("storing a counter recommendation failed")
        to = sorted(self.devices)
        if not to:
            # Never `to=None`: that would broadcast to the customers.
            self.counter["undelivered"] += 1
            log.warning("counter: no device in session %s; suggestion not sent", self.ctx.session.meeting_id)
            return
        try:
            await self.ctx.publisher.send_text(RECOMMENDATION_TOPIC, encode_event(outcome.event), to=to)
            self.counter["delivered"] += 1
        except Exception:
            self.counter["undelivered"] += 1
            log.exception("sending a counter recommendation failed")

    async def _open_store(self) -> CounterStore | None:
        """The session's interaction row, opened on first need with the device then known."""
        ctx = self.ctx
        if self.store is not None or ctx is None or ctx.pool is None or ctx.session.org_id is None:
            return self.store
        device = next((d for d in self.devices.values() if d is not None), None)
        try:
            self.store = await CounterStore.open(
                ctx.pool,
                org_id=ctx.session.org_id,
                meeting_id=ctx.session.meeting_id,
                device_id=device,
                room_name=ctx.session.room_name,
                atendente=(self.assistant.atendente if self.assistant else None) or "",
            )
        except Exception:
            self.counter["counter_store_errors"] += 1
            log.exception("opening the counter interaction failed")
        return self.store

    # --- the clerk's feedback ------------------------------------------------------------------------

    def rpc_methods(self) -> Mapping[str, RequestHandler]:
        async def by_rpc(caller: Speaker, payload: str) -> str:
            return await self.feedback(caller, payload, source="rpc")

        return {FEEDBACK_RPC_METHOD: by_rpc}

    def text_topics(self) -> Mapping[str, RequestHandler]:
        async def by_text(caller: Speaker, payload: str) -> str:
            return await self.feedback(caller, payload, source="text")

        return {FEEDBACK_TOPIC: by_text}

    async def feedback(self, caller: Speaker, payload: str, *, source: Literal["rpc", "text"]) -> str:
        """Store the clerk's answer; `ProfileRpcError` (the caller's RPC error) when it is refused."""
        try:
            if not self.is_clerk(caller):
                raise ProfileRpcError("only the counter device answers recommendations")
            try:
                fb = parse_feedback(payload)
            except ValueError:
                raise ProfileRpcError(f"invalid feedback: {FEEDBACK_HELP}") from None
            store = await self._open_store()
            stored = False
            if store is not None:
                stored = await store.feedback(fb, source=source)
                if not stored:
                    raise ProfileRpcError("unknown recommendation id")
        except ProfileRpcError:
            self.counter["feedback_refused"] += 1
            raise
        self.counter["feedback"] += 1
        return json.dumps({"id": str(fb.id), "accepted": fb.accepted, "stored": stored})

    # --- end -----------------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(self.counter)
        if self.assistant is not None:
            # Utterances in a language the vocabulary does not cover, and suggestions the final safety
            # filter stopped: counts only, never the words.
            out["unsupported_language_utterances"] = self.assistant.unsupported_utterances
            out["blocked_unsafe"] = self.assistant.blocked
        for label, values in (("event_latency_ms", self.event_latency_ms), ("event_own_ms", self.event_own_ms)):
            if values:
                ordered = sorted(values)
                out[f"{label}_p50"] = round(statistics.median(ordered), 1)
                out[f"{label}_max"] = round(ordered[-1], 1)
        return out

    async def aclose(self) -> None:
        try:
            if self._stt_seconds:
                await self._open_store()
            if self.store is not None:
                if self._stt_seconds:
                    await self.store.add_stt_seconds(self._stt_seconds, self._stt_provider)
                await self.store.close()
        except Exception:
            log.exception("closing the counter interaction failed")
        if self.assistant is not None:
            await self.assistant.aclose()
        await super().aclose()


@register
class BalcaoProfile(CounterProfile):
    """The same profile under seed 001's name, for solutions configured with ``balcao``."""

    name = "balcao"


def _key(speaker: Speaker) -> str:
    return speaker.track_sid or speaker.identity
