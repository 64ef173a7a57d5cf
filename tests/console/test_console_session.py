"""The console's sign-in session without a browser: cookie flags, the CSRF rules of the cookie-to-bearer
bridge, token rotation, tenant scope of the pages and the live stream, invitation acceptance, and the message
catalog.

One app for the module, and no emptying of the database between tests (each test makes its own
organizations): building the app and truncating every table was most of each test's time."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from control_api.app import create_app
from control_api.console import i18n
from control_api.console.session import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from core.security.tokens import issue_access
from core.settings import Settings
from core.settings.accounts import RateLimitSettings
from db import counter as counter_repo
from tests.accounts.helpers import PASSWORD, Org, invite_and_join, register
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET, make_settings
from tests.webhook_signing import event_body, sign

TEMPLATES = Path(__file__).resolve().parents[2] / "control_api" / "console" / "templates"


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    # Every test signs in from the same address: the login budget is the rate-limit tests' business.
    return make_settings(database_url=database_url, rate_limit=RateLimitSettings(login="1000/minute"))


@pytest.fixture
def db_pool(_session_pool: asyncpg.Pool) -> asyncpg.Pool:
    return _session_pool


@pytest.fixture(scope="module")
def app(settings: Settings, _session_pool: asyncpg.Pool) -> FastAPI:
    return create_app(settings, pool=_session_pool)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (its own cookies) on the module's app."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def sign_in(client: httpx.AsyncClient, org: Org) -> str:
    """Sign in through the console's form; returns the CSRF token (the client keeps the cookies)."""
    page = await client.get("/console/login")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None
    r = await client.post("/console/login", data={"email": org.email, "password": PASSWORD, "csrf": csrf.group(1)})
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text
    return csrf.group(1)


async def test_sign_in_sets_httponly_strict_cookies_and_never_a_token_in_the_page(client: httpx.AsyncClient) -> None:
    org = await register(client)
    page = await client.get("/console/login")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = await client.post("/console/login", data={"email": org.email, "password": PASSWORD, "csrf": csrf})
    cookies = r.headers.get_list("set-cookie")
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        [c] = [c for c in cookies if c.startswith(name + "=")]
        assert "HttpOnly" in c and "SameSite=Strict" in c and "Path=/" in c
    live = await client.get("/console/")
    assert live.status_code == 200 and "Salas em andamento" in live.text
    access = client.cookies[ACCESS_COOKIE]
    assert access not in live.text and client.cookies[REFRESH_COOKIE] not in live.text
    assert (
        live.headers["cache-control"] == "no-store"
        and "frame-ancestors 'none'" in live.headers["content-security-policy"]
    )


async def test_login_errors_show_next_to_the_field(client: httpx.AsyncClient) -> None:
    org = await register(client)
    page = await client.get("/console/login")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = await client.post("/console/login", data={"email": "not-an-email", "password": "", "csrf": csrf})
    assert r.status_code == 400
    assert 'id="email-error"' in r.text and 'id="password-error"' in r.text
    r = await client.post("/console/login", data={"email": org.email, "password": "wrong", "csrf": csrf})
    assert r.status_code == 401 and "E-mail ou senha incorretos." in r.text
    assert ACCESS_COOKIE not in client.cookies


async def test_form_posts_without_the_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    org = await register(client)
    await client.get("/console/login")  # the CSRF cookie, but no token sent back
    r = await client.post("/console/login", data={"email": org.email, "password": PASSWORD})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = await client.post("/console/login", data={"email": org.email, "password": PASSWORD, "csrf": "x" * 43})
    assert r.status_code == 403


