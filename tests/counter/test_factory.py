"""Choosing an organization's recommender: settings, per-organization overrides, stored credentials."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from agents.counter.assistant import CounterAssistant
from agents.counter.recommender import LocalRecommender
from agents.counter.recommender.factory import recommender_for_org
from agents.counter.recommender.llm import LLMRecommender
from core.counter.catalog import CatalogIndex
from core.settings import Settings
from tests.accounts.helpers import register
from tests.counter.helpers import say
from tests.counter.openai_stub import ChatStub


@pytest.fixture
async def stub() -> AsyncIterator[ChatStub]:
    server = ChatStub()
    await server.start()
    yield server
    await server.stop()


async def test_llm_with_the_organizations_own_key(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings, index: CatalogIndex, stub: ChatStub
) -> None:
    with_key = await register(client, "Com chave")
    without_key = await register(client, "Sem chave")
    r = await client.put("/credentials/xai", json={"secret": "xai-org-key-123"}, headers=with_key.headers)
    assert r.status_code == 200
    s = settings.replace(
        **{"counter_recommender": "llm", "counter_llm_provider": "xai", "counter_llm_xai_base_url": stub.base_url}
    )
    rec = await recommender_for_org(s, index, org_id=uuid.UUID(with_key.org_id), pool=db_pool)
    assert isinstance(rec, LLMRecommender) and rec.provider == "xai"
    assistant = CounterAssistant(index, rec)
    out = await say(assistant, ("cliente", "Tô com dor de garganta"))
    await assistant.aclose()
    assert len(out) == 1 and out[0].recommendation.provider == "xai"
    assert out[0].recommendation.model == "grok-4-1-fast-non-reasoning"
    assert stub.auth_headers == ["Bearer xai-org-key-123"]

    fallback = await recommender_for_org(s, index, org_id=uuid.UUID(without_key.org_id), pool=db_pool)
    assert type(fallback) is LocalRecommender


async def test_per_organization_override(db_pool: asyncpg.Pool, settings: Settings, index: CatalogIndex) -> None:
    org = uuid.uuid4()
    s = settings.replace(**{"counter_recommender": "llm", "counter_llm_by_org": {str(org): "local"}})
    assert type(await recommender_for_org(s, index, org_id=org, pool=db_pool)) is LocalRecommender
    # An unknown provider is refused when the settings are read, before any organization's session.
    with pytest.raises(ValueError, match="ESCUTA_COUNTER_LLM_BY_ORG"):
        settings.replace(counter_llm_by_org={str(org): "anthropic:claude"})
    assert type(await recommender_for_org(settings, index, org_id=org, pool=db_pool)) is LocalRecommender


def test_settings_refuse_unknown_providers() -> None:
    with pytest.raises(ValueError, match="ESCUTA_COUNTER_LLM_BY_ORG"):
        Settings(_env_file=None, counter_llm_by_org={"org": "anthropic:claude"})  # type: ignore[call-arg]
    ok = Settings(_env_file=None, counter_llm_by_org={"org": "xai:grok-4-1-fast-non-reasoning"})  # type: ignore[call-arg]
    assert ok.counter.llm_by_org == {"org": "xai:grok-4-1-fast-non-reasoning"}
