"""Export jobs (issue 20.2): progress and result, tenant isolation, failures reported instead of lost."""

from __future__ import annotations

import asyncio
import io
import os
import uuid
from typing import Any

import asyncpg
import httpx
from openpyxl import load_workbook

from control_api.app import create_app
from control_api.services import exports
from core.settings import Settings
from db.counter_report import COST_HEADERS, INTERACTION_HEADERS, SUMMARY_HEADERS
from tests.conftest import make_settings
from tests.counter.test_export import _populate, _sheet


async def _wait(client: httpx.AsyncClient, job: dict[str, Any], headers: dict[str, str]) -> list[dict[str, Any]]:
    """Poll until the job ends; every state seen."""
    seen = [job]
    for _ in range(600):
        if seen[-1]["status"] in ("done", "failed"):
            return seen
        await asyncio.sleep(0.1)
        r = await client.get(f"/api/export/xlsx/jobs/{job['id']}", headers=headers)
        assert r.status_code == 200, r.text
        seen.append(r.json())
    raise AssertionError(f"the job never ended: {seen[-1]}")


async def test_job_progress_result_and_isolation(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await _populate(client, db_pool, "Farmacia A", "Produto da A")
    b = await _populate(client, db_pool, "Farmacia B", "Segredo da B")
    h = a["org"].headers

    r = await client.post("/api/export/xlsx/jobs", params={"from": "2020-01-01", "to": "2099-12-31"}, headers=h)
    assert r.status_code == 400, "a range over 400 days is refused up front"
    r = await client.post("/api/export/xlsx/jobs", params={"device": str(b["device_id"])}, headers=h)
    assert r.status_code == 404, "another organization's device does not exist"
    r = await client.post("/api/export/xlsx/jobs", headers=h)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["rowsDone"] == 0 and job["filename"].startswith("escuta-balcao-")
    assert set(job["params"]) == {"from", "to", "device"}
    r = await client.get("/api/export/xlsx/jobs/" + job["id"] + "/file", headers=h)
    assert r.status_code in (200, 409)  # may already be done on a fast machine; never another answer

    states = await _wait(client, job, h)
    final = states[-1]
    assert final["status"] == "done", final
    assert final["rowsTotal"] == 6 and final["rowsDone"] == 6 and final["progress"] == 1.0  # 3 recs + 3 interactions
    assert final["sizeBytes"] > 0 and final["finishedAt"] is not None
    assert all(s["progress"] is None or 0 <= s["progress"] <= 1 for s in states)

    r = await client.get(f"/api/export/xlsx/jobs/{job['id']}/file", headers=h)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert job["filename"] in r.headers["content-disposition"]
    assert len(r.content) == final["sizeBytes"]
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    assert wb.sheetnames == ["Resumo", "Interações", "Custos"]
    interactions = _sheet(wb, "Interações")
    assert interactions[0] == INTERACTION_HEADERS and len(interactions) == 4
    assert {row[3] for row in interactions[1:]} == {"Produto da A"}
    assert _sheet(wb, "Custos")[0] == COST_HEADERS and _sheet(wb, "Resumo")[0] == SUMMARY_HEADERS

    # Another organization's admin: the job does not exist for them, nor in their list.
    hb = b["org"].headers
    for path in (f"/api/export/xlsx/jobs/{job['id']}", f"/api/export/xlsx/jobs/{job['id']}/file"):
        r = await client.get(path, headers=hb)
        assert r.status_code == 404, r.text
    r = await client.get("/api/export/xlsx/jobs", headers=hb)
    assert r.json()["items"] == []
    r = await client.get("/api/export/xlsx/jobs", headers=h)
    assert [j["id"] for j in r.json()["items"]] == [job["id"]]


async def test_a_failed_export_is_reported_on_the_job(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, database_url: str
) -> None:
    a = await _populate(client, db_pool, "Farmacia A", "Produto da A")
    h = a["org"].headers
    # The export process cannot reach the database (a DSN it cannot use): the job must end `failed`.
    broken: Settings = make_settings(database_url=database_url.rsplit("/", 1)[0] + "/escuta_no_such_database")
    app = create_app(broken, pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.post("/api/export/xlsx/jobs", headers=h)
        assert r.status_code == 202, r.text
        final = (await _wait(c, r.json(), h))[-1]
        assert final["status"] == "failed" and final["error"], final
        r = await c.get(f"/api/export/xlsx/jobs/{final['id']}/file", headers=h)
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_ready"
        r = await c.get("/api/export/xlsx", headers=h)
        assert r.status_code == 503 and r.json()["error"]["code"] == "export_failed"


async def test_a_job_whose_process_was_lost_reads_as_failed(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await _populate(client, db_pool, "Farmacia A", "Produto da A")
    job_id = uuid.uuid4()
    await db_pool.execute(
        "INSERT INTO export_jobs (id, org_id, params, status, filename, updated_at)"
        " VALUES ($1, $2, '{}', 'running', 'x.xlsx', now() - interval '1 hour')",
        job_id,
        uuid.UUID(a["org"].org_id),
    )
    r = await client.get(f"/api/export/xlsx/jobs/{job_id}", headers=a["org"].headers)
    assert r.status_code == 200
    assert r.json()["status"] == "failed" and "lost" in r.json()["error"]
    # A lost job does not count against the organization's limit of jobs at once.
    r = await client.post("/api/export/xlsx/jobs", headers=a["org"].headers)
    assert r.status_code == 202
    await _wait(client, r.json(), a["org"].headers)


async def test_export_processes_run_at_background_priority() -> None:
    """Exports are background work: the API's requests come first on a busy machine."""
    policy, niceness = await asyncio.wrap_future(exports._pool(1).submit(exports.process_priority))
    assert policy == os.SCHED_OTHER  # not the idle class: an export must still advance on a busy machine
    assert niceness >= min(19, os.nice(0) + exports.EXPORT_NICENESS)
