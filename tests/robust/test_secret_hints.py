"""Credential hints show at most a quarter of the secret, as the code has always said (issue 14.7).

Before, a 16-character provider key showed 7 of its characters (`sk-…` and 4) and a 12-character Twitch
secret 4 of them: 44 % and 33 %.
"""

from __future__ import annotations

import httpx

from core.security.hints import HIDDEN, secret_hint
from tests.accounts.helpers import register


def _revealed(hint: str) -> int:
    return len(hint) - len(HIDDEN)


def test_no_hint_reveals_more_than_a_quarter() -> None:
    for length in range(0, 80):
        secret = "k" * length
        for head in (0, 3):
            hint = secret_hint(secret, head=head)
            assert hint.count(HIDDEN) == 1 and _revealed(hint) <= length // 4, (length, hint)
    assert secret_hint("sk-live-0123456789abcdefSECRETVALUE9f2a") == "sk-…9f2a"  # long keys keep the full hint
    assert secret_hint("0123456789abcdef") == "…cdef"
    assert secret_hint("own-secret-value-123", head=0) == "…-123"
    assert secret_hint("short") == HIDDEN


async def test_a_short_provider_key_shows_a_quarter(client: httpx.AsyncClient) -> None:
    org = await register(client)
    key = "sk-0123456789abc"  # 16 characters
    r = await client.put("/credentials/openai", json={"secret": key}, headers=org.headers)
    assert r.status_code == 200, r.text
    hint = r.json()["hint"]
    assert _revealed(hint) <= len(key) // 4 and hint == "…9abc"
    assert (await client.get("/credentials/openai", headers=org.headers)).json()["hint"] == hint
