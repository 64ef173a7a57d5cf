"""The language an organization and its solutions speak: set through the API, stored, and said back with
whether the organization's speech-to-text providers can hear it (`speechToText`, `/health/stt`)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from control_api.app import create_app
from db.language import org_language
from db.tenancy import tenant_connection
from tests.accounts.helpers import register
from tests.conftest import make_settings


async def test_cadastro_organizations_speak_brazilian_portuguese_unless_told(
    client: httpx.AsyncClient, admin_headers: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    base = {"email": "contato@farmacia.com.br", "razao_social": "Farmácia Sol", "telefone": "11999998888"}
    for extra in ({}, {"idioma": "en_us"}):
        r = await client.post("/cadastro/cliente", json=base | extra, headers=admin_headers)
        assert r.status_code == 200 and r.json()["codigo"].isdigit()
    async with db_pool.acquire() as conn:
        stored = [r["language"] for r in await conn.fetch("SELECT language FROM organizations ORDER BY created_at")]
    assert stored == ["pt-BR", "en-US"]
    r = await client.post("/cadastro/cliente", json=base | {"idioma": "português"}, headers=admin_headers)
    assert r.status_code == 400 and "idioma" in r.json()["error"]["message"]


async def test_the_organizations_language_is_set_and_said_back(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    owner = await register(client)
    other = await register(client, "Outra Rede")
    r = await client.get("/organization/language", headers=owner.headers)
    # Not set: the platform's default, Brazilian Portuguese.
    assert r.status_code == 200 and r.json()["language"] is None and r.json()["effectiveLanguage"] == "pt-BR"
    r = await client.put("/organization/language", json={"language": "pt_br"}, headers=owner.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["language"] == body["effectiveLanguage"] == "pt-BR"
    stt = body["speechToText"]
    assert stt["supported"] and stt["providers"] == [
        {"name": "local", "model": "base", "supported": True, "reason": None}
    ]
    async with tenant_connection(db_pool, uuid.UUID(owner.org_id)) as conn:
        assert await org_language(conn, uuid.UUID(owner.org_id)) == "pt-BR"
    # Another organization is untouched; a tag that is no language is a 400 naming the field.
    assert (await client.get("/organization/language", headers=other.headers)).json()["language"] is None
    r = await client.put("/organization/language", json={"language": "brazilian"}, headers=owner.headers)
    assert r.status_code == 400 and "language" in r.json()["error"]["message"]


async def test_a_solution_has_its_own_language_or_inherits(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    await client.put("/organization/language", json={"language": "pt-BR"}, headers=owner.headers)
    r = await client.put("/solutions/Intl", json={"profile": "transcription", "language": "en"}, headers=owner.headers)
    assert r.status_code == 200
    assert r.json()["language"] == "en" and r.json()["speechToText"]["language"] == "en"
    assert r.json()["speechToText"]["providers"][0]["model"] == "tiny.en"
    # A PUT that does not name the language keeps it; null gives it back to the organization.
    r = await client.put("/solutions/Intl", json={"profile": "meeting_coach"}, headers=owner.headers)
    assert r.json()["profile"] == "meeting_coach" and r.json()["language"] == "en"
    r = await client.put("/solutions/Intl", json={"profile": "meeting_coach", "language": None}, headers=owner.headers)
    assert r.json()["language"] is None and r.json()["speechToText"]["language"] == "pt-BR"
    listed = (await client.get("/solutions", headers=owner.headers)).json()["items"]
    assert [(s["name"], s["speechToText"]["language"]) for s in listed] == [("Intl", "pt-BR")]


async def test_a_language_nobody_hears_shows_before_any_room(db_pool: asyncpg.Pool, database_url: str) -> None:
    # Offline only and no multilingual model: Portuguese cannot be transcribed, and every answer says so.
    settings = make_settings(
        database_url=database_url, stt_providers=["local"], stt_local_multilingual_model="", stt_language="pt-BR"
    )
    app = create_app(settings, pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        owner = await register(client)
        r = await client.put("/solutions/Balcao", json={"profile": "transcription"}, headers=owner.headers)
        stt = r.json()["speechToText"]
        assert stt["language"] == "pt-BR" and not stt["supported"]
        assert "jobs in this language are refused" in stt["reason"]
        assert "English-only" in stt["providers"][0]["reason"]
        health = (await client.get("/health/stt")).json()  # public: no credential, no tenant data
        assert health["status"] == "degraded" and not health["defaultOrder"]["supported"]
        assert health["offline"]["languages"] == ["en"] and not health["offline"]["portuguese"]
        assert "Portuguese" in health["offline"]["note"] and "cloud" in health["offline"]["note"]
        # Nor can tiny.en's answers be checked for another language.
        assert health["offline"]["englishLanguageCheck"] == {"active": False, "model": None}


async def test_health_stt_with_the_bundled_models(client: httpx.AsyncClient) -> None:
    health = (await client.get("/health/stt")).json()
    assert health["status"] == "ok" and health["offline"]["portuguese"] and health["offline"]["note"] is None
    assert health["offline"]["models"]["multilingual"] == {"name": "base", "installed": True}
    assert health["offline"]["englishLanguageCheck"] == {"active": True, "model": "base"}
    assert health["defaultLanguage"] == "pt-BR" and not health["defaultLanguageIsEnglish"]  # the platform default
    by = {p["name"]: p for p in health["providers"]}
    assert by["assemblyai"]["models"] == {
        "english": "universal-streaming-english",
        "otherLanguages": "universal-streaming-multilingual",
    }
    assert by["openai"]["models"]["english"] == "gpt-transcribe" and health["modelShutdowns"] == []
