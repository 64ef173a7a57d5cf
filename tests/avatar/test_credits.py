"""Usage and credits: the ledger balances, a crash is reconciled from webhooks, no credit means 402."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from core.avatar.credits import Usage
from core.settings import Settings
from db import credits as repo
from db.tenancy import tenant_connection
from jobs.avatar_usage import UsageReconciliation
from tests.accounts.helpers import Org, put_solution, register, token_body
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
from tests.webhook_signing import event_body, sign

T0 = int(time.time()) - 3600  # an hour ago: ended well past the reconciliation's grace


async def grant(client: httpx.AsyncClient, admin: dict[str, str], org: Org, amount: str) -> httpx.Response:
    return await client.post("/credits/grants", json={"orgId": org.org_id, "amount": amount}, headers=admin)


def test_prices_come_from_settings(settings: Settings) -> None:
    usage = Usage(avatar_seconds=90, stt_seconds=60, llm_tokens=2000, tts_characters=1000)
    s = settings.replace(
        **{
            "credit_price_avatar_minute": 1.0,
            "credit_price_stt_second": 0.002,
            "credit_price_llm_1k_tokens": 0.01,
            "credit_price_tts_1k_characters": 0.05,
        }
    )
    assert usage.credits(s) == Decimal("1.5") + Decimal("0.12") + Decimal("0.02") + Decimal("0.05")


async def test_ledger_balances_and_usage_is_recorded_once(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, admin_headers: dict[str, str], settings: Settings
) -> None:
    org = await register(client)
    assert (await grant(client, admin_headers, org, "10")).json()["balance"] == "10.0000"
    assert (
        await client.post("/credits/grants", json={"orgId": org.org_id, "amount": "5"}, headers=org.headers)
    ).status_code == 401
    missing = {"orgId": str(uuid.uuid4()), "amount": "1"}
    assert (await client.post("/credits/grants", json=missing, headers=admin_headers)).status_code == 404
    usage = Usage(avatar_seconds=120, stt_seconds=100, llm_tokens=3000, tts_characters=2000)
    end = datetime.now(UTC)
    org_id = uuid.UUID(org.org_id)
    async with tenant_connection(db_pool, org_id) as conn:
        kwargs = dict(
            org_id=org_id,
            meeting_id="RM_one",
            room_name="avatar-x-y",
            started_at=end - timedelta(minutes=2),
            ended_at=end,
            usage=usage,
            credits=usage.credits(settings),
            source="agent",
        )
        assert await repo.record_usage(conn, **kwargs) is True  # type: ignore[arg-type]
        assert await repo.record_usage(conn, **kwargs) is False  # type: ignore[arg-type]  # idempotent
    body = (await client.get("/credits", headers=org.headers)).json()
    spent = usage.credits(settings)
    assert Decimal(body["balance"]) == Decimal(10) - spent
    assert [e["kind"] for e in body["ledger"]] == ["consumption", "grant"]
    assert sum(Decimal(e["amount"]) for e in body["ledger"]) == Decimal(body["balance"])  # the ledger balances
    [session] = body["usageBySession"]
    assert session["meetingId"] == "RM_one" and session["avatarMinutes"] == 2.0 and session["llmTokens"] == 3000
    [day] = body["usageByPeriod"]["items"]
    assert day["sessions"] == 1 and Decimal(day["credits"]) == spent and day["period"] == end.date().isoformat()
    month = (await client.get("/credits?period=month", headers=org.headers)).json()["usageByPeriod"]
    assert month["period"] == "month" and month["items"][0]["period"] == end.date().replace(day=1).isoformat()
    other = await register(client, "B")
    assert (await client.get("/credits", headers=other.headers)).json()["usageBySession"] == []
    assert (await client.get("/credits?timezone=Mars/Olympus", headers=org.headers)).status_code == 400


async def test_no_credit_refuses_avatar_tokens_with_402(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    org = await register(client)
    await put_solution(client, org, "Lia", profile="avatar")
    await put_solution(client, org, "AiHelper", profile="transcription")
    r = await client.post("/token", json=token_body(org.org_id, "Lia"), headers=org.headers)
    assert r.status_code == 402 and r.json()["error"]["code"] == "insufficient_credits"
    assert (await client.post("/token", json=token_body(org.org_id), headers=org.headers)).status_code == 200
    await grant(client, admin_headers, org, "0.5")
    assert (await client.post("/token", json=token_body(org.org_id, "Lia"), headers=org.headers)).status_code == 200


async def _webhook(client: httpx.AsyncClient, body: bytes) -> None:
    r = await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    assert r.status_code == 200, r.text


async def test_crashed_agent_is_reconciled_from_webhooks(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, admin_headers: dict[str, str], settings: Settings
) -> None:
    org = await register(client)
    await put_solution(client, org, "Lia", profile="avatar")
    await grant(client, admin_headers, org, "3")
    room = (await client.post("/token", json=token_body(org.org_id, "Lia"), headers=org.headers)).json()["room"]
    sid = "RM_crash"
    visitor: dict[str, Any] = {"sid": "PA_v", "identity": room, "joined_at": T0 + 1}
    avatar: dict[str, Any] = {
        "sid": "PA_av",
        "identity": settings.avatar.participant_identity,
        "kind": 4,
        "joined_at": T0 + 5,
    }
    agent: dict[str, Any] = {"sid": "PA_ag", "identity": "agent-x", "kind": 4, "joined_at": T0 + 2}
    events = [
        event_body("room_started", room_sid=sid, room_name=room, created_at=T0, room_created=T0),
        *(
            event_body(
                "participant_joined",
                room_sid=sid,
                room_name=room,
                created_at=p["joined_at"],
                participant=p,
                room_created=T0,
            )
            for p in (visitor, agent, avatar)
        ),
        event_body(
            "participant_left", room_sid=sid, room_name=room, created_at=T0 + 125, participant=avatar, room_created=T0
        ),
        event_body(
            "participant_left", room_sid=sid, room_name=room, created_at=T0 + 121, participant=visitor, room_created=T0
        ),
        event_body("room_finished", room_sid=sid, room_name=room, created_at=T0 + 130, room_created=T0),
    ]
    for body in events:
        await _webhook(client, body)
    job = UsageReconciliation(db_pool, settings)
    assert await job.run() == {"reconciled": 1}
    assert await job.run() == {"reconciled": 0}  # once only
    body = (await client.get("/credits", headers=org.headers)).json()
    [session] = [s for s in body["usageBySession"] if s["meetingId"] == sid]
    assert session["source"] == "reconciled" and session["avatarMinutes"] == 2.0 and session["sttSeconds"] == 120.0
    expected = Usage(avatar_seconds=120, stt_seconds=120).credits(settings)
    assert Decimal(session["credits"]) == expected and Decimal(body["balance"]) == Decimal(3) - expected


async def test_running_session_is_warned_then_ended_at_zero(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, admin_headers: dict[str, str], settings: Settings
) -> None:
    from agents.avatar.prepare import CreditWatch

    org = await register(client)
    await grant(client, admin_headers, org, "1")  # one avatar minute at the default price
    s = settings.replace(**{"credit_check_interval_seconds": 0.01, "credit_warning_seconds": 30.0})
    spent = [Decimal("0"), Decimal("0.6"), Decimal("0.8"), Decimal("0.9"), Decimal("1.0")]  # cost at each check
    checks = iter(spent)
    calls: list[str] = []

    async def warn(seconds_left: float) -> None:
        calls.append(f"warn {seconds_left:.0f}")

    async def end() -> None:
        calls.append("end")

    watch = CreditWatch(s, db_pool, uuid.UUID(org.org_id), lambda: next(checks))
    await watch.run(warn, end)
    # 60 s left, then 24 s (warned once), 12 s, 6 s (no second warning), then nothing: ended.
    assert calls == ["warn 24", "end"]
