"""Agent profiles: what a job does with the participants it hears (see `base.Profile`)."""

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
from .counter import CounterProfile
from .meeting_coach import MeetingCoachProfile
from .transcription import TranscriptionProfile

__all__ = [
    "PROFILES",
    "CounterProfile",
    "MeetingCoachProfile",
    "ParticipantHandler",
    "Profile",
    "ProfileContext",
    "Publisher",
    "SessionInfo",
    "Speaker",
    "TranscriptionProfile",
    "get_profile",
    "register",
]
