"""`/catalog`: CRUD, CSV import with per-line errors, and tenant isolation (real PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx

from core.counter.catalog import load_sample_catalog
from tests.accounts.helpers import device_for_org, register

PRODUCT = {
    "name": "Paracetamol 750 mg",
    "sku": "P750",
    "active_ingredients": ["paracetamol"],
    "indications": ["dor de cabeça", "febre"],
    "contraindications": ["problema no fígado"],
    "warnings": "Não exceder 4 g por dia.",
    "prescription_required": False,
    "price": "9.90",
    "tags": ["analgésico"],
}

CSV_WITH_ERRORS = """nome,principios_ativos,indicacoes,contraindicacoes,exige_receita,preco
Dipirona 500 mg,dipirona,dor de cabeça|febre,gravidez,não,8.50
,paracetamol,febre,,não,5.00
Loratadina 10 mg,loratadina,alergia|espirro,,talvez,11.90
Omeprazol 20 mg,omeprazol,azia,,não,dezenove
Amoxicilina 500 mg,amoxicilina,infecção,,sim,"24,90"
Dipirona 500 mg,dipirona,dor,,não,8.50
"""


async def test_crud(client: httpx.AsyncClient) -> None:
    org = await register(client)
    r = await client.post("/catalog/products", json=PRODUCT, headers=org.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["price"] == "9.90" and created["indications"] == ["dor de cabeça", "febre"]
    assert created["created_at"].endswith("+00:00"), "timestamps keep their isoformat offset, never 'Z'"
    pid = created["id"]

    r = await client.post(
        "/catalog/products", json={**PRODUCT, "sku": None, "name": "paracetamol 750 MG"}, headers=org.headers
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"

    r = await client.get(f"/catalog/products/{pid}", headers=org.headers)
    assert r.status_code == 200 and r.json()["name"] == "Paracetamol 750 mg"

    r = await client.put(f"/catalog/products/{pid}", json={**PRODUCT, "price": "10.50"}, headers=org.headers)
    assert r.status_code == 200 and r.json()["price"] == "10.50"

    r = await client.get("/catalog/products", params={"q": "febre"}, headers=org.headers)
    assert r.json()["total"] == 1 and r.json()["items"][0]["id"] == pid
    r = await client.get("/catalog/products", params={"q": "%"}, headers=org.headers)
    assert r.json()["total"] == 0, "LIKE wildcards in the search are literal"

    r = await client.post(
        "/catalog/products",
        json={**PRODUCT, "name": "X", "indications": [], "active_ingredients": []},
        headers=org.headers,
    )
    assert r.status_code == 400

    r = await client.delete(f"/catalog/products/{pid}", headers=org.headers)
    assert r.status_code == 204
    r = await client.get(f"/catalog/products/{pid}", headers=org.headers)
    assert r.status_code == 404


async def test_other_organization_sees_nothing(client: httpx.AsyncClient) -> None:
    org_a = await register(client, "Farmácia A")
    org_b = await register(client, "Farmácia B")
    r = await client.post("/catalog/products", json=PRODUCT, headers=org_a.headers)
    pid = r.json()["id"]
    attempts: list[tuple[str, dict[str, Any]]] = [("GET", {}), ("PUT", {"json": PRODUCT}), ("DELETE", {})]
    for method, kwargs in attempts:
        r = await client.request(method, f"/catalog/products/{pid}", headers=org_b.headers, **kwargs)
        assert r.status_code == 404, (method, r.text)
    r = await client.get("/catalog/products", headers=org_b.headers)
    assert r.json() == {"items": [], "total": 0, "totalExact": True, "limit": 100, "offset": 0, "nextCursor": None}
    # B importing a product with the same name creates B's own row; A's is untouched.
    r = await client.post(
        "/catalog/import", content="name,indications\nParacetamol 750 mg,febre\n", headers=org_b.headers
    )
    assert r.status_code == 200 and r.json()["created"] == 1
    r = await client.get(f"/catalog/products/{pid}", headers=org_a.headers)
    assert r.json()["indications"] == ["dor de cabeça", "febre"]


async def test_devices_read_but_do_not_write(client: httpx.AsyncClient) -> None:
    org = await register(client)
    await client.post("/catalog/products", json=PRODUCT, headers=org.headers)
    device = await device_for_org(client, org)
    headers = {"X-API-Key": device["api_key"]}
    r = await client.get("/catalog/products", headers=headers)
    assert r.status_code == 200 and r.json()["total"] == 1
    r = await client.post("/catalog/products", json={**PRODUCT, "name": "Outro"}, headers=headers)
    assert r.status_code in (401, 403)


async def test_csv_import_reports_each_bad_line(client: httpx.AsyncClient) -> None:
    org = await register(client)
    r = await client.post("/catalog/import", content=CSV_WITH_ERRORS.encode(), headers=org.headers)
    assert r.status_code == 422
    problems = {(d["line"], d["field"]) for d in r.json()["error"]["details"]}
    assert problems == {(3, "name"), (4, "prescription_required"), (5, "price"), (7, "name")}
    assert (await client.get("/catalog/products", headers=org.headers)).json()["total"] == 0, "all or nothing"

    r = await client.post(
        "/catalog/import", params={"skip_invalid": "true"}, content=CSV_WITH_ERRORS.encode(), headers=org.headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 2 and len(body["errors"]) == 4
    items = (await client.get("/catalog/products", headers=org.headers)).json()["items"]
    amox = next(i for i in items if i["name"] == "Amoxicilina 500 mg")
    assert amox["prescription_required"] is True and amox["price"] == "24.90"


async def test_csv_import_updates_by_name_and_reads_windows_1252(client: httpx.AsyncClient) -> None:
    org = await register(client)
    first = "nome,indicacoes,preco\nDipirona 500 mg,dor de cabeça,8.50\n"
    second = "nome,indicacoes,preco\ndipirona 500 MG,dor de cabeça|febre,7.90\n"
    r = await client.post("/catalog/import", content=first.encode("cp1252"), headers=org.headers)
    assert r.json()["created"] == 1
    r = await client.post("/catalog/import", content=second.encode("utf-8"), headers=org.headers)
    assert r.json()["created"] == 0 and r.json()["updated"] == 1
    items = (await client.get("/catalog/products", headers=org.headers)).json()["items"]
    assert len(items) == 1 and items[0]["indications"] == ["dor de cabeça", "febre"] and items[0]["price"] == "7.90"


async def test_sample_catalog_import(client: httpx.AsyncClient) -> None:
    org = await register(client)
    r = await client.post("/catalog/import/sample", headers=org.headers)
    assert r.status_code == 200, r.text
    sample = load_sample_catalog()
    assert r.json()["created"] == len(sample) >= 70
    assert sum(p.prescription_required for p in sample) >= 5
    assert sum(not p.prescription_required for p in sample) >= 60
    r = await client.get("/catalog/products", params={"limit": 500}, headers=org.headers)
    assert r.json()["total"] == len(sample)


CSV_RESTRICTIONS = (
    ("nome,principios_ativos,indicacoes,contraindicacoes,exige_receita,idade_minima,gravidez,amamentacao,interacoes\n")
    + """Ibuprofeno 400 mg,ibuprofeno,dor,úlcera,não,adulto,D,seguro,anticoagulante|lítio
