"""A local LiveAvatar service for tests (see server.py)."""

from tests.liveavatar_stub.server import LiveAvatarStub, StubSession

__all__ = ["LiveAvatarStub", "StubSession"]
