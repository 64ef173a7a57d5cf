"""The profiles Escuta ships: importing this module registers them (`get_profile` does it on first use)."""

from __future__ import annotations

from agents.avatar.profile import AvatarProfile
from agents.coach.profile import MeetingCoachProfile
from agents.counter.profile import CounterProfile
from agents.transcription.profile import TranscriptionProfile

BUILTIN = (TranscriptionProfile, CounterProfile, MeetingCoachProfile, AvatarProfile)
