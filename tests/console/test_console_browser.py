"""The web console in a real browser (Debian's headless Chromium through Playwright), against a real API
server and PostgreSQL: sign in, live rooms from signed webhooks, a transcript and a recommendation that
appear without reloading, a link code that registers a device, a catalog CSV with a bad row, the Excel
export, the language switch, and the phone layout. Each main view is saved under tests/output/console/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from agents.counter.store import CounterStore
from control_api.routes.console import events as console_events
from core.avatar.credits import Usage
from core.clips.source import ClipRecord
from db import credits
from db.bursts import refresh_bursts
from db.clips import upsert_clips
from db.coach import SnapshotRow, insert_feedback, insert_snapshot
from db.tenancy import tenant_connection
from db.transcription import TranscriptRow, insert_transcript
from tests.accounts.helpers import Org, register
from tests.clips.factories import make_streamer
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
from tests.console.conftest import Server, signed_in_by_form, signed_in_page
from tests.counter.test_export import outcome
from tests.webhook_signing import event_body, sign

LIVE = 10_000  # ms: how long a live update may take to show (it takes well under a second)


async def webhook(http: httpx.AsyncClient, body: bytes) -> None:
    r = await http.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    assert r.status_code == 200, r.text


async def minted_room(http: httpx.AsyncClient, account: Org) -> str:
    """A room minted through `/token` for the organization (webhooks about it land in its sessions)."""
    r = await http.put("/solutions/AiHelper", json={"profile": "counter"}, headers=account.headers)
    assert r.status_code == 200, r.text
    r = await http.post(
        "/token", json={"solution": "AiHelper", "clientId": account.org_id, "userId": "caixa1"}, headers=account.headers
    )
    assert r.status_code == 200, r.text
    room: str = r.json()["room"]
    return room


async def test_a_room_lives_from_sign_in_to_its_end(console_server: Server, browser: Any, shots: Path) -> None:
    """Signing in by the form; a room appears and fills in as webhooks arrive (another organization's never
    shows); its session page gets the transcript, a recommendation and the clerk's answer, and the coach's
    feedback, without reloading, charts the levels and downloads WebVTT; the room disappears when it ends."""
    http, pool = console_server.http, console_server.pool
    account = await register(http, "Farmácia Central")
    org = uuid.UUID(account.org_id)
    other = await register(http, "Outra Rede")
    page = await signed_in_by_form(browser, console_server, account)
    await page.wait_for_selector("#live-state:not(:empty)")
    assert await page.locator(".room").count() == 0

    room, sid = await minted_room(http, account), f"RM_{uuid.uuid4().hex[:10]}"
    other_room = await minted_room(http, other)
    await webhook(http, event_body("room_started", room_sid=sid, room_name=room))
    card = page.locator(f"#room-{sid}")
    await card.wait_for(timeout=LIVE)
    await webhook(http, event_body("room_started", room_sid="RM_other", room_name=other_room))
    clerk = {"sid": "PA_clerk", "identity": "balcao-01", "name": "Balcão 01"}
    await webhook(http, event_body("participant_joined", room_sid=sid, room_name=room, participant=clerk))
    agent = {"sid": "PA_agent", "identity": "agent-xyz", "kind": 4}  # ParticipantInfo.Kind.AGENT
    await webhook(http, event_body("participant_joined", room_sid=sid, room_name=room, participant=agent))
    track = {"sid": "TR_mic", "type": 0, "source": 2, "name": "mic"}  # AUDIO, MICROPHONE
    await webhook(http, event_body("track_published", room_sid=sid, room_name=room, participant=clerk, track=track))
    await card.locator(".badge.track", has_text="microphone").wait_for(timeout=LIVE)
    await card.locator(".agent-joined").wait_for(timeout=LIVE)
    assert "Balcão 01" in await card.inner_text()
    assert "counter" in await card.inner_text()  # the room's profile
    assert await page.locator(".room").count() == 1, "another organization's room never shows"
    await page.screenshot(path=str(shots / "live.png"), full_page=True)

    # The meeting coach's level snapshots are charted when the session page loads.
    t0 = datetime.now(UTC)
    async with tenant_connection(pool, org) as conn:
        for who, level in (("host", -20.0), ("guest", -38.0)):
            for k in range(40):
                at = t0 + timedelta(seconds=k * 3)
                await insert_snapshot(
                    conn, SnapshotRow(sid, who, k * 3.0, at, level, level, level + (k % 5), -3.0, 0.0, 0.5, True, org)
                )
    await page.click(f"#room-{sid} h3 a")
    await page.wait_for_url(f"**/console/sessions/{sid}")
    await page.wait_for_selector("#live-state:not(:empty)")
    plotted = await page.evaluate("Chart.getChart('chart-levels').data.datasets.map(d => [d.label, d.data.length])")
    assert ["host", 40] in plotted and ["guest", 40] in plotted
    marker = await page.evaluate("window.__marker = Math.random()")

    async with tenant_connection(pool, org) as conn:
        await insert_transcript(
            conn,
            TranscriptRow(
                meeting_id=sid,
                segment_id="seg-1",
                participant_identity="cliente",
                start_s=3.0,
                end_s=5.5,
                status="ok",
                org_id=org,
                started_at=datetime.now(UTC),
                text="estou com dor de cabeça desde ontem",
                language="pt",
            ),
        )
    await page.locator("#transcript .utt", has_text="dor de cabeça").wait_for(timeout=LIVE)
    store = await CounterStore.open(pool, org_id=org, meeting_id=sid, device_id=None)
    o = outcome("Dipirona 500 mg", "local", None)
    await store.record(o)
    await page.locator("#recommendations .rec", has_text="Dipirona 500 mg").wait_for(timeout=LIVE)
    await store.feedback({"id": o.event["id"], "feedback": "aceito"}, source="rpc")
    await page.locator("#recommendations .fb-accepted").wait_for(timeout=LIVE)
    await store.close()
    await page.screenshot(path=str(shots / "session.png"), full_page=True)

    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    payload = {
        "id": f"fb-{uuid.uuid4()}", "meetingId": sid, "participantId": "guest", "type": "volume_baixo",
        "severity": "warning", "ts": now_ms, "window": {"start": now_ms - 3000, "end": now_ms - 100},
        "message": "Fale mais alto",
    }  # fmt: skip
    async with tenant_connection(pool, org) as conn:
        await insert_feedback(conn, payload, org_id=org, recipients=("host",), latency_ms=100.0)
    await page.locator("#feedback .badge", has_text="volume_baixo").wait_for(timeout=LIVE)
    await page.locator("#coach-metrics", has_text="1 / 1").wait_for()
    assert await page.evaluate("window.__marker") == marker, "the page was not reloaded"
    await page.screenshot(path=str(shots / "session-coach.png"), full_page=True)

    # The transcript downloads as WebVTT with the signed-in session (no token in the URL).
    async with page.expect_download() as info:
        await page.click("text=WebVTT")
    download = await info.value
    text = (await download.path()).read_text()
    assert text.startswith("WEBVTT") and "dor de cabeça" in text

    await page.goto(console_server.url + "/console/")
    await card.wait_for()
    await page.wait_for_selector("#live-state:not(:empty)")
    await webhook(http, event_body("room_finished", room_sid=sid, room_name=room))
    await card.wait_for(state="detached", timeout=LIVE)
    assert await page.locator("#no-rooms").is_visible()
    await page.context.close()


async def test_a_link_code_registers_a_device_which_is_then_revoked(
    console_server: Server, browser: Any, shots: Path
) -> None:
    http = console_server.http
    account = await register(http, "Farmácia Central")
    page = await signed_in_page(browser, console_server, account)
    await page.click("nav >> text=Administração")
    await page.wait_for_url("**/console/admin")
    await page.click("#link-code-form button")
    shown = page.locator("#link-code")
    await shown.wait_for(state="visible")
    code = (await shown.inner_text()).split(":", 1)[1].split()[0]
    r = await http.post("/cadastro/balcao", json={"nome_balcao": "Balcão Entrada", "user_codigo": code})
    assert r.status_code == 200, r.text
    await page.reload()
    row = page.locator("#devices tr", has_text="Balcão Entrada")
    await row.wait_for()
    page.once("dialog", lambda d: d.accept())
    await row.locator("button", has_text="Revogar").click()
    await page.locator("#devices tr", has_text="Balcão Entrada").locator(".badge.warn").wait_for()
    key = r.json()["api_key"]
    assert (await http.get("/devices/me", headers={"X-API-Key": key})).status_code == 401

    # A form error shows next to its field: an origin is scheme://host[:port].
    key_form = page.locator("form[data-api='POST /keys/publishable']")
    await page.fill("#k-name", "site")
    await page.fill("#k-origins", "not-an-origin")
    await key_form.locator("button[type=submit]").click()
    error = key_form.locator(".field-error[data-for='allowedOrigins']")
    await error.wait_for(state="visible")
    assert "not-an-origin" in await error.inner_text()
    # Then the key, shown once.
    await page.fill("#k-origins", "https://www.farmacia.com.br")
    await key_form.locator("button[type=submit]").click()
    once = key_form.locator(".once")
    await once.wait_for(state="visible")
    key = (await once.inner_text()).split(":", 1)[1].strip()
    assert key.startswith("pk_")
    await page.reload()
    assert key not in await page.content()
    assert await page.locator("#keys tr", has_text="https://www.farmacia.com.br").count() == 1

    # A provider credential: set, shown masked only, deleted.
    secret = "sk-proj-console-0123456789abcdefWXYZ"
    await page.select_option("#cr-provider", "openai")
    await page.fill("#cr-secret", secret)
    await page.click("form[data-api='PUT /credentials/{provider}'] button[type=submit]")
    await page.locator("#credentials tr", has_text="openai").wait_for()
    assert secret not in await page.content()
    page.once("dialog", lambda d: d.accept())
    await page.locator("#credentials tr", has_text="openai").locator("button").click()
    await page.locator("#credentials tr", has_text="openai").wait_for(state="detached")

    # A solution and its profile.
    await page.fill("#s-name", "Balcão Centro")
    await page.fill("#s-profile", "counter")
    await page.click("form[data-api='PUT /solutions/{name}'] button[type=submit]")
    await page.locator("#solutions tr", has_text="Balcão Centro").wait_for()

    await page.screenshot(path=str(shots / "admin.png"), full_page=True)
    await page.context.close()


CSV = (
    "nome,principios_ativos,indicacoes,exige_receita,preco\n"
    "Dipirona 500 mg,dipirona,dor de cabeça|febre,não,8.50\n"
    "Paracetamol 750 mg,paracetamol,febre,talvez,abc\n"
)


async def test_catalog_upload_shows_row_errors_and_the_excel_export_downloads(
    console_server: Server, browser: Any, shots: Path, tmp_path: Path
) -> None:
    http = console_server.http
    account = await register(http, "Farmácia Central")
    org = uuid.UUID(account.org_id)
    for n, (product, answer) in enumerate([("Dipirona 500 mg", "aceito"), ("Dipirona 500 mg", "rejeitado")]):
        store = await CounterStore.open(console_server.pool, org_id=org, meeting_id=f"RM_c{n}", device_id=None)
        o = outcome(product, "local", None)
        await store.record(o)
        await store.feedback({"id": o.event["id"], "feedback": answer}, source="rpc")
        await store.close()
    page = await signed_in_page(browser, console_server, account, path="/console/counter")
    chart = await page.evaluate(
        "(({labels, datasets}) => [labels, datasets[0].data])(Chart.getChart('chart-product').data)"
    )
    assert chart == [["Dipirona 500 mg"], [50]]  # one accepted of two answered
    assert await page.locator("#history tbody tr").count() == 2
    await page.select_option("#f-feedback", "accepted")
    await page.click("form.filters button.primary >> nth=0")
    await page.wait_for_url("**feedback=accepted**")
    assert await page.locator("#history tbody tr").count() == 1
    csv = tmp_path / "catalogo.csv"
    csv.write_text(CSV, encoding="utf-8")
    await page.set_input_files("#csv-file", str(csv))
    await page.click("#csv-form button[type=submit]")
    errors = page.locator("#csv-errors")
    await errors.wait_for(state="visible")
    rows = await errors.locator("tbody tr").all_inner_texts()
    assert rows and all(r.startswith("3") for r in rows), rows  # line 3 is the bad row
    assert (await http.get("/catalog/products", headers=account.headers)).json()["total"] == 0

    await page.check("#csv-skip")
    await page.click("#csv-form button[type=submit]")
    await page.locator("#csv-result", has_text="1").wait_for()
    await page.reload()
    await page.locator("#catalog tr", has_text="Dipirona 500 mg").wait_for()
    await page.screenshot(path=str(shots / "counter.png"), full_page=True)

    async with page.expect_download() as info:
        await page.click("#export-button")
    download = await info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    workbook = load_workbook(saved, read_only=True)
    assert "Resumo" in workbook.sheetnames
    await page.context.close()


async def test_language_switch_and_phone_layout(console_server: Server, browser: Any, shots: Path) -> None:
    account = await register(console_server.http, "Farmácia Central")
    page = await signed_in_page(browser, console_server, account, width=375)
    assert await page.locator("html").get_attribute("lang") == "pt-BR"
    assert await page.locator("nav a", has_text="Ao vivo").count() == 1
    await page.screenshot(path=str(shots / "live-375px.png"), full_page=True)
    # Nothing is wider than the phone's screen.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375

    # Keyboard only: tab to the language select, pick English, submit.
    await page.focus("#lang-switch")
    await page.keyboard.press("ArrowDown")
    await page.focus("#lang-apply")
    await page.keyboard.press("Enter")
    await page.wait_for_load_state()
    await page.locator("nav a", has_text="Live now").wait_for()
    assert await page.locator("html").get_attribute("lang") == "en"
    await page.goto(console_server.url + "/console/counter")
    assert await page.locator("h1", has_text="Counter").count() == 1
    await page.screenshot(path=str(shots / "counter-375px-en.png"), full_page=True)
    for view in ("/console/admin", "/console/clips", "/console/avatar", "/console/try"):
        await page.goto(console_server.url + view)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375, view
    await page.context.close()


async def test_clips_and_avatar_views_chart_their_data(console_server: Server, browser: Any, shots: Path) -> None:
    http, pool = console_server.http, console_server.pool
    account = await register(http, "Streams")
    org = uuid.UUID(account.org_id)
    settings = console_server.app.state.settings
    streamer = await make_streamer(pool, org, settings, twitch_user_id="4242")
    end = datetime.now(UTC) - timedelta(minutes=30)
    clips = [ClipRecord(f"c{i}", "4242", end - timedelta(seconds=10 * i), 5, "t", 30.0) for i in range(3)]
    async with tenant_connection(pool, org) as conn:
        res = await upsert_clips(conn, org, streamer, clips, "csv")
        assert res.earliest_new is not None
        await refresh_bursts(conn, org, streamer, res.earliest_new)
        await credits.add_entry(conn, org, "grant", Decimal("100"), "boas-vindas")
        await credits.record_usage(
            conn, org_id=org, meeting_id="RM_av1", room_name="avatar-1", started_at=end - timedelta(minutes=10),
            ended_at=end, usage=Usage(avatar_seconds=600.0), credits=Decimal("12.5"), source="agent",
        )  # fmt: skip
    page = await signed_in_page(browser, console_server, account, path="/console/clips")
    plotted = await page.evaluate(
        "Chart.getChart('chart-bursts').data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)])"
    )
    assert plotted == [["streamer 4242", 1]]  # one burst in the last 30 days
    assert await page.locator("#streamers tr", has_text="streamer 4242").count() == 1
    await page.screenshot(path=str(shots / "clips.png"), full_page=True)

    await page.click("nav >> text=Avatar")
    await page.wait_for_url("**/console/avatar")
    assert (await page.inner_text("#balance")).strip() == "87.50"
    used = await page.evaluate(
        "Chart.getChart('chart-usage').data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))"
    )
    assert used == [12.5, 10.0]  # credits and avatar minutes over the 30 days
    await page.screenshot(path=str(shots / "avatar.png"), full_page=True)
    await page.context.close()


async def test_a_page_resynchronises_after_its_stream_ends(
    console_server: Server, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streams end with the access token's lifetime; what happened while reconnecting is not lost."""
    monkeypatch.setattr(console_events, "MAX_STREAM_SECONDS", 0.5)
    monkeypatch.setattr(console_events, "RETRY_MS", 200)
    http = console_server.http
    account = await register(http, "Farmácia Central")
    page = await signed_in_page(browser, console_server, account)
    state = page.locator("#live-state")
    await state.wait_for()
    retrying = await state.get_attribute("data-retry")
    assert retrying
    await page.locator("#live-state", has_text=retrying).wait_for(timeout=LIVE)  # the stream ended
    room, sid = await minted_room(http, account), f"RM_{uuid.uuid4().hex[:10]}"
    await webhook(http, event_body("room_started", room_sid=sid, room_name=room))  # while no stream is open
    await page.locator(f"#room-{sid}").wait_for(timeout=LIVE)
    await page.context.close()
