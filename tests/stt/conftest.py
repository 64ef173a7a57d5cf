"""Fixtures for speech-to-text tests: the provider stub server and real speech."""

from __future__ import annotations

import pytest
from livekit import rtc

from tests.stt_stubs.fixtures import stt_stub, stub_resolver, stub_settings
from tests.transcription.speech import SR, espeak

__all__ = ["stt_stub", "stub_resolver", "stub_settings"]


@pytest.fixture(scope="session")
def hello_frame() -> rtc.AudioFrame:
    """About 4 s of real English speech (a sentence the tiny Whisper model hears right)."""
    x = espeak("Good morning everyone and thanks for joining the meeting today.", wpm=160)
    return rtc.AudioFrame(x.tobytes(), SR, 1, len(x))
