"""What an avatar session consumed, and what that costs in credits (prices per unit in settings)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.settings import Settings

_PLACES = Decimal("0.0001")  # numeric(14, 4) in credit_ledger


@dataclass
class Usage:
    avatar_seconds: float = 0.0
    stt_seconds: float = 0.0
    llm_tokens: int = 0
    tts_characters: int = 0

    def credits(self, settings: Settings) -> Decimal:
        total = (
            Decimal(str(settings.avatar.credits.price_avatar_minute)) * Decimal(str(self.avatar_seconds)) / 60
            + Decimal(str(settings.avatar.credits.price_stt_second)) * Decimal(str(self.stt_seconds))
            + Decimal(str(settings.avatar.credits.price_llm_1k_tokens)) * Decimal(self.llm_tokens) / 1000
            + Decimal(str(settings.avatar.credits.price_tts_1k_characters)) * Decimal(self.tts_characters) / 1000
        )
        return total.quantize(_PLACES, rounding=ROUND_HALF_UP)

    def as_json(self) -> dict[str, float | int]:
        return {
            "avatarMinutes": round(self.avatar_seconds / 60, 4),
            "sttSeconds": round(self.stt_seconds, 3),
            "llmTokens": self.llm_tokens,
            "ttsCharacters": self.tts_characters,
        }


def seconds_of_credit(balance: Decimal, settings: Settings) -> float:
    """How long the avatar alone can still run on ``balance`` (the dominant cost of a session)."""
    per_second = settings.avatar.credits.price_avatar_minute / 60
    if per_second <= 0:
        return float("inf")
    return max(0.0, float(balance) / per_second)
