"""Faults, with real processes (issue 14.7 and 14.8c): `escuta api` under uvicorn, PostgreSQL behind a TCP
proxy the test controls, SIGKILL.

- The database is down when the API starts: the API serves anyway, `/health/ready` answers 503, data
  routes answer 503 with `Retry-After` (before: the process exited), and it connects by itself when the
  database comes back.
- The database stops answering (black-holed): `/health/ready` answers 503 within 2 s (before: 60 s), a
  data route 503 after the statement timeout; refused: 503 at once. Restored: everything answers again,
  and every webhook event acknowledged with a 2xx around the outage is in the database.
- The API killed with SIGKILL in the middle of a batch of webhook events loses none it acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx

from tests.conftest import TEST_ADMIN_TOKEN, TEST_LK_KEY, TEST_LK_SECRET
from tests.robust.figures import record
from tests.robust.live_process import ApiProcess, target_of, via_proxy
from tests.robust.tcp_proxy import tcp_proxy
from tests.webhook_signing import event_body, sign

ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}
FAST_DB = {
    "ESCUTA_DB_CONNECT_TIMEOUT": "1",
    "ESCUTA_DB_RETRY_SECONDS": "0.3",
    "ESCUTA_DB_COMMAND_TIMEOUT": "2",
    "ESCUTA_LOG_LEVEL": "INFO",
}


def _event(prefix: str, n: int) -> tuple[str, bytes, dict[str, str]]:
    eid = f"EV_{prefix}_{n:05d}"
    body = event_body("room_started", room_sid=f"RM_{prefix}", room_name=f"fault-{prefix}", event_id=eid)
    return eid, body, {"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}


def _post_event(base: str, prefix: str, n: int) -> tuple[str, int]:
    eid, body, headers = _event(prefix, n)
    return eid, httpx.post(f"{base}/livekit/webhook", content=body, headers=headers, timeout=10).status_code


def _assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/json")
    if "error" in r.json():  # a data route; /health/ready answers its own shape
        assert r.json()["error"]["code"] == "database_unavailable" and r.headers["retry-after"].isdigit()
    else:
        assert r.json()["database"] == "unreachable"


def _wait_ready(base: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if httpx.get(f"{base}/health/ready", timeout=5).status_code == 200:
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"not ready within {timeout} s after the database came back")


async def _stored(database_url: str, ids: list[str]) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT id FROM livekit_events WHERE id = ANY($1::text[])", ids)
    finally:
        await conn.close()
    return {r["id"] for r in rows}


def test_database_down_at_start_black_holed_refused_and_back(database_url: str, tmp_path: Path) -> None:
    acknowledged: list[str] = []
    refused = 0
    with tcp_proxy(*target_of(database_url)) as proxy:
        proxy.set_mode("refuse")
        api = ApiProcess(via_proxy(database_url, proxy.port), tmp_path, tmp_path / "api.log", **FAST_DB)
        api.start()
        base = api.base_url
        try:
            # Down at start: the process serves (liveness), is not ready, and data routes say 503.
            api.wait_live()
            _assert_unavailable(httpx.get(f"{base}/health/ready", timeout=5))
            _assert_unavailable(httpx.get(f"{base}/sessions", headers=ADMIN, timeout=5))
            eid, status = _post_event(base, "outage", 0)
            assert status == 503
            refused += 1

            proxy.set_mode("forward")
            came_back_after = _wait_ready(base, 15)
            for n in range(1, 21):
                eid, status = _post_event(base, "outage", n)
                assert status == 200
                acknowledged.append(eid)

            # Black-holed: the readiness probe answers within 2 s, whatever the driver's own timeouts.
            proxy.set_mode("blackhole")
            start = time.monotonic()
            r = httpx.get(f"{base}/health/ready", timeout=30)
            black_holed_ready = time.monotonic() - start
            _assert_unavailable(r)
            assert black_holed_ready < 2.0
            start = time.monotonic()
            _assert_unavailable(httpx.get(f"{base}/sessions", headers=ADMIN, timeout=30))
            black_holed_route = time.monotonic() - start
            again = time.monotonic()
            _assert_unavailable(httpx.get(f"{base}/health/ready", timeout=30))  # a probe still stuck: 503 at once
            assert time.monotonic() - again < 2.0

            # Refused (the server went down): 503 at once, nothing acknowledged.
            proxy.set_mode("refuse")
            start = time.monotonic()
            _assert_unavailable(httpx.get(f"{base}/sessions", headers=ADMIN, timeout=30))
            refused_route = time.monotonic() - start
            for n in range(21, 26):
                eid, status = _post_event(base, "outage", n)
                assert status == 503
                refused += 1

            # Back: ready again by itself, data routes answer, the acknowledged events are all stored.
            proxy.set_mode("forward")
            recovered_after = _wait_ready(base, 15)
            assert httpx.get(f"{base}/sessions", headers=ADMIN, timeout=10).status_code == 200
            for n in range(26, 31):
                eid, status = _post_event(base, "outage", n)
                assert status == 200
                acknowledged.append(eid)
        finally:
            api.stop()
    lost = sorted(set(acknowledged) - asyncio.run(_stored(database_url, acknowledged)))
    assert lost == []
    log = api.log()
    assert "Traceback" not in log, log[-3000:]  # an unreachable database is one line per request, not a trace
    record(
        "database_outage",
        {
            "acknowledged_events": len(acknowledged),
            "refused_with_503": refused,
            "lost": len(lost),
            "ready_after_database_came_back_s": round(came_back_after, 2),
            "ready_answer_when_black_holed_s": round(black_holed_ready, 2),
            "data_route_answer_when_black_holed_s": round(black_holed_route, 2),
            "data_route_answer_when_refused_s": round(refused_route, 2),
            "ready_after_recovery_s": round(recovered_after, 2),
        },
    )


async def test_sigkill_mid_batch_loses_no_acknowledged_event(database_url: str, tmp_path: Path) -> None:
    total, kill_after = 200, 60
    api = ApiProcess(database_url, tmp_path, tmp_path / "api.log")
    api.start()
    acknowledged: list[str] = []
    failed = 0
    try:
        await asyncio.to_thread(api.wait_live, "/health/ready")
        bodies = [_event("kill9", n) for n in range(total)]
        queue = list(bodies)
        killed = asyncio.Event()

        async def sender(client: httpx.AsyncClient) -> None:
            nonlocal failed
            while queue:
                eid, body, headers = queue.pop(0)
                try:
                    r = await client.post("/livekit/webhook", content=body, headers=headers)
                except httpx.HTTPError:
                    failed += 1
                    continue
                if r.status_code == 200:
                    acknowledged.append(eid)
                    if len(acknowledged) >= kill_after and not killed.is_set():
                        killed.set()
                        api.kill()  # mid-batch: other senders have requests in flight
                else:
                    failed += 1

        async with httpx.AsyncClient(base_url=api.base_url, timeout=10) as client:
            await asyncio.gather(*(sender(client) for _ in range(8)))
        assert killed.is_set() and failed > 0  # the kill did land in the middle of the batch
        stored_before_restart = await _stored(database_url, [b[0] for b in bodies])
        lost = sorted(set(acknowledged) - stored_before_restart)
        assert lost == []

        # Restarted, LiveKit's retries of the unacknowledged events are stored once; resending all is a no-op.
        api.start()
        await asyncio.to_thread(api.wait_live, "/health/ready")
        async with httpx.AsyncClient(base_url=api.base_url, timeout=10) as client:

            async def resend(eid: str, body: bytes, headers: dict[str, str]) -> None:
                r = await client.post("/livekit/webhook", content=body, headers=headers)
                assert r.status_code == 200, r.text
                assert r.json()["status"] == ("duplicate" if eid in stored_before_restart else "stored")

            for i in range(0, total, 20):
                await asyncio.gather(*(resend(*b) for b in bodies[i : i + 20]))
        assert len(await _stored(database_url, [b[0] for b in bodies])) == total
    finally:
        api.stop()
    record(
        "sigkill_mid_batch",
        {
            "events_sent": total,
            "acknowledged_before_kill": len(acknowledged),
            "unanswered_or_failed": failed,
            "stored_without_acknowledgement": len(stored_before_restart) - len(acknowledged),
            "lost": len(lost),
        },
    )
