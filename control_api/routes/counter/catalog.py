"""`/catalog`: an organization's products for the counter assistant (seed 001), and the CSV import.

Reads are open to the organization's users and counter devices; writes to its admins. Another
organization's product answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from control_api.deps import Pool
from control_api.errors import ApiError
from control_api.principals import CurrentPrincipal, OrgAdmin, Principal
from control_api.schemas.common import errors
from control_api.schemas.counter import ImportResult, Product, ProductBody, ProductPage, RowProblem
from control_api.schemas.formats import CursorQuery, NoNul
from core.counter.catalog import SAMPLE_CATALOG, parse_csv
from core.offload import run_cpu
from db import counter as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/catalog", tags=["catalog"])

# Pages stop here: deeper is a client bug (and past 2**63 an offset cannot even reach PostgreSQL).
MAX_OFFSET = 1_000_000
CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "nome,principios_ativos,indicacoes,contraindicacoes,exige_receita,preco\n"
                "Dipirona 500 mg,dipirona,dor de cabeça|febre,gravidez,não,8.50\n",
            }
        },
    }
}


def catalog_reader(principal: CurrentPrincipal) -> Principal:
    """Users of the organization and its counter devices; browser keys only mint tokens."""
    if principal.kind == "publishable":
        raise ApiError(403, "forbidden", "publishable keys cannot read the catalog")
    return principal


CatalogReader = Annotated[Principal, Depends(catalog_reader)]


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "no such product")


def _conflict() -> ApiError:
    return ApiError(409, "conflict", "a product with this name or sku already exists")


@router.get("/products")
async def list_products(
    reader: CatalogReader,
    pool: Pool,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of a name or an indication, any case; `%` and `_` are literal."),
        NoNul,
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    cursor: CursorQuery = None,
) -> ProductPage:
    async with tenant_connection(pool, reader.org_id) as conn:
        page, count = await repo.page_products(conn, reader.org_id, query=q, limit=limit, offset=offset, cursor=cursor)
    return ProductPage(
        items=[Product.from_row(r) for r in page.rows],
        total=count.total,
        totalExact=count.exact,
        limit=limit,
        offset=offset,
        nextCursor=page.next_cursor,
    )


@router.get("/products/{product_id}")
async def get_product(product_id: uuid.UUID, reader: CatalogReader, pool: Pool) -> Product:
    async with tenant_connection(pool, reader.org_id) as conn:
        row = await repo.get_product(conn, reader.org_id, product_id)
    if row is None:
        raise _not_found()
    return Product.from_row(row)


@router.post("/products", status_code=201, responses=errors(409))
async def create_product(body: ProductBody, admin: OrgAdmin, pool: Pool) -> Product:
    product = body.to_product()
    try:
        async with tenant_connection(pool, admin.org_id) as conn:
            return Product.from_row(await repo.create_product(conn, admin.org_id, product))
    except asyncpg.UniqueViolationError:
        raise _conflict() from None


@router.put("/products/{product_id}", responses=errors(409))
async def replace_product(product_id: uuid.UUID, body: ProductBody, admin: OrgAdmin, pool: Pool) -> Product:
    product = body.to_product()
    try:
        async with tenant_connection(pool, admin.org_id) as conn:
            row = await repo.update_product(conn, admin.org_id, product_id, product)
    except asyncpg.UniqueViolationError:
        raise _conflict() from None
    if row is None:
        raise _not_found()
    return Product.from_row(row)


@router.delete("/products/{product_id}", status_code=204)
async def delete_product(product_id: uuid.UUID, admin: OrgAdmin, pool: Pool) -> None:
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_product(conn, admin.org_id, product_id):
            raise _not_found()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Spreadsheets saved as CSV on Brazilian Windows machines are usually Windows-1252.
        return raw.decode("cp1252", errors="replace")


async def _import(
    pool: asyncpg.Pool, org_id: uuid.UUID, text: str, *, skip_invalid: bool, dry_run: bool
) -> ImportResult:
    # About 0.2 s of pure Python per MB: in the CPU pool, so the loop keeps serving other requests.
    rows, problems = await run_cpu(parse_csv, text)
    # A header-level note (unknown columns) is a warning; row errors decide whether we import.
    row_errors = [e for e in problems if e.line > 1 or e.field is not None or not rows]
    if row_errors and not skip_invalid:
        raise ApiError(
            422,
            "invalid_csv",
            f"{len(row_errors)} problem(s) in the file; nothing was imported "
            "(skip_invalid=true imports the valid rows)",
            details=[p.model_dump() for p in RowProblem.many(problems)],
        )
    created = updated = 0
    if not dry_run and rows:
        async with tenant_connection(pool, org_id) as conn:
            created, updated = await repo.upsert_products(conn, org_id, [p for _line, p in rows])
    return ImportResult(
        dry_run=dry_run, valid_rows=len(rows), created=created, updated=updated, errors=RowProblem.many(problems)
    )


# The body is read by hand (any encoding, size checked before decoding), so it is declared here.
@router.post("/import", responses=errors(413, 422), openapi_extra=CSV_BODY)
async def import_csv(
    request: Request,
    admin: OrgAdmin,
    pool: Pool,
    skip_invalid: Annotated[bool, Query(description="Import the valid rows even if others are invalid.")] = False,
    dry_run: Annotated[bool, Query(description="Validate only.")] = False,
) -> ImportResult:
    """CSV in the request body (``text/csv``); products are matched by name and updated in place.

    Columns: name, sku, active_ingredients, indications, contraindications, warnings,
    prescription_required (sim/não), price, tags, and the optional restrictions min_age (``6 meses``,
    ``2 anos``, ``adulto``), pregnancy and breastfeeding (seguro/cautela/contraindicado), interactions;
    lists separated by ``|``; Portuguese headers work.
    """
    # At most ESCUTA_API_MAX_CSV_BYTES: the body limit is enforced while it arrives (control_api/limits.py).
    raw = await request.body()
    text = await run_cpu(_decode, raw)
    return await _import(pool, admin.org_id, text, skip_invalid=skip_invalid, dry_run=dry_run)


@router.post("/import/sample")
async def import_sample(admin: OrgAdmin, pool: Pool) -> ImportResult:
    """Load the shipped sample catalog (demo pharmacy, 81 products) into this organization."""
    text = await run_cpu(SAMPLE_CATALOG.read_text, encoding="utf-8")
    return await _import(pool, admin.org_id, text, skip_invalid=False, dry_run=False)
