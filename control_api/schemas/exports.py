"""The counter report's Excel export (seed 001's `GET /api/export/xlsx`) and export jobs: query fields, the job."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from control_api.schemas.formats import NEXT_CURSOR_DESCRIPTION, Timestamp

# Days outside these bounds would overflow Python's datetime once shifted by the timezone or a day.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)

ExportFrom = Annotated[
    date | None,
    Query(
        alias="from",
        ge=FIRST_DAY,
        le=LAST_DAY,
        description="First day (default: 30 days before `to`).",
        openapi_examples={"january": {"summary": "January 2025", "value": "2025-01-01"}},
    ),
]
ExportTo = Annotated[
    date | None,
    Query(
        ge=FIRST_DAY,
        le=LAST_DAY,
        description="Last day, included (default: today).",
        openapi_examples={"january": {"summary": "January 2025", "value": "2025-01-31"}},
    ),
]
ExportDevice = Annotated[uuid.UUID | None, Query(description="Only this counter device (404 if unknown).")]

_JOB: JsonDict = {
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "status": "running",
    "rowsDone": 42000,
    "rowsTotal": 150000,
    "progress": 0.28,
    "error": None,
    "filename": "escuta-balcao-2025-01-01_2025-01-31.xlsx",
    "sizeBytes": None,
    "params": {"from": "2025-01-01", "to": "2025-01-31", "device": None},
    "createdAt": "2025-02-01T09:26:53.589793+00:00",
    "finishedAt": None,
}


class ExportJob(BaseModel):
    """An export job: poll it until `status` is `done` (then GET its `/file`) or `failed` (`error` says why)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_JOB]})

    id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="`failed` also when the process running it stopped (no progress for 10 minutes)."
    )
    rowsDone: int = Field(description="Rows written so far (interactions sheet, then costs sheet).")
    rowsTotal: int | None = Field(description="Rows the workbook will have; null until counted.")
    progress: float | None = Field(description="rowsDone / rowsTotal (0..1), 1 when done; null until counted.")
    error: str | None
    filename: str
    sizeBytes: int | None = Field(description="The workbook's size once done.")
    params: dict[str, Any] = Field(description="The request: `from`, `to` (days) and `device`.")
    createdAt: Timestamp
    finishedAt: Timestamp | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ExportJob:
        lost = bool(row["lost"])
        status = "failed" if lost else row["status"]
        total, done = row["rows_total"], row["rows_done"]
        progress = 1.0 if status == "done" else (min(1.0, done / total) if total else (0.0 if total == 0 else None))
        return cls(
            id=row["id"],
            status=status,
            rowsDone=done,
            rowsTotal=total,
            progress=progress,
            error="the export stopped (its process was lost)" if lost else row["error"],
            filename=row["filename"],
            sizeBytes=row["size_bytes"],
            params=row["params"],
            createdAt=row["created_at"],
            finishedAt=row["finished_at"],
        )


class ExportJobList(BaseModel):
    items: list[ExportJob] = Field(description="Newest first.")
    nextCursor: str | None = Field(None, description=NEXT_CURSOR_DESCRIPTION)
