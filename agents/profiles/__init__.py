"""Agent profiles: what a job does with the participants it hears (see `base.Profile`).

Each feature keeps its profile in its own package (`agents/transcription/profile.py`,
`agents/counter/profile.py`, `agents/coach/profile.py`, `agents/avatar/profile.py`); `builtin` imports
them so they register, and `get_profile` loads it on first use.
"""

from __future__ import annotations

from .base import (
    PROFILES,
    ParticipantHandler,
    Profile,
    ProfileContext,
    Publisher,
    SessionInfo,
    Speaker,
    get_profile,
    register,
)

__all__ = [
    "PROFILES",
    "ParticipantHandler",
    "Profile",
    "ProfileContext",
    "Publisher",
    "SessionInfo",
    "Speaker",
    "get_profile",
    "register",
]
