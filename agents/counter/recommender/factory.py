"""Which recommender an organization's counter sessions use: settings plus the organization's own key.

``ESCUTA_COUNTER_RECOMMENDER=local`` (the default) never calls out. With ``llm``, the provider and
model come from ``ESCUTA_COUNTER_LLM_BY_ORG`` or the global settings, and the key from the
organization's stored credential (accounts issue). No credential means the local recommender, with a
warning: a missing key must not silence the counter.
"""

from __future__ import annotations

import logging
import uuid
from typing import cast

import asyncpg

from agents.counter.recommender.base import Recommender
from agents.counter.recommender.local import LocalRecommender
from core.counter.catalog import CatalogIndex
from core.settings import Settings
from db.credentials import MissingCredentialError, resolve_credential

log = logging.getLogger("escuta.counter")


def llm_choice(settings: Settings, org_id: uuid.UUID) -> tuple[str, str] | None:
    """``(provider, model)`` for this organization, or None for the local recommender."""
    override = settings.counter.llm_by_org.get(str(org_id))
    if override is not None:
        if override.strip() == "local":
            return None
        provider, _, model = override.partition(":")
        provider = provider.strip()
        if provider not in ("openai", "xai"):
            raise ValueError(f"ESCUTA_COUNTER_LLM_BY_ORG: unknown provider {provider!r} for {org_id}")
    elif settings.counter.recommender == "local":
        return None
    else:
        provider, model = settings.counter.llm_provider, ""
    default = settings.counter.llm_xai_model if provider == "xai" else settings.counter.llm_openai_model
    return provider, model.strip() or default


async def recommender_for_org(
    settings: Settings, index: CatalogIndex, *, org_id: uuid.UUID, pool: asyncpg.Pool
) -> Recommender:
    local = LocalRecommender(index)
    choice = llm_choice(settings, org_id)
    if choice is None:
        return local
    provider, model = choice
    try:
        api_key = await resolve_credential(pool, org_id, provider, settings=settings)
    except MissingCredentialError:
        log.warning("counter: organization %s has no %s credential; using the local recommender", org_id, provider)
        return local
    from agents.counter.recommender.llm import LLMRecommender, Provider, build_llm  # the plugin loads lazily

    typed = cast(Provider, provider)
    base_url = settings.counter.llm_xai_base_url if provider == "xai" else settings.counter.llm_openai_base_url
    llm = build_llm(
        typed, api_key=api_key, model=model, base_url=base_url, timeout=settings.counter.llm_timeout_seconds
    )
    return LLMRecommender(
        llm,
        local,
        provider=typed,
        timeout=settings.counter.llm_timeout_seconds,
        max_candidates=settings.counter.llm_max_candidates,
        window_turns=settings.counter.llm_window_turns,
    )
