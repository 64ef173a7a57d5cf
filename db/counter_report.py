"""Seed 001's Excel report: interactions, costs and a summary per device and day, streamed.

Rows come from server-side cursors in batches and go straight into a streaming workbook: by default our
own writer (core/counter/xlsx.py, straight into a deflated zip entry), or XlsxWriter's constant_memory
mode or openpyxl's write-only mode, which the bench compares (``bench/export_xlsx.py``: on 100,000
interactions 4 s of CPU, 16 s and 27 s). Memory stays flat however long the range is. The per-day
summary is accumulated while the costs stream by, so the database is read once per sheet.

The API runs this in a separate process (control_api/services/exports.py): formatting a hundred
thousand rows is seconds of CPU that would otherwise hold the API process's GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from uuid import UUID

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core.counter import xlsx
from core.offload import run_cpu
from db.pool import Conn

BATCH = 2000
INTERACTION_HEADERS = (
    "Data/hora", "Balcão", "Atendente", "Produto", "Explicação", "Transcrição base", "Feedback", "Provedor",
    "Modelo", "Fallback", "Latência (ms)", "Tokens entrada", "Tokens saída", "Interação",
)  # fmt: skip
COST_HEADERS = (
    "Início", "Fim", "Balcão", "Atendente", "Provedor STT", "Segundos STT", "Custo STT (USD)", "Tokens entrada",
    "Tokens saída", "Custo LLM (USD)", "Custo total (USD)", "Recomendações", "Aceitas", "Rejeitadas", "Interação",
)  # fmt: skip
SUMMARY_HEADERS = (
    "Dia", "Balcão", "Interações", "Recomendações", "Aceitas", "Rejeitadas", "Taxa de aceite", "Minutos STT",
    "Tokens LLM", "Custo total (USD)",
)  # fmt: skip

Writer = Literal["fast", "xlsxwriter", "openpyxl"]
SHEETS = ["Resumo", "Interações", "Custos"]
# Progress: rows written so far (interactions sheet, then costs sheet), after each batch.
Progress = Callable[[int], Awaitable[None]]


def _filter(device_id: UUID | None) -> str:
    # Built from the filters given: an optional `($4 IS NULL OR ...)` would get a generic plan (db/query.py).
    base = "i.org_id = $1 AND i.started_at >= $2 AND i.started_at < $3"
    return base + (" AND i.device_id = $4" if device_id is not None else " AND $4::uuid IS NULL")


_FILTER = "{filter}"  # replaced by _filter(device_id) when the statement runs

_INTERACTIONS_SQL = f"""
SELECT (r.created_at AT TIME ZONE $5) AS at, coalesce(d.name, '') AS device, r.atendente, r.product_name,
       r.explanation, r.transcript_excerpt, f.accepted, r.provider, r.model, r.fallback_reason, r.latency_ms,
       r.prompt_tokens, r.completion_tokens, i.id AS interaction_id
FROM counter_interactions i
JOIN counter_recommendations r ON r.org_id = i.org_id AND r.interaction_id = i.id
LEFT JOIN devices d ON d.id = i.device_id
LEFT JOIN counter_feedback f ON f.recommendation_id = r.id
WHERE {_FILTER}
ORDER BY r.created_at, r.id
"""

_COUNT_SQL = "SELECT count(*) FROM counter_interactions i WHERE {filter}"
_COUNT_RECS_SQL = (
    "SELECT count(*) FROM counter_interactions i JOIN counter_recommendations r"
    " ON r.org_id = i.org_id AND r.interaction_id = i.id WHERE {filter}"
)

# Per interaction: tokens per provider, recommendations and their feedback. Aggregated once for the whole
# range with hash joins (a LATERAL subquery per interaction cost ~25 µs each: 2.5 s per 100,000).
_COSTS_SQL = f"""
WITH x AS (
    SELECT r.interaction_id, r.provider, sum(coalesce(r.prompt_tokens, 0)) AS pt,
           sum(coalesce(r.completion_tokens, 0)) AS ct, count(*) AS n,
           count(*) FILTER (WHERE f.accepted) AS accepted, count(*) FILTER (WHERE NOT f.accepted) AS rejected
    FROM counter_interactions i
    JOIN counter_recommendations r ON r.org_id = i.org_id AND r.interaction_id = i.id
    LEFT JOIN counter_feedback f ON f.recommendation_id = r.id
    WHERE {_FILTER}
    GROUP BY r.interaction_id, r.provider
), t AS (
    SELECT interaction_id, jsonb_object_agg(provider, jsonb_build_array(pt, ct)) AS tokens, sum(n) AS recs,
           sum(accepted) AS accepted, sum(rejected) AS rejected
    FROM x GROUP BY interaction_id
)
SELECT (i.started_at AT TIME ZONE $5) AS started, (i.ended_at AT TIME ZONE $5) AS ended,
       coalesce(d.name, '') AS device, i.device_id, i.atendente, i.stt_provider, i.stt_seconds, i.id,
       coalesce(t.tokens, '{{}}'::jsonb) AS tokens, coalesce(t.recs, 0) AS recs,
       coalesce(t.accepted, 0) AS accepted, coalesce(t.rejected, 0) AS rejected