Paracetamol gotas,paracetamol,febre,,não,3 meses,seguro,,
Xarope X,guaco,tosse,,não,dois anos,talvez,,
"""
)


async def test_restrictions_columns_import_and_round_trip(client: httpx.AsyncClient) -> None:
    """The new optional columns are stored and returned; a bad age or category is a line error."""
    org = await register(client)
    r = await client.post("/catalog/import", content=CSV_RESTRICTIONS.encode(), headers=org.headers)
    assert r.status_code == 422
    assert {(d["line"], d["field"]) for d in r.json()["error"]["details"]} == {(4, "min_age"), (4, "pregnancy")}
    r = await client.post(
        "/catalog/import", params={"skip_invalid": "true"}, content=CSV_RESTRICTIONS.encode(), headers=org.headers
    )
    assert r.status_code == 200 and r.json()["created"] == 2
    items = {i["name"]: i for i in (await client.get("/catalog/products", headers=org.headers)).json()["items"]}
    ibu = items["Ibuprofeno 400 mg"]
    assert ibu["min_age_months"] == 144 and ibu["pregnancy"] == "contraindicado" and ibu["breastfeeding"] == "seguro"
    assert ibu["interactions"] == ["anticoagulante", "lítio"]
    drops = items["Paracetamol gotas"]
    assert drops["min_age_months"] == 3 and drops["pregnancy"] == "seguro" and drops["breastfeeding"] is None
    # The JSON API takes the same fields; an unknown category is refused.
    body = {**PRODUCT, "name": "Loratadina", "min_age_months": 24, "pregnancy": "cautela", "interactions": ["IMAO"]}
    r = await client.post("/catalog/products", json=body, headers=org.headers)
    assert r.status_code == 201 and r.json()["min_age_months"] == 24 and r.json()["interactions"] == ["IMAO"]
    r = await client.post("/catalog/products", json={**body, "name": "Y", "pregnancy": "talvez"}, headers=org.headers)
    assert r.status_code == 400 and r.json()["error"]["code"]


async def test_old_csv_without_restrictions_still_imports(client: httpx.AsyncClient) -> None:
    """A catalog written before the restriction columns imports as before; its restrictions are unknown."""
    org = await register(client)
    old = "name,active_ingredients,indications,contraindications,prescription_required,price\n"
    old += "Dipirona 500 mg,dipirona,dor de cabeça|febre,gravidez|criança,não,8.50\n"
    r = await client.post("/catalog/import", content=old.encode(), headers=org.headers)
    assert r.status_code == 200 and r.json()["created"] == 1 and r.json()["errors"] == []
    item = (await client.get("/catalog/products", headers=org.headers)).json()["items"][0]
    assert item["min_age_months"] is None and item["pregnancy"] is None and item["interactions"] == []


async def test_paging_bounds(client: httpx.AsyncClient) -> None:
    """A page past the last is empty; an offset beyond the maximum (or PostgreSQL's bigint) is a 400."""
    org = await register(client)
    await client.post("/catalog/products", json=PRODUCT, headers=org.headers)
    r = await client.get("/catalog/products", params={"offset": 1_000_000}, headers=org.headers)
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 1
    for offset in (1_000_001, 2**63, -1):
        r = await client.get("/catalog/products", params={"offset": offset}, headers=org.headers)
        assert r.status_code == 400 and "offset" in r.json()["error"]["message"], r.text
