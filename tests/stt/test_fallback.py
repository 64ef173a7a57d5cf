"""The failure matrix: the first provider failing in each way; the next one transcribes every utterance."""

from __future__ import annotations

import pytest
from livekit import rtc

from stt import FallbackTranscriber, build_providers
from tests.stt.conftest import stub_resolver, stub_settings
from tests.stt_stubs import FAILURE_MODES, FailureMode, SttStubServer

CLOUD = ["openai", "elevenlabs", "elevenlabs_realtime", "assemblyai"]
# A socket dropped after the last audio looks, to the AssemblyAI plugin, like its own close: no result.
EXPECTED_KIND = {
    "http500": {"error"},
    "timeout": {"timeout"},
    "close": {"connection", "error", "no_result"},
    "stall": {"timeout"},
}
UTTERANCES = 2
ATTEMPT_TIMEOUT = 1.0


async def chain_for(stub: SttStubServer, names: list[str], *, cooldown: float = 0.0) -> FallbackTranscriber:
    settings = stub_settings(stub, stt_providers=names)
    providers = await build_providers(settings, None, stub_resolver(stub))
    return FallbackTranscriber(providers, attempt_timeout=ATTEMPT_TIMEOUT, cooldown=cooldown)


@pytest.mark.parametrize("mode", FAILURE_MODES)
@pytest.mark.parametrize("first", CLOUD)
async def test_next_provider_transcribes_every_utterance(
    first: str, mode: FailureMode, stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    second = "elevenlabs" if first == "openai" else "openai"
    chain = await chain_for(stt_stub, [first, second])
    stt_stub.fail(first, mode)
    try:
        outcomes = [await chain.transcribe(hello_frame) for _ in range(UTTERANCES)]
    finally:
        await chain.aclose()
    for outcome in outcomes:
        assert outcome.transcript is not None
        assert outcome.transcript.provider == second
        assert outcome.transcript.text.startswith(f"{second} heard")
        failed, answered = outcome.attempts
        assert failed.provider == first and failed.outcome in EXPECTED_KIND[mode]
        assert answered.provider == second and answered.outcome == "ok"
    # cooldown 0: the failing provider was tried first each time, and each failure counted.
    assert sum(n for (p, kind), n in chain.stats.items() if p == first and kind != "ok") == UTTERANCES
    assert chain.stats[(second, "ok")] == UTTERANCES
    assert all(c.failed_with == mode for c in stt_stub.calls_of(first))


async def test_all_failing_returns_every_reason(stt_stub: SttStubServer, hello_frame: rtc.AudioFrame) -> None:
    chain = await chain_for(stt_stub, ["openai", "assemblyai"])
    stt_stub.fail("openai", "http500")
    stt_stub.fail("assemblyai", "stall")
    outcomes = [await chain.transcribe(hello_frame) for _ in range(UTTERANCES)]
    await chain.aclose()
    for outcome in outcomes:
        assert outcome.transcript is None and not outcome.ok
        reason = outcome.failure_reason or ""
        assert "openai: error (status 500" in reason and "assemblyai: timeout" in reason
    assert chain.stats[("*", "all_failed")] == UTTERANCES


async def test_a_failed_provider_goes_last_during_its_cooldown(
    stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    chain = await chain_for(stt_stub, ["elevenlabs", "openai"], cooldown=3600)
    stt_stub.fail("elevenlabs", "http500")
    first = await chain.transcribe(hello_frame)
    stt_stub.fail("elevenlabs", None)
    second = await chain.transcribe(hello_frame)
    await chain.aclose()
    assert [a.provider for a in first.attempts] == ["elevenlabs", "openai"]
    # The cooling provider is not tried while another answers; it is still in the order, last.
    assert [a.provider for a in second.attempts] == ["openai"]
    assert [p.name for p in chain.order()] == ["openai", "elevenlabs"]


async def test_the_same_providers_as_a_livekit_fallback_adapter(
    stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    from livekit.plugins import silero

    from stt import livekit_fallback

    settings = stub_settings(stt_stub, stt_providers=["openai", "elevenlabs"])
    providers = await build_providers(settings, None, stub_resolver(stt_stub))
    adapter = livekit_fallback(providers, vad=silero.VAD.load(), attempt_timeout=2.0)
    stt_stub.fail("openai", "http500")
    try:
        event = await adapter.recognize(hello_frame)
    finally:
        await adapter.aclose()
        for p in providers:
            await p.aclose()
    assert event.alternatives[0].text.startswith("elevenlabs heard")
    assert [c.failed_with for c in stt_stub.calls_of("openai")][:1] == ["http500"]
