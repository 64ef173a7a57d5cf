"""Tenant isolation, generated from the OpenAPI document (issue 14.8a).

Every operation of `app.openapi()` is called as an attacker would: against organization B's objects (B's
ids in the path, `orgId=B`), with every credential that is not B's: none, a garbage bearer, a token for B's
owner signed with the wrong secret (forged), a genuine one for B's owner that has expired, a garbage API
key, and organization A's access token, device key and publishable key (with its allowed Origin).

- A credential that is not valid answers 401 or 403.
- A's valid credential on B's object (an id in the path) answers 401, 403 or 404; with `orgId=B` the
  answer may be about A's own organization, never B's.
- No answer carries any of B's identifiers or names (its org, user, device, key, session, product,
  trigger and stream ids, its e-mail, names, and secrets' markers): no read leak.
- B's rows in every table with an `org_id` are byte-identical before and after: no write leak.

A route added later is covered by itself as long as its path parameters are ones this test knows how to
fill (`B_PATH_VALUES`) and its security schemes are the document's; otherwise the test fails until the
route is taught here or listed in `NOT_EXERCISED` with a reason.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import numpy as np
import pytest

from agents.coach.recording import SegmentWriter
from core.settings import Settings
from tests.accounts.helpers import Org, device_for_org, put_solution, register, token_body
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET, make_settings
from tests.robust.figures import record
from tests.webhook_signing import event_body, sign

ORIGIN = "https://shop.example"

# Operations without a credential scheme, and why the credential matrix does not apply to them. Their
# answers to an anonymous call are still checked for B's identifiers.
PUBLIC = {
    "GET /": "the service status",
    "GET /health": "liveness",
    "GET /health/ready": "readiness",
    "GET /health/stt": "speech providers' reachability, no tenant data",
    "POST /auth/login": "the credential is the body (tests/accounts/test_auth.py)",
    "POST /auth/register": "creates a new organization",
    "POST /auth/refresh": "the refresh token is the body (tests/accounts/test_auth.py)",
    "POST /auth/logout": "the refresh token is the body",
    "POST /cadastro/balcao": "the link code is the body (tests/accounts/test_cadastro.py)",
    "POST /livekit/webhook": "signed with the LiveKit secret (tests/test_livekit_webhook.py: forged signatures)",
    "POST /invitations/accept": "the one-time invitation token is the body (tests/accounts/test_invitations.py)",
}
# Operations the test cannot exercise, with the reason; none today.
NOT_EXERCISED: dict[str, str] = {}

# Path parameters that name one object across all organizations: A must never reach B's.
GLOBAL_IDS = {
    "job_id",
    "meeting_id",
    "trigger_id",
    "product_id",
    "device_id",
    "key_id",
    "user_id",
    "stream_id",
    "invitation_id",
}
# Path parameters that are names inside an organization (A's own `AiHelper` is a different object).
ORG_LOCAL_NAMES = {"name", "provider"}


@dataclass
class Victim:
    org: Org
    values: dict[str, str] = field(default_factory=dict)  # path parameter -> one of B's objects
    markers: set[str] = field(default_factory=set)  # strings that must never reach A
    publishable_key: str = ""


@dataclass
class Attacker:
    org: Org
    device_key: str
    publishable_key: str


def _example_body(spec: dict[str, Any], op: dict[str, Any]) -> tuple[str | None, Any]:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = content["application/json"].get("schema", {})
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        examples = schema.get("examples") or [schema.get("example", {})]
        return "json", examples[0]
    if "text/csv" in content:
        return "csv", "nome,ean,preco\nDipirona 1g,7891234567890,12.90\n"
    return None, None


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # B's meeting has a recording on disk, so `/sessions/{meeting_id}/recordings/{file_name}` has a real file.
    return make_settings(database_url=database_url, recordings_dir=tmp_path / "storage")


async def _victim(client: httpx.AsyncClient, marker: str) -> Victim:
    b = await register(client, f"Org {marker}")
    v = Victim(b)
    me = (await client.get("/auth/me", headers=b.headers)).json()
    await put_solution(client, b)
    await put_solution(client, b, "Avatar", "avatar")
    device = await device_for_org(client, b)
    key = await client.post(
        "/keys/publishable", json={"name": f"site {marker}", "allowedOrigins": [ORIGIN]}, headers=b.headers
    )
    secret = f"sk-{marker}-0123456789abcdefghij"
    assert (await client.put("/credentials/openai", json={"secret": secret}, headers=b.headers)).status_code == 200
    room = (await client.post("/token", json=token_body(b.org_id), headers=b.headers)).json()["room"]
    body = event_body("room_started", room_sid=f"RM_{marker}", room_name=room)
    r = await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    assert r.status_code == 200, r.text
    app_settings: Settings = client._transport.app.state.settings  # type: ignore[attr-defined]
    recording = SegmentWriter(
        app_settings.coach.recordings.dir, meeting_id=f"RM_{marker}", room=room, participant="ana", track="TR_a"
    )
    [wav] = recording.push(np.zeros(32_000, dtype=np.int16))
    spec = client._transport.app.openapi()  # type: ignore[attr-defined]
    product_body = {**_example_body(spec, spec["paths"]["/catalog/products"]["post"])[1], "name": f"Dipirona {marker}"}
    product = await client.post("/catalog/products", json=product_body, headers=b.headers)
    assert product.status_code == 201, product.text
    media = {"type": "image", "url": "https://cdn.example/a.png", "title": f"Promo {marker}"}
    trigger = await client.post(
        "/avatar/triggers", json={"name": f"t-{marker}", "phrases": [marker], "media": media}, headers=b.headers
    )
    assert trigger.status_code == 201, trigger.text
    stream = await client.post(
        "/streams", json={"twitch_user_id": "4242", "display_name": f"Streamer {marker}"}, headers=b.headers
    )
    assert stream.status_code == 201, stream.text
    invitation = await client.post(
        "/members", json={"email": f"invitee-{marker.lower()}@example.com", "role": "member"}, headers=b.headers
    )
    assert invitation.status_code == 201, invitation.text
    job = await client.post("/api/export/xlsx/jobs", headers=b.headers)
    assert job.status_code == 202, job.text
    for _ in range(300):  # the export runs beside the app; its file route answers B only once it is done
        state = (await client.get(f"/api/export/xlsx/jobs/{job.json()['id']}", headers=b.headers)).json()
        if state["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    assert state["status"] == "done", state
    v.values = {
        "job_id": job.json()["id"],
        "invitation_id": invitation.json()["id"],
        "meeting_id": f"RM_{marker}",
        "file_name": wav.path.name,
        "trigger_id": trigger.json()["id"],
        "product_id": product.json()["id"],
        "device_id": device["balcao_id"],
        "key_id": key.json()["id"],
        "user_id": me["id"],
        "stream_id": stream.json()["id"],
        "name": "AiHelper",
        "provider": "openai",
    }
    v.publishable_key = key.json()["key"]
    v.markers = {
        marker,
        b.org_id,
        b.email,
        me["id"],
        invitation.json()["token"],
        invitation.json()["email"],
        device["api_key"],
        key.json()["key"],
        secret[-8:],
    } | {v.values[k] for k in GLOBAL_IDS}
    return v


async def _attacker(client: httpx.AsyncClient) -> Attacker:
    a = await register(client, "Org A")
    await put_solution(client, a)
    device = await device_for_org(client, a)
    key = await client.post("/keys/publishable", json={"name": "site", "allowedOrigins": [ORIGIN]}, headers=a.headers)
    return Attacker(a, device["api_key"], key.json()["key"])


def _wrong_credentials(settings: Settings, victim: Victim) -> dict[str, dict[str, str]]:
    """Credentials that are not valid at all: each must be refused (401/403) by every secured operation."""
    claims = jwt.decode(victim.org.access, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-secret-" + "x" * 32, algorithm="HS256")
    expired = jwt.encode(
        {**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
        settings.jwt.access_secret.get_secret_value(),
        algorithm="HS256",
    )
    return {
        "none": {},
        "garbage bearer": {"Authorization": "Bearer not-a-token"},
        "forged token for B": {"Authorization": f"Bearer {forged}"},
        "expired token for B": {"Authorization": f"Bearer {expired}"},
        "garbage API key": {"X-API-Key": "esk_" + "0" * 40},
        "B's publishable key without its Origin": {"X-API-Key": victim.publishable_key},
    }


def _other_org(attacker: Attacker) -> dict[str, dict[str, str]]:
    return {
        "A's access token": attacker.org.headers,
        "A's device key": {"X-API-Key": attacker.device_key},
        "A's publishable key": {"X-API-Key": attacker.publishable_key, "Origin": ORIGIN},
    }


async def _org_rows(pool: asyncpg.Pool, org_id: str) -> dict[str, str]:
    """A digest of every row of the organization, per table with an `org_id` (as the owner: no RLS)."""
    async with pool.acquire() as conn:
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
                "USING (table_schema, table_name) WHERE c.table_schema = 'public' AND c.column_name = 'org_id' "
                "AND t.table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        digests = {}
        for table in tables:
            digests[table] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t WHERE org_id = $1",
                uuid.UUID(org_id),
            )
    return digests


def _leaks(r: httpx.Response, markers: set[str]) -> list[str]:
    """B's strings in the answer, except those the caller sent itself (a 404 may quote the id it was given)."""
    sent = str(r.request.url)
    text = r.text + json.dumps(dict(r.headers))
    return sorted(m for m in markers if m in text and m not in sent)


