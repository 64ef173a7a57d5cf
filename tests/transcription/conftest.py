from __future__ import annotations

from tests.stt_stubs.fixtures import stt_stub

__all__ = ["stt_stub"]
