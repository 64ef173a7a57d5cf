"""Answers about what speech-to-text can hear: `/health/stt`, `/organization/language`, the solutions'
`speechToText` (the shapes `control_api/services/speech.py` builds)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ProviderRoute(BaseModel):
    name: str = Field(description="Provider name, in the organization's fallback order.")
    model: str = Field(description="The model it would use for this language.")
    supported: bool = Field(description="Whether that model transcribes this language (if not, it is never asked).")
    reason: str | None = Field(description="Why not, when not supported.")


class SpeechToTextStatus(BaseModel):
    language: str | None = Field(description="The language rooms would be transcribed in (null: not set).")
    supported: bool = Field(description="False: jobs in this language are refused at dispatch.")
    providers: list[ProviderRoute]
    reason: str | None


class OrganizationLanguage(BaseModel):
    language: str | None = Field(description="The organization's own setting (null: the platform's default).")
    effectiveLanguage: str | None = Field(description="What its rooms speak unless a solution says otherwise.")
    speechToText: SpeechToTextStatus


class OfflineModel(BaseModel):
    name: str | None
    installed: bool | None = Field(description="For a model a package ships: whether that package is installed.")


class OfflineModels(BaseModel):
    english: OfflineModel
    multilingual: OfflineModel


class EnglishLanguageCheck(BaseModel):
    active: bool = Field(
        description="Whether the English-only local model's uncertain answers are checked for another language "
        "(`ESCUTA_STT_LOCAL_LANGUAGE_CHECK` and the multilingual model installed)."
    )
    model: str | None = Field(description="The multilingual model that checks them.")


class OfflineStatus(BaseModel):
    models: OfflineModels
    languages: list[str] = Field(description="ISO 639-1 languages the `local` provider can transcribe here.")
    portuguese: bool
    englishLanguageCheck: EnglishLanguageCheck
    note: str | None = Field(description="Set when offline transcription is English-only.")


class ProviderModels(BaseModel):
    english: str
    otherLanguages: str


class ProviderInfo(BaseModel):
    name: str
    credential: str | None = Field(description="The organization credential it needs (null: none).")
    models: ProviderModels
    portuguese: bool


class ModelShutdownInfo(BaseModel):
    setting: str
    provider: str
    model: str
    shutdown: str = Field(description="ISO date the provider retires the model.")
    daysLeft: int


class SttHealth(BaseModel):
    status: str = Field(
        description="`ok`, or `degraded` when the default order cannot hear the default language "
        "or a configured model is past its shutdown date."
    )
    defaultLanguage: str | None
    defaultLanguageIsEnglish: bool
    defaultOrder: SpeechToTextStatus
    offline: OfflineStatus
    providers: list[ProviderInfo]
    modelShutdowns: list[ModelShutdownInfo]
