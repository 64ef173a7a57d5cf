"""Each provider adapter round-trips against its stub (or, for `local`, the bundled Whisper model)."""

from __future__ import annotations

import pytest
from livekit import rtc

from db.credentials import MissingCredentialError
from stt import FallbackTranscriber, ProviderFailure, build_providers, provider_order
from stt.providers import UnknownProviderError
from tests.stt.conftest import stub_resolver, stub_settings
from tests.stt_stubs import SttStubServer

CLOUD = ["openai", "elevenlabs", "elevenlabs_realtime", "assemblyai"]


@pytest.mark.parametrize("name", CLOUD)
async def test_cloud_adapter_round_trip(name: str, stt_stub: SttStubServer, hello_frame: rtc.AudioFrame) -> None:
    settings = stub_settings(stt_stub, stt_providers=[name])
    [provider] = await build_providers(settings, None, stub_resolver(stt_stub))
    try:
        transcript = await provider.transcribe(hello_frame, attempt_timeout=5.0)
    finally:
        await provider.aclose()
    [call] = stt_stub.calls_of(name)
    assert call.authorized and call.failed_with is None
    # The whole utterance reached the provider (ElevenLabs realtime pads a commit to 0.3 s at most).
    assert call.audio_seconds == pytest.approx(hello_frame.duration, abs=0.06)
    assert transcript.text == f"{name} heard {call.audio_seconds:.1f} seconds"
    assert transcript.provider == name
    assert transcript.language is not None and transcript.language.startswith("en")


async def test_requests_carry_the_documented_fields(stt_stub: SttStubServer, hello_frame: rtc.AudioFrame) -> None:
    settings = stub_settings(stt_stub, stt_providers=CLOUD)
    providers = await build_providers(settings, None, stub_resolver(stt_stub))
    for p in providers:
        await p.transcribe(hello_frame, attempt_timeout=5.0)
        await p.aclose()
    by = {c.provider: c.params for c in stt_stub.calls}
    # gpt-transcribe (the default) takes the plural `languages[]`; the stub refuses it on older models.
    assert by["openai"]["model"] == settings.stt.openai_model == "gpt-transcribe"
    assert by["openai"]["languages[]"] == "en" and "language" not in by["openai"]
    assert by["elevenlabs"]["model_id"] == "scribe_v1" and by["elevenlabs"]["language_code"] == "en"
    assert by["elevenlabs_realtime"]["language_code"] == "en"
    assert by["elevenlabs_realtime"]["model_id"] == "scribe_v2_realtime"
    assert by["elevenlabs_realtime"]["audio_format"] == "pcm_16000"
    assert by["elevenlabs_realtime"]["commit_strategy"] == "manual"
    assert by["assemblyai"]["sample_rate"] == "16000" and by["assemblyai"]["encoding"] == "pcm_s16le"
    assert by["assemblyai"]["speech_model"] == settings.stt.assemblyai_model


async def test_openai_compatible_server_needs_no_credential(
    stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    stt_stub.keys["openai"] = "local"  # what an OpenAI-compatible server is sent by default
    settings = stub_settings(stt_stub, stt_providers=["openai_compatible"])
    [provider] = await build_providers(settings, None, None)
    transcript = await provider.transcribe(hello_frame, attempt_timeout=5.0)
    await provider.aclose()
    assert transcript.provider == "openai_compatible"
    assert stt_stub.calls_of("openai")[0].params["model"] == settings.stt.openai_compatible_model


@pytest.mark.parametrize("name", CLOUD)
async def test_a_wrong_key_is_a_provider_error(name: str, stt_stub: SttStubServer, hello_frame: rtc.AudioFrame) -> None:
    settings = stub_settings(stt_stub, stt_providers=[name])

    async def wrong(credential: str) -> str:
        return "not-the-key"

    [provider] = await build_providers(settings, None, wrong)
    with pytest.raises(ProviderFailure) as info:
        await provider.transcribe(hello_frame, attempt_timeout=3.0)
    await provider.aclose()
    assert info.value.provider == name
    assert info.value.kind in ("error", "connection", "no_result")
    assert not stt_stub.calls_of(name)[0].authorized


async def test_missing_credential_is_refused_before_anything_is_built(stt_stub: SttStubServer) -> None:
    settings = stub_settings(stt_stub, stt_providers=["local", "assemblyai"])

    async def none_stored(credential: str) -> str:
        raise MissingCredentialError("00000000-0000-0000-0000-000000000001", credential)

    with pytest.raises(MissingCredentialError) as info:
        await build_providers(settings, "00000000-0000-0000-0000-000000000001", none_stored)
    assert info.value.provider == "assemblyai"


def test_provider_order_is_per_organization(stt_stub: SttStubServer) -> None:
    org = "5f0c3a4e-0000-4000-8000-000000000001"
    settings = stub_settings(stt_stub, stt_providers=["local"], stt_providers_by_org={org: ["openai", "local"]})
    assert provider_order(settings, org) == ["openai", "local"]
    assert provider_order(settings, "another") == ["local"]
    with pytest.raises(UnknownProviderError):
        provider_order(stub_settings(stt_stub, stt_providers=["whisperx"]), None)


async def test_local_whisper_transcribes_real_speech(stt_stub: SttStubServer, hello_frame: rtc.AudioFrame) -> None:
    settings = stub_settings(stt_stub, stt_providers=["local"])
    chain = FallbackTranscriber(await build_providers(settings, None, None), attempt_timeout=60)
    outcome = await chain.transcribe(hello_frame)
    assert outcome.transcript is not None
    words = outcome.transcript.text.lower()
    assert "morning" in words and "meeting" in words
    assert outcome.transcript.provider == "local" and outcome.transcript.language == "en"
    assert 0 < (outcome.transcript.confidence or 0) <= 1
