"""The meeting coach (seed 002): live feedback to hosts from every participant's voice.

`MeetingCoach` turns audio-chain events (one clock for all participants) into `Delivery`s of seed 002's
feedback payload; `CoachRunner` adds prosody and the outputs (send to hosts, store). See
docs/meeting-coach.md.
"""

from __future__ import annotations

from core.settings.coach import CoachThresholds

from .engine import MeetingCoach
from .feedback import FEEDBACK_TOPIC, FEEDBACK_TYPES, Delivery, Feedback
from .participants import ParticipantInfo, parse_participant
from .runner import CoachOutputs, CoachRunner, Collected

__all__ = [
    "FEEDBACK_TOPIC",
    "FEEDBACK_TYPES",
    "CoachOutputs",
    "CoachRunner",
    "CoachThresholds",
    "Collected",
    "Delivery",
    "Feedback",
    "MeetingCoach",
    "ParticipantInfo",
    "parse_participant",
]
