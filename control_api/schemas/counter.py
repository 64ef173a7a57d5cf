"""The counter assistant's catalog (seed 001's pharmacy products) and its CSV import, as the API answers them."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from asyncpg import Record
from pydantic import BaseModel, ConfigDict, Field

from control_api.errors import ApiError
from control_api.schemas.common import DecimalString, Timestamp
from control_api.schemas.formats import NEXT_CURSOR_DESCRIPTION, RequestBody
from core.counter.catalog import Product as CatalogProduct
from core.counter.catalog import RowError

_Item = Annotated[str, Field(min_length=1, max_length=500)]

PRODUCT_EXAMPLE: dict[str, Any] = {
    "name": "Paracetamol 750 mg",
    "sku": "MIP-001",
    "active_ingredients": ["paracetamol"],
    "indications": ["dor de cabeça", "febre", "dor no corpo"],
    "contraindications": ["problema no fígado"],
    "warnings": "Não exceder 4 g por dia. Evitar com bebida alcoólica. Uso adulto.",
    "prescription_required": False,
    "price": "9.90",
    "tags": ["analgésico", "antitérmico"],
    "min_age_months": 144,
    "pregnancy": "seguro",
    "breastfeeding": "seguro",
    "interactions": [],
}


class ProductBody(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [PRODUCT_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    sku: str | None = Field(None, min_length=1, max_length=100)
    active_ingredients: list[_Item] = Field(default_factory=list, max_length=50)
    indications: list[_Item] = Field(
        default_factory=list, max_length=50, description="Symptoms and situations, in Portuguese."
    )
    contraindications: list[_Item] = Field(
        default_factory=list, max_length=50, description="Conditions: gravidez, hipertensão, criança, dengue..."
    )
    warnings: str = Field("", max_length=2000)
    prescription_required: bool = Field(False, description="Never recommended when true.")
    price: Decimal | None = Field(None, ge=0, lt=1_000_000, decimal_places=2)
    tags: list[_Item] = Field(default_factory=list, max_length=50)
    min_age_months: int | None = Field(
        None, ge=0, le=1200, description="Minimum age in months (adult-only forms: 144, i.e. 12 years)."
    )
    pregnancy: Literal["seguro", "cautela", "contraindicado"] | None = Field(
        None, description="Only 'seguro' products are suggested during pregnancy; null: not stated."
    )
    breastfeeding: Literal["seguro", "cautela", "contraindicado"] | None = Field(
        None, description="Only 'seguro' products are suggested while breastfeeding; null: not stated."
    )
    interactions: list[_Item] = Field(
        default_factory=list, max_length=50, description="Ingredients or classes it must not be combined with."
    )

    def to_product(self) -> CatalogProduct:
        if not self.indications and not self.active_ingredients:
            raise ApiError(400, "invalid_request", "indications: a product needs indications or active ingredients")
        return CatalogProduct(
            id="",
            name=self.name.strip(),
            active_ingredients=tuple(self.active_ingredients),
            indications=tuple(self.indications),
            contraindications=tuple(self.contraindications),
            warnings=self.warnings,
            prescription_required=self.prescription_required,
            price=self.price,
            tags=tuple(self.tags),
            sku=self.sku,
            min_age_months=self.min_age_months,
            pregnancy=self.pregnancy,
            breastfeeding=self.breastfeeding,
            interactions=tuple(self.interactions),
        )


PRODUCT_OUT_EXAMPLE: dict[str, Any] = {
    "id": "3f0c2a9e-8d1b-4c55-9a57-2f1e6b7d9c10",
    **PRODUCT_EXAMPLE,
    "created_at": "2025-03-14T18:05:09.123456+00:00",
    "updated_at": "2025-03-14T18:05:09.123456+00:00",
}


class Product(BaseModel):
    """A product of the organization's catalog."""

    model_config = ConfigDict(json_schema_extra={"examples": [PRODUCT_OUT_EXAMPLE]})

    id: UUID
    sku: str | None
    name: str
    active_ingredients: list[str]
    indications: list[str]
    contraindications: list[str]
    warnings: str
    prescription_required: bool
    price: DecimalString | None = Field(description="In reais, two decimal places; null when unknown.")
    tags: list[str]
    min_age_months: int | None
    pregnancy: str | None
    breastfeeding: str | None
    interactions: list[str]
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_row(cls, row: Record) -> Product:
        return cls.model_validate(dict(row))


class ProductPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [PRODUCT_OUT_EXAMPLE], "total": 1, "totalExact": True, "limit": 100, "offset": 0}]
        }
    )

    """One page of products, ordered by name; ``total`` counts the matches up to 10,000."""

    items: list[Product]
    total: int = Field(
        description=(
            "How many products match, counted up to 10,000 (1,000 with `q`; 100 when `q` has no run of three letters"
            " or digits); when `totalExact` is false, more than this."
        )
    )
    totalExact: bool = Field(
        True, description="False when more than `total` products match (the count stops there; page by `nextCursor`)."
    )
    limit: int
    offset: int
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)


class RowProblem(BaseModel):
    line: int = Field(description="Line of the CSV file (the header is line 1).")
    field: str | None = Field(description="The column at fault, if one is.")
    message: str

    @classmethod
    def many(cls, errors: Iterable[RowError]) -> list[RowProblem]:
        return [cls(line=e.line, field=e.field, message=e.message) for e in errors]


class ImportResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dry_run": False,
                    "valid_rows": 77,
                    "created": 76,
                    "updated": 1,
                    "errors": [{"line": 5, "field": "price", "message": "not a price: 'dezenove'"}],
                }
            ]
        }
    )

    dry_run: bool
    valid_rows: int
    created: int
    updated: int
    errors: list[RowProblem] = Field(description="Every problem found, including rows skipped with skip_invalid.")
