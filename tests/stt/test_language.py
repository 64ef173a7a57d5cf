"""A room's language reaches every provider in its own terms (the stubs check the parameter), picks the
multilingual models, leaves out providers that cannot hear it, and a wrong-language answer falls back."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from livekit import rtc

from stt import FallbackTranscriber, LanguageUnsupportedError, ProviderFailure, build_providers
from stt.base import SpeechToText
from stt.languages import Route, route
from stt.providers import make_stt
from tests.conftest import make_settings
from tests.stt.conftest import stub_resolver, stub_settings
from tests.stt_stubs import SttStubServer

CLOUD = ["openai", "elevenlabs", "elevenlabs_realtime", "assemblyai"]


async def transcribe_each(stub: SttStubServer, names: list[str], frame: rtc.AudioFrame, **settings: object) -> None:
    providers = await build_providers(
        stub_settings(stub, stt_providers=names, **settings), None, stub_resolver(stub), language="pt-BR"
    )
    for p in providers:
        try:
            transcript = await p.transcribe(frame, attempt_timeout=5.0)
        finally:
            await p.aclose()
        assert transcript.language is not None and transcript.language.startswith("pt"), p.name


async def test_a_portuguese_room_reaches_each_provider_in_its_own_terms(
    stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    stt_stub.spoken_language = "pt"
    await transcribe_each(stt_stub, CLOUD, hello_frame)
    by = {c.provider: c for c in stt_stub.calls}
    assert all(c.language_error is None and c.authorized for c in by.values())
    # ISO 639-1 everywhere a language is sent, never the room's region tag `pt-BR`.
    assert by["openai"].params["languages[]"] == "pt"  # gpt-transcribe's plural form
    assert by["elevenlabs"].params["language_code"] == "pt"
    assert by["elevenlabs_realtime"].params["language_code"] == "pt"
    # AssemblyAI: the multilingual model, which detects the language (no language parameter exists for it).
    aai = by["assemblyai"].params
    assert aai["speech_model"] == "universal-streaming-multilingual" and aai["language_detection"] == "true"
    assert "language_codes" not in aai
    assert by["assemblyai"].answered_language == "pt"


async def test_an_openai_compatible_server_is_told_the_language_too(
    stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    # speaches, whisper.cpp or vLLM behind the OpenAI form: a Whisper model, told `language=pt` (ISO 639-1).
    stt_stub.keys["openai"] = "local"
    stt_stub.spoken_language = "pt"
    settings = stub_settings(stt_stub, stt_providers=["openai_compatible"])
    [provider] = await build_providers(settings, None, None, language="pt-BR")
    try:
        transcript = await provider.transcribe(hello_frame, attempt_timeout=5.0)
    finally:
        await provider.aclose()
    [call] = stt_stub.calls_of("openai")
    assert call.params["model"] == "Systran/faster-whisper-small" and call.params["language"] == "pt"
    assert call.language_error is None and "languages[]" not in call.params
    assert transcript.provider == "openai_compatible" and transcript.language == "pt"


async def test_older_openai_models_get_the_singular_language_and_u3_pro_gets_language_codes(
    stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    stt_stub.spoken_language = "pt"
    await transcribe_each(
        stt_stub,
        ["openai", "assemblyai"],
        hello_frame,
        stt_openai_model="gpt-4o-transcribe",
        stt_assemblyai_multilingual_model="u3-rt-pro",
    )
    by = {c.provider: c for c in stt_stub.calls}
    assert by["openai"].params["language"] == "pt" and "languages[]" not in by["openai"].params
    assert by["assemblyai"].params["speech_model"] == "u3-rt-pro"
    assert json.loads(by["assemblyai"].params["language_codes"]) == ["pt"]


async def test_the_stubs_refuse_a_language_in_the_wrong_terms(
    stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    # What the real APIs refuse: a region tag where ISO 639-1/3 is expected. Escuta never sends one (the
    # OpenAI and realtime plugins also normalise it; the ElevenLabs batch plugin sends what it is given):
    # this proves the stubs catch it, through the plugin where it would pass, on the wire elsewhere.
    settings = stub_settings(stt_stub, stt_providers=["elevenlabs"])
    how = Route("elevenlabs", "scribe_v1", "pt-BR", "pt-BR", True)
    provider = SpeechToText(
        "elevenlabs", make_stt("elevenlabs", settings, stt_stub.keys["elevenlabs"], how), language="pt-BR"
    )
    with pytest.raises(ProviderFailure) as info:
        await provider.transcribe(hello_frame, attempt_timeout=3.0)
    await provider.aclose()
    assert info.value.kind == "error" and "status 422" in info.value.detail
    wav = hello_frame.to_wav_bytes()
    async with aiohttp.ClientSession() as http:
        form = aiohttp.FormData({"model": "gpt-transcribe", "language": "pt-BR"})
        form.add_field("file", wav, filename="a.wav")
        async with http.post(
            f"{stt_stub.http_url}/v1/audio/transcriptions", data=form, headers={"Authorization": "Bearer oa-key"}
        ) as r:
            assert r.status == 400 and "ISO-639-1" in (await r.json())["error"]["message"]
        form = aiohttp.FormData({"model": "gpt-4o-transcribe", "languages[]": "pt"})
        form.add_field("file", wav, filename="a.wav")
        async with http.post(
            f"{stt_stub.http_url}/v1/audio/transcriptions", data=form, headers={"Authorization": "Bearer oa-key"}
        ) as r:
            assert r.status == 400 and "not supported by gpt-4o-transcribe" in (await r.json())["error"]["message"]
        url = f"{stt_stub.http_url}/v1/speech-to-text/realtime?model_id=scribe_v2_realtime&language_code=pt-BR"
        async with http.get(url, headers={"xi-api-key": "el-key"}) as r:
            assert r.status == 422
        query = "sample_rate=16000&speech_model=universal-streaming-english&language_codes=%5B%22pt%22%5D"
        async with http.ws_connect(f"{stt_stub.ws_url}/v3/ws?{query}", headers={"Authorization": "aai-key"}) as ws:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 3006
    errors = [c.language_error for c in stt_stub.calls]
    assert len(errors) == 5 and all(errors), errors


def test_the_model_follows_the_rooms_language(stt_stub: SttStubServer) -> None:
    s = stub_settings(stt_stub).stt
    assert route("assemblyai", s, "en-US").model == "universal-streaming-english"
    assert route("assemblyai", s, "pt-BR").model == "universal-streaming-multilingual"
    assert route("local", s, "en").model == "tiny.en" and route("local", s, None).model == "tiny.en"
    assert route("local", s, "pt-BR").model == "base" and route("local", s, "pt-BR").wire == "pt"
    # No multilingual local model: `local` cannot hear Portuguese and says why.
    english_only = stub_settings(stt_stub, stt_local_multilingual_model="").stt
    r = route("local", english_only, "pt-BR")
    assert not r.supported and "English-only" in r.reason
    # AssemblyAI's multilingual model covers six languages; Japanese is not one of them.
    assert not route("assemblyai", s, "ja").supported and route("elevenlabs", s, "ja").supported


async def test_providers_that_cannot_hear_the_language_are_left_out(
    stt_stub: SttStubServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = stub_settings(stt_stub, stt_providers=["local", "elevenlabs"], stt_local_multilingual_model="")
    with caplog.at_level(logging.INFO, logger="escuta.stt"):
        providers = await build_providers(settings, None, stub_resolver(stt_stub), language="pt-BR")
    assert [p.name for p in providers] == ["elevenlabs"] and providers[0].language == "pt"
    assert any("local is left out for pt-BR" in r.getMessage() for r in caplog.records)
    for p in providers:
        await p.aclose()
    # ... and when none can, the room is refused before anything is built, saying why.
    with pytest.raises(LanguageUnsupportedError) as info:
        await build_providers(settings.replace(stt_providers=["local"]), None, None, language="pt-BR")
    assert info.value.language == "pt-BR"
    assert "tiny.en is English-only" in str(info.value) and "cloud provider key" in str(info.value)


@pytest.mark.parametrize("first", ["openai", "elevenlabs", "assemblyai"])
async def test_a_wrong_language_answer_goes_to_the_next_provider(
    first: str, stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    second = "elevenlabs" if first != "elevenlabs" else "openai"
    settings = stub_settings(stt_stub, stt_providers=[first, second], stt_cooldown_seconds=3600)
    chain = FallbackTranscriber(
        await build_providers(settings, None, stub_resolver(stt_stub), language="pt-BR"),
        attempt_timeout=3.0,
        cooldown=3600,
    )
    stt_stub.spoken_language = "pt"
    stt_stub.answer_language[first] = "en"  # the first provider answers in English
    try:
        outcomes = [await chain.transcribe(hello_frame) for _ in range(2)]
    finally:
        await chain.aclose()
    for outcome in outcomes:
        assert outcome.transcript is not None and outcome.transcript.provider == second
        refused, answered = outcome.attempts
        assert (refused.provider, refused.outcome) == (first, "language_unsupported")
        assert "answered in en" in refused.detail and answered.outcome == "ok"
    # A refused answer is about the audio, not the provider: no cooldown, it is asked first again.
    assert [p.name for p in chain.order()] == [first, second]
    assert chain.stats[(first, "language_unsupported")] == 2 and chain.stats[(second, "ok")] == 2


async def test_when_every_answer_is_in_the_wrong_language_the_utterance_fails(
    stt_stub: SttStubServer, hello_frame: rtc.AudioFrame
) -> None:
    settings = stub_settings(stt_stub, stt_providers=["openai", "elevenlabs"])
    chain = FallbackTranscriber(await build_providers(settings, None, stub_resolver(stt_stub), language="pt-BR"))
    stt_stub.answer_language.update({"openai": "es", "elevenlabs": "en"})
    outcome = await chain.transcribe(hello_frame)
    await chain.aclose()
    assert outcome.transcript is None
    assert [a.outcome for a in outcome.attempts] == ["language_unsupported", "language_unsupported"]
    assert "openai: language_unsupported (answered in es" in (outcome.failure_reason or "")
    assert "heard" not in (outcome.failure_reason or "")  # the refused text itself is never in the reason


async def test_rooms_nobody_set_a_language_for_speak_brazilian_portuguese() -> None:
    # The platform default (`ESCUTA_STT_LANGUAGE`): Escuta's people speak pt-BR first, so a room without a
    # solution's or organization's language (replays, rooms nobody minted) is heard as Portuguese.
    settings = make_settings(stt_providers=["local"])
    assert settings.stt.language == "pt-BR"
    [local] = await build_providers(settings, None, None)
    try:
        assert (local.model, local.language, local.room_language) == ("base", "pt", "pt-BR")
    finally:
        await local.aclose()
    # Empty still means "not set": the provider is told nothing and English-only tiny.en is used.
    [unset] = await build_providers(make_settings(stt_providers=["local"], stt_language=""), None, None)
    try:
        assert (unset.model, unset.language, unset.room_language) == ("tiny.en", None, None)
    finally:
        await unset.aclose()
