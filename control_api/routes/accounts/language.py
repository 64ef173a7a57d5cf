"""`/organization/language`: the language the organization's people speak (issue 17).

Every room of the organization is transcribed in it unless its solution sets another
(`PUT /solutions/{name}` with `language`). `null` inherits the platform's `ESCUTA_STT_LANGUAGE`.
The answer says whether the organization's speech-to-text providers can hear it: a language none of
them transcribes makes every job refuse to start, and this is where that shows.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.schemas.formats import RequestBody
from control_api.schemas.speech import OrganizationLanguage
from control_api.services.speech import effective_language, stt_status
from core.language import TAG_PATTERN, normalize
from core.settings import Settings
from db import language as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/organization", tags=["accounts"])


class LanguageBody(RequestBody):
    language: str | None = Field(
        max_length=10, pattern=TAG_PATTERN, description="A language tag such as `pt-BR` or `en`; null inherits."
    )


def _answer(settings: Settings, org_id: UUID, language: str | None) -> OrganizationLanguage:
    effective = effective_language(settings, language)
    return OrganizationLanguage.model_validate(
        {"language": language, "effectiveLanguage": effective, "speechToText": stt_status(settings, org_id, effective)}
    )


@router.get("/language")
async def get_language(user: OrgMember, pool: Pool, settings: AppSettings) -> OrganizationLanguage:
    async with tenant_connection(pool, user.org_id) as conn:
        language = await repo.org_language(conn, user.org_id)
    return _answer(settings, user.org_id, language)


@router.put("/language")
async def put_language(body: LanguageBody, admin: OrgAdmin, pool: Pool, settings: AppSettings) -> OrganizationLanguage:
    language = normalize(body.language) if body.language else None
    async with tenant_connection(pool, admin.org_id) as conn:
        await repo.set_org_language(conn, admin.org_id, language)
    return _answer(settings, admin.org_id, language)