@dataclass
class Run:
    """One pass over the document: the calls made, what they got, and every failure."""

    client: httpx.AsyncClient
    victim: Victim
    attempts: int = 0
    exercised: int = 0
    failures: list[str] = field(default_factory=list)
    answers: Counter[int] = field(default_factory=Counter)  # A's valid credentials on B's objects

    async def call(
        self, method: str, url: str, send: dict[str, Any], headers: dict[str, str], query: dict[str, str]
    ) -> httpx.Response:
        self.attempts += 1
        merged = {**send.get("headers", {}), **headers}
        rest = {k: v for k, v in send.items() if k != "headers"}
        return await self.client.request(method.upper(), url, params=query, headers=merged, **rest)

    def check_leak(self, what: str, r: httpx.Response) -> None:
        if leaked := _leaks(r, self.victim.markers):
            self.failures.append(f"{what} -> {r.status_code} leaks {leaked}")


def _request_of(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    kind, body = _example_body(spec, op)
    if kind == "json":
        return {"json": body}
    if kind == "csv":
        return {"content": body, "headers": {"Content-Type": "text/csv"}}
    return {}


async def _exercise(
    run: Run,
    spec: dict[str, Any],
    method: str,
    path: str,
    op: dict[str, Any],
    wrong: dict[str, dict[str, str]],
    other: dict[str, dict[str, str]],
) -> None:
    label = f"{method.upper()} {path}"
    victim = run.victim
    requirements = op.get("security", [])
    schemes = {name for req in requirements for name in req}
    optional = {} in requirements
    params = [p for p in op.get("parameters", []) if p["in"] == "path"]
    unknown = [p["name"] for p in params if p["name"] not in victim.values]
    if unknown:
        run.failures.append(f"{label}: no way to fill path parameter(s) {unknown}: teach _victim, or NOT_EXERCISED")
        return
    url = path.format(**{p["name"]: victim.values[p["name"]] for p in params})
    send = _request_of(spec, op)
    if not schemes or optional:
        if not schemes and label not in PUBLIC:
            run.failures.append(f"{label}: no security scheme and not in PUBLIC (say why it is public)")
            return
        run.check_leak(f"{label} anonymous", await run.call(method, url, send, {}, {}))
        if not schemes:
            run.exercised += 1
            return
    if not schemes <= {"accessToken", "apiKey", "adminToken"}:
        run.failures.append(f"{label}: unknown security scheme(s) {schemes}")
        return
    run.exercised += 1
    for name, headers in wrong.items():
        r = await run.call(method, url, send, headers, {})
        if r.status_code not in (401, 403) and not optional:
            run.failures.append(f"{label} with {name} -> {r.status_code} {r.text[:200]}")
        run.check_leak(f"{label} with {name}", r)
    targets_b = any(p["name"] in GLOBAL_IDS for p in params)
    if targets_b and method == "get" and "accessToken" in schemes:
        # The control: B's own token reaches the object, so A's 404s below are about ownership.
        own = await run.call(method, url, send, victim.org.headers, {})
        if own.status_code != 200:
            run.failures.append(f"{label} with B's own token -> {own.status_code}: the probe is not B's object")
    takes_org = any(p["name"] == "orgId" for p in op.get("parameters", []))
    queries: list[dict[str, str]] = [{}] + ([{"orgId": victim.org.org_id}] if takes_org else [])
    for name, headers in other.items():
        for query in queries:
            r = await run.call(method, url, send, headers, query)
            # With `orgId=B` but no id of B's, a member's credential may be answered about its own
            # organization (the sessions' scope does so): the leak check decides.
            if targets_b:
                run.answers[r.status_code] += 1
                if r.status_code not in (401, 403, 404):
                    run.failures.append(f"{label} {query or ''} with {name} -> {r.status_code} {r.text[:200]}")
            run.check_leak(f"{label} {query or ''} with {name}", r)


async def test_no_route_reaches_another_organization(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    spec = client._transport.app.openapi()  # type: ignore[attr-defined]
    victim = await _victim(client, f"victim{uuid.uuid4().hex[:10]}")
    attacker = await _attacker(client)
    before = await _org_rows(db_pool, victim.org.org_id)
    run = Run(client, victim)
    wrong, other = _wrong_credentials(settings, victim), _other_org(attacker)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if f"{method.upper()} {path}" not in NOT_EXERCISED:
                await _exercise(run, spec, method, path, op, wrong, other)
    after = await _org_rows(db_pool, victim.org.org_id)
    changed = sorted(t for t in before if before[t] != after.get(t))
    if changed:
        run.failures.append(f"B's rows changed in {changed}")
    record(
        "tenant_isolation",
        {
            "operations": sum(len(item) for item in spec["paths"].values()),
            "exercised": run.exercised,
            "attempts": run.attempts,
            "credential_kinds": len(wrong) + len(other),
            "failures": len(run.failures),
            "leaks": sum("leaks" in f or "changed" in f for f in run.failures),
            "other_org_answers_on_b_objects": {str(k): v for k, v in sorted(run.answers.items())},
        },
    )
    assert not run.failures, "\n".join(run.failures)


async def test_a_route_it_cannot_exercise_fails_the_suite() -> None:
    """A future route with an unknown path parameter, or public without a reason, is a failure, not a skip."""
    victim = Victim(Org(str(uuid.uuid4()), "b@example.com", "token", "refresh"), values={"name": "AiHelper"})
    async with httpx.AsyncClient(base_url="http://unused") as client:
        run = Run(client, victim)
        secured = {"security": [{"accessToken": []}], "parameters": [{"name": "widget_id", "in": "path"}]}
        await _exercise(run, {}, "get", "/widgets/{widget_id}", secured, {}, {})
        await _exercise(run, {}, "post", "/widgets/open", {"security": []}, {}, {})
    assert run.attempts == 0 and len(run.failures) == 2
    assert "widget_id" in run.failures[0] and "not in PUBLIC" in run.failures[1]