FROM counter_interactions i
LEFT JOIN devices d ON d.id = i.device_id
LEFT JOIN t ON t.interaction_id = i.id
WHERE {_FILTER}
ORDER BY i.started_at, i.id
"""


@dataclass(frozen=True)
class Prices:
    stt_per_minute: Mapping[str, float]
    llm_per_million: Mapping[str, tuple[float, float]]

    def stt(self, provider: str | None, seconds: float) -> float:
        return seconds / 60 * self.stt_per_minute.get(provider or "", 0.0)

    def llm(self, tokens: Mapping[str, Any]) -> float:
        total = 0.0
        for provider, (prompt, completion) in tokens.items():
            price_in, price_out = self.llm_per_million.get(provider, (0.0, 0.0))
            total += (int(prompt) * price_in + int(completion) * price_out) / 1_000_000
        return total


@dataclass
class _Day:
    interactions: int = 0
    recommendations: int = 0
    accepted: int = 0
    rejected: int = 0
    stt_seconds: float = 0.0
    tokens: int = 0
    cost: float = 0.0


@dataclass
class ReportTotals:
    interactions: int = 0
    recommendations: int = 0
    cost: float = 0.0
    by_day: dict[tuple[date, str], _Day] = field(default_factory=dict)


def _text(value: str | None) -> str | None:
    """Text a spreadsheet shows as text: no XML-illegal control characters, never a formula.

    Product names come from CSV imports and excerpts from speech; a leading "=" would otherwise be
    stored as a formula by openpyxl (spreadsheet formula injection).
    """
    if value is None:
        return None
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _feedback(accepted: bool | None) -> str:
    return "sem resposta" if accepted is None else "aceito" if accepted else "rejeitado"


class _Sheet(Protocol):
    def append(self, row: list[Any]) -> None: ...


class _Book(Protocol):
    """Sheets in display order are declared up front; :meth:`sheet` is called in writing order."""

    def sheet(self, name: str) -> _Sheet: ...
    def save(self) -> None: ...


class _FastBook:
    def __init__(self, path: Path, names: list[str]) -> None:
        self._book = xlsx.Book(path, names)

    def sheet(self, name: str) -> _Sheet:
        return self._book.sheet(name)

    def save(self) -> None:
        self._book.close()


class _OpenpyxlBook:
    def __init__(self, path: Path, names: list[str]) -> None:
        self._wb = Workbook(write_only=True)
        self._path = path
        self._sheets: dict[str, _Sheet] = {n: self._wb.create_sheet(n) for n in names}

    def sheet(self, name: str) -> _Sheet:
        return self._sheets[name]

    def save(self) -> None:
        self._wb.save(self._path)


class _XlsxSheet:
    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._row = 0

    def append(self, row: list[Any]) -> None:
        self._ws.write_row(self._row, 0, row)
        self._row += 1


class _XlsxWriterBook:
    """XlsxWriter's constant_memory mode: kept for the bench's comparison (a test/bench dependency only)."""

    def __init__(self, path: Path, names: list[str]) -> None:
        import xlsxwriter  # optional: a test/bench dependency, not a runtime one

        # Text stays text: no formulas, URLs or numbers guessed from strings (formula injection, the
        # 65,530-links-per-sheet limit); dates get a format, or Excel would show serial numbers.
        self._wb = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": "yyyy-mm-dd hh:mm:ss",
            },
        )
        self._sheets = {n: _XlsxSheet(self._wb.add_worksheet(n)) for n in names}

    def sheet(self, name: str) -> _Sheet:
        return self._sheets[name]

    def save(self) -> None:
        self._wb.close()


async def count_rows(conn: Conn, org_id: UUID, *, start: datetime, end: datetime, device_id: UUID | None) -> int:
    """How many rows the workbook's two long sheets will have (the job's progress total)."""
    args = (org_id, start, end, device_id)
    f = _filter(device_id)
    recs: int = await conn.fetchval(_COUNT_RECS_SQL.replace("{filter}", f), *args)
    inter: int = await conn.fetchval(_COUNT_SQL.replace("{filter}", f), *args)
    return recs + inter


async def _stream(
    conn: Conn,
    sql: str,
    args: tuple[Any, ...],
    write: Callable[[list[Any]], None],
    progress: Callable[[int], Awaitable[None]] | None,
    offload: bool,
) -> None:
    cursor = await conn.cursor(sql, *args)
    if offload:
        while True:
            rows = await cursor.fetch(BATCH)
            if not rows:
                return
            # In the API process, row formatting and XML writing would block the event loop.
            await run_cpu(write, rows)
            if progress is not None:
                await progress(len(rows))
    # In an export process of its own: ask for the next batch, then write this one while PostgreSQL
    # produces it (the database and the writer work at the same time, on two cores).
    pending = asyncio.ensure_future(cursor.fetch(BATCH))
    try:
        while True:
            rows = await pending
            if not rows:
                return
            pending = asyncio.ensure_future(cursor.fetch(BATCH))
            await asyncio.sleep(0)  # the fetch sends its request
            write(rows)
            if progress is not None:
                await progress(len(rows))
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


async def write_report(
    conn: Conn,
    org_id: UUID,
    *,
    start: datetime,
    end: datetime,
    device_id: UUID | None,
    timezone: str,
    prices: Prices,
    path: Path,
    writer: Writer = "fast",
    progress: Progress | None = None,
    offload: bool = True,
) -> ReportTotals:
    """Write the workbook to ``path``; ``conn`` must be in a tenant-scoped transaction (cursors need one).

    ``progress`` is awaited with the rows written by each batch; ``offload=False`` formats rows on the
    calling thread (a process of its own, where the event loop has nothing else to do).
    """
    books: dict[str, type[_FastBook | _XlsxWriterBook | _OpenpyxlBook]] = {
        "fast": _FastBook,
        "xlsxwriter": _XlsxWriterBook,
        "openpyxl": _OpenpyxlBook,
    }
    wb: _Book = books[writer](path, SHEETS)
    totals = ReportTotals()
    args = (org_id, start, end, device_id, timezone)
    f = _filter(device_id)

    def write_interactions(rows: list[Any]) -> None:
        for r in rows:
            interactions.append([
                r["at"], _text(r["device"]), _text(r["atendente"]), _text(r["product_name"]),
                _text(r["explanation"]), _text(r["transcript_excerpt"]),
                _feedback(r["accepted"]), r["provider"], r["model"], r["fallback_reason"], r["latency_ms"],
                r["prompt_tokens"], r["completion_tokens"], str(r["interaction_id"]),
            ])  # fmt: skip

    def write_costs(rows: list[Any]) -> None:
        for r in rows:
            tokens: dict[str, list[int]] = r["tokens"]
            stt_cost = prices.stt(r["stt_provider"], r["stt_seconds"])
            llm_cost = prices.llm(tokens)
            tokens_in = sum(int(v[0]) for v in tokens.values())
            tokens_out = sum(int(v[1]) for v in tokens.values())
            costs.append([
                r["started"], r["ended"], _text(r["device"]), _text(r["atendente"]), r["stt_provider"],
                r["stt_seconds"], round(stt_cost, 6), tokens_in, tokens_out, round(llm_cost, 6),
                round(stt_cost + llm_cost, 6), int(r["recs"]), int(r["accepted"]), int(r["rejected"]), str(r["id"]),
            ])  # fmt: skip
            totals.interactions += 1
            totals.recommendations += int(r["recs"])
            totals.cost += stt_cost + llm_cost
            day = totals.by_day.setdefault((r["started"].date(), r["device"]), _Day())
            day.interactions += 1
            day.recommendations += int(r["recs"])
            day.accepted += int(r["accepted"])
            day.rejected += int(r["rejected"])
            day.stt_seconds += r["stt_seconds"]
            day.tokens += tokens_in + tokens_out
            day.cost += stt_cost + llm_cost

    interactions = wb.sheet("Interações")
    interactions.append(list(INTERACTION_HEADERS))
    await _stream(conn, _INTERACTIONS_SQL.replace("{filter}", f), args, write_interactions, progress, offload)
    costs = wb.sheet("Custos")
    costs.append(list(COST_HEADERS))
    await _stream(conn, _COSTS_SQL.replace("{filter}", f), args, write_costs, progress, offload)
    costs.append(["TOTAL", None, None, None, None, None, None, None, None, None, round(totals.cost, 6),
                  totals.recommendations])  # fmt: skip

    def write_summary() -> None:
        summary = wb.sheet("Resumo")
        summary.append(list(SUMMARY_HEADERS))
        for (day, device), d in sorted(totals.by_day.items()):
            answered = d.accepted + d.rejected
            summary.append([
                day, _text(device), d.interactions, d.recommendations, d.accepted, d.rejected,
                round(d.accepted / answered, 4) if answered else None, round(d.stt_seconds / 60, 3), d.tokens,
                round(d.cost, 6),
            ])  # fmt: skip
        summary.append(["TOTAL", None, totals.interactions, totals.recommendations, None, None, None, None, None,
                        round(totals.cost, 6)])  # fmt: skip
        wb.save()

    if offload:
        await run_cpu(write_summary)
    else:
        write_summary()
    return totals
