"""Session commands (seed 000 "comandos de sessão"): RPC methods the frontend calls on the agent.

| method | payload | effect |
|---|---|---|
| `avatar.interrupt` | `{}` (or empty) | stops what the avatar is saying (even a non-interruptible `say`) |
| `avatar.say` | `{"text": "...", "interruptible": true}` | the avatar says exactly that text |
| `avatar.pause_listening` | `{}` | the agent stops hearing the visitor's microphone (typed text still works) |
| `avatar.resume_listening` | `{}` | hearing again |
| `avatar.end_session` | `{"reason": "..."}` (optional) | says goodbye is over: the session ends gracefully |

Every answer is JSON `{"ok": true, ...}`. A malformed payload raises `ProfileRpcError`, which the room
glue turns into an RPC error for the caller; the session itself is never affected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from livekit.agents import AgentSession
from livekit.agents.voice import SpeechHandle

from agents.profiles.base import ProfileRpcError, RequestHandler, Speaker

MAX_SAY_CHARACTERS = 2000


def _payload(raw: str, allowed: set[str]) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProfileRpcError("payload is not JSON") from None
    if not isinstance(data, dict):
        raise ProfileRpcError("payload must be a JSON object")
    unknown = set(data) - allowed
    if unknown:
        raise ProfileRpcError(f"unknown field(s): {', '.join(sorted(unknown))}")
    return data


def _ok(**extra: Any) -> str:
    return json.dumps({"ok": True, **extra})


class SessionCommands:
    """The command handlers for one AgentSession.

    ``end`` schedules the graceful end of the job (room glue); it must not wait for it, or the caller
    would never get the RPC answer from a room that is closing.
    """

    def __init__(self, session: AgentSession[Any], end: Callable[[str], None]) -> None:
        self.session = session
        self.end = end
        self.listening = True
        self.last_speech: SpeechHandle | None = None

    def methods(self) -> Mapping[str, RequestHandler]:
        return {
            "avatar.interrupt": self.interrupt,
            "avatar.say": self.say,
            "avatar.pause_listening": self.pause_listening,
            "avatar.resume_listening": self.resume_listening,
            "avatar.end_session": self.end_session,
        }

    async def interrupt(self, caller: Speaker, payload: str) -> str:
        _payload(payload, set())
        await self.session.interrupt(force=True)
        return _ok()

    async def say(self, caller: Speaker, payload: str) -> str:
        data = _payload(payload, {"text", "interruptible"})
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ProfileRpcError("text: a non-empty string is required")
        if len(text) > MAX_SAY_CHARACTERS:
            raise ProfileRpcError(f"text: at most {MAX_SAY_CHARACTERS} characters")
        interruptible = data.get("interruptible", True)
        if not isinstance(interruptible, bool):
            raise ProfileRpcError("interruptible: a boolean is expected")
        self.last_speech = self.session.say(text.strip(), allow_interruptions=interruptible)
        return _ok(speechId=self.last_speech.id)

    def _set_listening(self, enabled: bool) -> None:
        """Detaches the session's audio input: the room's input (RoomIO) then drops the visitor's frames,
        so nothing is transcribed, answered or interrupts the avatar. Typed `lk.chat` text still is."""
        self.listening = enabled
        if self.session.input.audio_enabled != enabled:
            self.session.input.set_audio_enabled(enabled)

    async def pause_listening(self, caller: Speaker, payload: str) -> str:
        _payload(payload, set())
        self._set_listening(False)
        return _ok(listening=False)

    async def resume_listening(self, caller: Speaker, payload: str) -> str:
        _payload(payload, set())
        self._set_listening(True)
        return _ok(listening=True)

    async def end_session(self, caller: Speaker, payload: str) -> str:
        data = _payload(payload, {"reason"})
        reason = data.get("reason", "ended by the frontend")
        if not isinstance(reason, str) or len(reason) > 200:
            raise ProfileRpcError("reason: a string of at most 200 characters is expected")
        self.end(reason)
        return _ok(ending=True)
