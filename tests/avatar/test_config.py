"""`/avatar/config`: voices are checked at configuration time, with the organization's own key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.accounts.helpers import register
from tests.avatar.conftest import ELEVEN_KEY, ELEVEN_VOICE, STUB_AVATAR
from tests.avatar.elevenlabs_stub import ElevenLabsVoices


def config(provider: str = "elevenlabs", voice: str = ELEVEN_VOICE, **extra: Any) -> dict[str, Any]:
    body = {
        "avatarId": STUB_AVATAR,
        "instructions": "Você é a Lia, atendente da loja.",
        "voice": {"ttsProvider": provider, "voiceId": voice},
    }
    return {**body, **extra}


async def test_config_crud_with_a_checked_elevenlabs_voice(
    avatar_client: httpx.AsyncClient, eleven: ElevenLabsVoices
) -> None:
    org = await register(avatar_client)
    assert (await avatar_client.get("/avatar/config", headers=org.headers)).status_code == 404
    r = await avatar_client.put("/credentials/elevenlabs", json={"secret": ELEVEN_KEY}, headers=org.headers)
    assert r.status_code == 200, r.text
    r = await avatar_client.put("/avatar/config", json=config(), headers=org.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["language"] == "pt-BR" and body["voice"] == {"ttsProvider": "elevenlabs", "voiceId": ELEVEN_VOICE}
    assert eleven.seen_keys == [ELEVEN_KEY]  # the organization's own key did the lookup
    assert (await avatar_client.get("/avatar/config", headers=org.headers)).json()["avatarId"] == STUB_AVATAR
    r = await avatar_client.put("/avatar/config", json=config("openai", "coral", language="en-US"), headers=org.headers)
    assert r.status_code == 200 and r.json()["language"] == "en-US"
    assert (await avatar_client.delete("/avatar/config", headers=org.headers)).json() == {"status": "deleted"}
    assert (await avatar_client.get("/avatar/config", headers=org.headers)).status_code == 404


@pytest.mark.parametrize(
    ("provider", "voice", "status", "code"),
    [
        ("elevenlabs", "not-a-voice", 422, "invalid_voice_id"),  # malformed: refused before any lookup
        ("elevenlabs", "AAAAAAAAAAAAAAAAAAAA", 422, "unknown_voice_id"),  # well-formed, not on the account
        ("openai", "rachel", 422, "invalid_voice_id"),
        ("hume", "male-actor", 422, "invalid_voice_id"),
        ("hume", "5bb7de05-c8fe-426a-8fcc-ba4fc4ce9f9c", 422, "unsupported_tts_provider"),
        ("polly", "Joanna", 400, "invalid_request"),
    ],
)
async def test_bad_voice_ids_are_refused_at_configuration(
    avatar_client: httpx.AsyncClient, eleven: ElevenLabsVoices, provider: str, voice: str, status: int, code: str
) -> None:
    org = await register(avatar_client)
    await avatar_client.put("/credentials/elevenlabs", json={"secret": ELEVEN_KEY}, headers=org.headers)
    r = await avatar_client.put("/avatar/config", json=config(provider, voice), headers=org.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert (await avatar_client.get("/avatar/config", headers=org.headers)).status_code == 404
    assert eleven.seen_keys == ([ELEVEN_KEY] if code == "unknown_voice_id" else [])


async def test_elevenlabs_voice_needs_the_orgs_own_valid_key(
    avatar_client: httpx.AsyncClient, eleven: ElevenLabsVoices
) -> None:
    org = await register(avatar_client)
    r = await avatar_client.put("/avatar/config", json=config(), headers=org.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "missing_credential")
    await avatar_client.put(
        "/credentials/elevenlabs", json={"secret": "sk_wrong_key_000000000000"}, headers=org.headers
    )
    r = await avatar_client.put("/avatar/config", json=config(), headers=org.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_credential")


async def test_avatar_id_must_be_a_uuid_and_config_is_per_org(avatar_client: httpx.AsyncClient) -> None:
    a, b = await register(avatar_client, "A"), await register(avatar_client, "B")
    r = await avatar_client.put("/avatar/config", json=config("openai", "coral", avatarId="lia"), headers=a.headers)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("avatarId")
    assert (
        await avatar_client.put("/avatar/config", json=config("openai", "coral"), headers=a.headers)
    ).status_code == 200
    assert (await avatar_client.get("/avatar/config", headers=b.headers)).status_code == 404
    assert (await avatar_client.get("/avatar/config")).status_code == 401


async def test_unreachable_voice_check_is_a_502_and_nothing_is_stored(
    avatar_client: httpx.AsyncClient, eleven: ElevenLabsVoices
) -> None:
    org = await register(avatar_client)
    await avatar_client.put("/credentials/elevenlabs", json={"secret": ELEVEN_KEY}, headers=org.headers)
    await eleven.stop()  # ElevenLabs is down: the voice cannot be vouched for
    r = await avatar_client.put("/avatar/config", json=config(), headers=org.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (502, "voice_check_unavailable")
    assert (await avatar_client.get("/avatar/config", headers=org.headers)).status_code == 404
