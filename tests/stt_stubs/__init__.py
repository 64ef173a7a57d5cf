"""Local stand-ins for the cloud speech-to-text APIs, speaking their documented wire protocols."""

from .server import FAILURE_MODES, Call, FailureMode, SttStubServer

__all__ = ["FAILURE_MODES", "Call", "FailureMode", "SttStubServer"]
