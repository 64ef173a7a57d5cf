"""Seed 000's `GET /credits`: the balance, usage by period and by session, the ledger; and platform grants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from asyncpg import Record
from pydantic import BaseModel, ConfigDict, Field

from control_api.schemas.common import DecimalString, Timestamp
from control_api.schemas.formats import RequestBody
from core.avatar.credits import Usage

Period = Literal["day", "month"]


def _usage(row: Record) -> dict[str, float | int]:
    """avatarMinutes, sttSeconds, llmTokens and ttsCharacters, rounded as the agent logs them."""
    return Usage(row["avatar_seconds"], row["stt_seconds"], row["llm_tokens"], row["tts_characters"]).as_json()


class PeriodUsage(BaseModel):
    period: date = Field(description="The day, or a month's first day.")
    sessions: int
    avatarMinutes: float
    sttSeconds: float
    llmTokens: int
    ttsCharacters: int
    credits: DecimalString

    @classmethod
    def from_row(cls, r: Record) -> PeriodUsage:
        return cls.model_validate(
            {"period": r["period"].date(), "sessions": r["sessions"], **_usage(r), "credits": r["credits"]}
        )


class UsageByPeriod(BaseModel):
    period: Period
    items: list[PeriodUsage] = Field(description="Newest first.")


class SessionUsage(BaseModel):
    """What one avatar session consumed (recorded by the agent, or reconciled from webhooks if it crashed)."""

    meetingId: str
    room: str
    startedAt: Timestamp
    endedAt: Timestamp
    avatarMinutes: float
    sttSeconds: float
    llmTokens: int
    ttsCharacters: int
    credits: DecimalString
    source: Literal["agent", "reconciled"]

    @classmethod
    def from_row(cls, r: Record) -> SessionUsage:
        return cls.model_validate(
            {
                "meetingId": r["meeting_id"],
                "room": r["room_name"],
                "startedAt": r["started_at"],
                "endedAt": r["ended_at"],
                **_usage(r),
                "credits": r["credits"],
                "source": r["source"],
            }
        )


class LedgerEntry(BaseModel):
    id: int
    kind: Literal["grant", "consumption", "adjustment"]
    amount: DecimalString = Field(description="Positive for grants, negative for consumption.")
    meetingId: str | None
    note: str | None
    createdAt: Timestamp

    @classmethod
    def from_row(cls, r: Record) -> LedgerEntry:
        return cls(
            id=r["id"],
            kind=r["kind"],
            amount=r["amount"],
            meetingId=r["meeting_id"],
            note=r["note"],
            createdAt=r["created_at"],
        )


class Credits(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "balance": "7.5857",
                    "since": "2025-02-12T18:05:09.123456+00:00",
                    "usageByPeriod": {
                        "period": "day",
                        "items": [
                            {
                                "period": "2025-03-14",
                                "sessions": 1,
                                "avatarMinutes": 2.0833,
                                "sttSeconds": 100.5,
                                "llmTokens": 3000,
                                "ttsCharacters": 2000,
                                "credits": "2.4143",
                            }
                        ],
                    },
                    "usageBySession": [
                        {
                            "meetingId": "RM_3kP9xQ2mZ",
                            "room": "Lia-8b0c6f1e-2a47-4a4e-9d0b-7f1c3e5a9b21-visitor-3f9a1c2e7b4d",
                            "startedAt": "2025-03-14T18:03:04.004512+00:00",
                            "endedAt": "2025-03-14T18:05:09.123456+00:00",
                            "avatarMinutes": 2.0833,
                            "sttSeconds": 100.5,
                            "llmTokens": 3000,
                            "ttsCharacters": 2000,
                            "credits": "2.4143",
                            "source": "agent",
                        }
                    ],
                    "ledger": [
                        {
                            "id": 2,
                            "kind": "consumption",
                            "amount": "-2.4143",
                            "meetingId": "RM_3kP9xQ2mZ",
                            "note": "avatar session Lia-8b0c6f1e-... (agent)",
                            "createdAt": "2025-03-14T18:05:09.523301+00:00",
                        }
                    ],
                }
            ]
        }
    )

    balance: DecimalString = Field(description="The ledger's sum.")
    since: Timestamp = Field(description="Usage is counted from here (`days` ago).")
    usageByPeriod: UsageByPeriod
    usageBySession: list[SessionUsage] = Field(description="Newest first, at most `limit`.")
    ledger: list[LedgerEntry] = Field(description="Newest first, at most `limit`.")


class GrantBody(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"orgId": "8b0c6f1e-2a47-4a4e-9d0b-7f1c3e5a9b21", "amount": "100", "note": "plano mensal"}]
        }
    )

    orgId: UUID
    # numeric(14, 4) in the ledger: at most 10 digits before the point.
    amount: Decimal = Field(gt=0, lt=10**10, max_digits=14, decimal_places=4)
    note: str | None = Field(None, max_length=500)


class Grant(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 1, "amount": "100.0000", "balance": "107.5857"}]})

    id: int = Field(description="The ledger entry.")
    amount: DecimalString
    balance: DecimalString = Field(description="The organization's balance after the grant.")