async def test_the_cookie_reaches_the_api_only_with_the_csrf_header_for_unsafe_methods(
    client: httpx.AsyncClient,
) -> None:
    org = await register(client)
    csrf = await sign_in(client, org)
    # Safe methods: the cookie alone is enough (another origin could not read the answer anyway).
    assert (await client.get("/auth/me")).json()["email"] == org.email
    # A cross-site form or fetch has the cookie at most, never the token: not authenticated.
    r = await client.put("/solutions/Loja", json={"profile": "counter"})
    assert r.status_code == 401
    r = await client.put("/solutions/Loja", json={"profile": "counter"}, headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 401
    r = await client.put("/solutions/Loja", json={"profile": "counter"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert client.cookies[CSRF_COOKIE] == csrf


async def test_an_expired_access_token_is_rotated_with_the_refresh_cookie(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    org = await register(client)
    await sign_in(client, org)
    old_refresh = client.cookies[REFRESH_COOKIE]
    me = (await client.get("/auth/me")).json()
    expired = issue_access(
        settings.model_copy(update={"jwt": settings.jwt.model_copy(update={"access_ttl": -60})}),
        user_id=uuid.UUID(me["id"]),
        org_id=uuid.UUID(org.org_id),
        role="owner",
        platform_admin=False,
    )
    client.cookies.clear()
    client.cookies.set(ACCESS_COOKIE, expired, domain="testserver.local")
    client.cookies.set(REFRESH_COOKIE, old_refresh, domain="testserver.local")
    r = await client.get("/auth/me")
    assert r.status_code == 200 and r.json()["email"] == org.email
    rotated = {c.split("=", 1)[0]: c.split("=", 1)[1].split(";")[0] for c in r.headers.get_list("set-cookie")}
    assert rotated[REFRESH_COOKIE] != old_refresh and rotated[ACCESS_COOKIE] != expired
    # The spent refresh token is refused by the API itself.
    assert (await client.post("/auth/refresh", json={"refreshToken": old_refresh})).status_code == 401


async def test_signing_out_revokes_the_refresh_token(client: httpx.AsyncClient) -> None:
    org = await register(client)
    csrf = await sign_in(client, org)
    refresh = client.cookies[REFRESH_COOKIE]
    r = await client.post("/console/logout", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert (await client.post("/auth/refresh", json={"refreshToken": refresh})).status_code == 401
    assert (await client.get("/console/")).status_code == 303


async def _room_for(client: httpx.AsyncClient, org: Org, sid: str) -> None:
    r = await client.put("/solutions/AiHelper", json={"profile": "counter"}, headers=org.headers)
    assert r.status_code == 200
    r = await client.post(
        "/token", json={"solution": "AiHelper", "clientId": org.org_id, "userId": "u1"}, headers=org.headers
    )
    body = event_body("room_started", room_sid=sid, room_name=r.json()["room"])
    r = await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    assert r.status_code == 200


async def test_pages_show_only_the_signed_in_organization(client: httpx.AsyncClient) -> None:
    a, b = await register(client, "A"), await register(client, "B")
    await _room_for(client, a, "RM_a_only")
    await sign_in(client, b)
    assert "RM_a_only" not in (await client.get("/console/")).text
    assert (await client.get("/console/sessions/RM_a_only")).status_code == 404
    client.cookies.clear()
    await sign_in(client, a)
    assert "RM_a_only" in (await client.get("/console/")).text
    assert (await client.get("/console/sessions/RM_a_only")).status_code == 200


async def test_the_platform_admin_switches_organization_and_it_is_audited(
    client: httpx.AsyncClient, db_pool: object, admin_headers: dict[str, str]
) -> None:
    from db import accounts
    from db.tenancy import tenant_connection

    a = await register(client, "Rede A")
    await _room_for(client, a, "RM_switch")
    admin = await register(client, "Plataforma")
    async with tenant_connection(db_pool, None) as conn:  # type: ignore[arg-type]
        await accounts.make_platform_admin(conn, admin.email)
    csrf = await sign_in(client, admin)
    page = (await client.get("/console/")).text
    assert "Rede A" in page and "RM_switch" not in page
    r = await client.post("/console/org", data={"org": a.org_id, "csrf": csrf})
    assert r.status_code == 303
    assert "RM_switch" in (await client.get("/console/")).text
    audit = (await client.get(f"/organization/audit?orgId={a.org_id}", headers=admin_headers)).json()
    assert any(item["path"] == "/console/" for item in audit["items"])
    # A member cannot switch.
    client.cookies.clear()
    csrf = await sign_in(client, a)
    assert (await client.post("/console/org", data={"org": admin.org_id, "csrf": csrf})).status_code == 403


async def test_the_live_stream_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    r = await client.get("/console/events")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_every_message_used_by_the_templates_exists_in_both_languages() -> None:
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""t\(\s*["']([a-z_.]+)["']""", path.read_text()))
    assert used, "the templates use the catalog"
    # Composed keys ("feedback." + fb) are listed by their prefix: every value they take must exist.
    composed = {k for k in used if k.endswith(".")}
    missing = sorted((used - composed) - set(i18n.MESSAGES))
    for prefix, values in {
        "feedback.": ("accepted", "rejected", "none"),
        "room.agent.": ("joined", "waiting"),
        "role.": ("owner", "admin", "member"),
    }.items():
        assert prefix in composed
        missing += [prefix + v for v in values if prefix + v not in i18n.MESSAGES]
    used -= composed
    assert missing == []
    for key in used:
        pt, en = i18n.MESSAGES[key]
        assert pt and en
    assert i18n.normalize(None) == "pt-BR" and i18n.normalize("en-US") == "en" and i18n.normalize("fr") == "pt-BR"


@pytest.mark.parametrize("lang", ["pt-BR", "en"])
async def test_every_view_renders_in_both_languages(client: httpx.AsyncClient, lang: str) -> None:
    org = await register(client)
    await sign_in(client, org)
    client.cookies.set("escuta_lang", lang)
    sid = f"RM_views_{uuid.uuid4().hex[:8]}"  # the database is not emptied between tests
    await _room_for(client, org, sid)
    for path in (
        "/console/",
        "/console/counter",
        "/console/admin",
        "/console/clips",
        "/console/avatar",
        "/console/try",
        f"/console/sessions/{sid}",
    ):
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert f'<html lang="{lang}">' in r.text


async def test_a_new_organization_signs_up_from_the_console(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/signup")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    bad = await client.post(
        "/console/signup", data={"organization": "", "email": "x", "password": "curta", "csrf": csrf}
    )
    assert bad.status_code == 400
    for field in ("organization", "email", "password"):
        assert f'id="{field}-error"' in bad.text
    form = {"organization": "Drogaria Nova", "name": "Bia", "email": "bia@example.com", "password": PASSWORD}
    r = await client.post("/console/signup", data={**form, "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    me = (await client.get("/auth/me")).json()
    assert me["email"] == "bia@example.com" and me["organization"]["name"] == "Drogaria Nova"
    client.cookies.delete(ACCESS_COOKIE)
    client.cookies.delete(REFRESH_COOKIE)
    again = await client.post("/console/signup", data={**form, "csrf": "x" * 43})
    assert again.status_code == 403  # the CSRF token is checked before anything else
    again = await client.post("/console/signup", data={**form, "password": "outra senha longa", "csrf": csrf})
    # Refused, next to the e-mail (an API that says the e-mail is taken) or as a whole (one that does not).
    assert again.status_code in (401, 409) and ('id="email-error"' in again.text or 'role="alert"' in again.text)
    assert ACCESS_COOKIE not in again.cookies


async def test_a_member_sees_the_views_without_the_admin_actions(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    email = f"membro-{uuid.uuid4().hex[:6]}@example.com"
    await invite_and_join(client, owner, email)
    member = Org(owner.org_id, email, "", "")
    await sign_in(client, member)
    counter = await client.get("/console/counter")
    assert counter.status_code == 200
    assert 'id="export-form"' not in counter.text and 'id="csv-form"' not in counter.text
    admin = await client.get("/console/admin")
    assert "Só administradores da organização podem alterar." in admin.text and "data-api=" not in admin.text


async def test_counter_filter_errors_show_next_to_their_field(client: httpx.AsyncClient) -> None:
    org = await register(client)
    await sign_in(client, org)
    r = await client.get("/console/counter?from=2025-02-10&to=2025-02-01&device=nope")
    assert r.status_code == 200
    assert 'id="to-error"' in r.text and 'id="device-error"' in r.text and 'aria-describedby="to-error"' in r.text
    r = await client.get("/console/counter?from=10/02/2025")
    assert 'id="from-error"' in r.text


async def test_the_catalog_count_says_when_it_stopped_counting(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counter_repo, "TOTAL_CAP", 5)
    org = await register(client)
    async with db_pool.acquire() as conn:
        await conn.copy_records_to_table(
            "catalog_products",
            records=[(uuid.UUID(org.org_id), f"Produto {k}", ["azia"]) for k in range(7)],
            columns=["org_id", "name", "indications"],
        )
    await sign_in(client, org)
    r = await client.get("/console/counter")
    assert '<span class="count">5+ produtos</span>' in r.text, "more than the cap: a lower bound, said so"
    r = await client.get("/console/counter", params={"q": "AZIA"})
    assert '<span class="count">7 produtos</span>' in r.text and r.text.count("Produto ") >= 7
    r = await client.get("/console/counter", params={"q": "dor\x00"})
    assert r.status_code == 200 and '<span class="count">0 produtos</span>' in r.text


async def _invitation(client: httpx.AsyncClient, owner: Org, email: str) -> str:
    r = await client.post("/members", json={"email": email, "role": "member"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    assert r.json()["link"] == "/invite#" + token
    return token


async def test_an_invitation_is_accepted_into_httponly_cookies_and_refusals_say_why(client: httpx.AsyncClient) -> None:
    owner = await register(client, "Convida")
    email = f"novo-{uuid.uuid4().hex[:6]}@example.com"
    token = await _invitation(client, owner, email)
    page = await client.get("/invite")
    assert page.status_code == 200 and 'id="invite-password"' in page.text and token not in page.text
    csrf = client.cookies[CSRF_COOKIE]
    accept = "/console/invite/accept"
    body = {"token": token, "password": "nova senha longa", "name": "Novo"}
    assert (await client.post(accept, json=body)).status_code == 403  # no CSRF header: refused
    short = await client.post(accept, json={**body, "password": "curta"}, headers={"X-CSRF-Token": csrf})
    assert short.status_code == 400
    assert short.json()["error"]["details"][0]["field"] == "password"
    r = await client.post(accept, json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json() == {"next": "/console/"}, r.text
    set_cookies = r.headers.get_list("set-cookie")
    assert all("HttpOnly" in c for c in set_cookies if c.startswith((ACCESS_COOKIE, REFRESH_COOKIE)))
    assert client.cookies[ACCESS_COOKIE] not in r.text
    me = (await client.get("/auth/me")).json()
    assert me["email"] == email and me["organization"]["id"] == owner.org_id
    again = await client.post(accept, json=body, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 400 and "já usado" in again.json()["error"]["message"]

    # An existing account: a wrong password is said next to the password field.
    other = await register(client, "Outra")
    token = await _invitation(client, owner, other.email)
    client.cookies.clear()
    await client.get("/invite")
    csrf = client.cookies[CSRF_COOKIE]
    wrong = await client.post(
        accept, json={"token": token, "password": "não é a senha"}, headers={"X-CSRF-Token": csrf}
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["details"][0]["field"] == "password"
    # Signed in as someone else, "accept with this account" is refused with the reason.
    await sign_in(client, owner)
    r = await client.post(
        accept, json={"token": token, "account": "yes"}, headers={"X-CSRF-Token": client.cookies[CSRF_COOKIE]}
    )
    assert r.status_code == 403 and "outro e-mail" in r.json()["error"]["message"]


async def test_a_solution_nobody_can_transcribe_is_shown_as_such(
    database_url: str, _session_pool: asyncpg.Pool
) -> None:
    """Issue 17.1: with only the English-only offline model, a pt-BR solution is flagged on the admin page
    (the same verdict as `GET /solutions`' `speechToText`), and an English one is not."""
    only_english = make_settings(
        database_url=database_url,
        rate_limit=RateLimitSettings(login="1000/minute"),
        stt_providers=["local"],
        stt_local_multilingual_model="",
        stt_language="pt-BR",
    )
    app = create_app(only_english, pool=_session_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        org = await register(client)
        for name, language in (("Balcao", "pt-BR"), ("Helpdesk", "en")):
            body = {"profile": "transcription", "language": language}
            assert (await client.put(f"/solutions/{name}", json=body, headers=org.headers)).status_code == 200
        api = {
            s["name"]: s["speechToText"]["supported"]
            for s in (await client.get("/solutions", headers=org.headers)).json()["items"]
        }
        assert api == {"Balcao": False, "Helpdesk": True}
        await sign_in(client, org)
        page = (await client.get("/console/admin")).text
        cells = dict(
            re.findall(r'<td>(Balcao|Helpdesk)</td><td>[^<]*</td>\s*<td class="stt" data-supported="(yes|no)"', page)
        )
        assert cells == {"Balcao": "no", "Helpdesk": "yes"}
        assert "pt-BR: nenhum provedor configurado ouve este idioma" in page
