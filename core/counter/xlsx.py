"""A minimal streaming XLSX writer: rows in, one sheet at a time, straight into a deflated zip entry.

Why a writer of our own: the counter report is a few plain sheets of numbers, text and dates, and the
general writers spend most of their time per cell on features it does not use (styles, shared strings,
cell references, dimension tracking). Measured on the report (bench/export_xlsx.py), this one writes
the same workbook several times faster than XlsxWriter's constant_memory mode, itself about twice as fast
as openpyxl's write-only mode. It writes what Office Open XML (ECMA-376) requires and nothing more:
inline strings (no shared-string table to hold in memory), cells without references (allowed: they
follow one another), one style for date-times and one for dates.

Text is escaped for XML and stripped of characters XML cannot carry; formulas are never written (a
string is always a string), so text that starts with "=" cannot become one.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

# Characters XML 1.0 cannot carry (openpyxl's ILLEGAL_CHARACTERS_RE): dropped.
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_EPOCH = datetime(1899, 12, 30)
_EPOCH_ORDINAL = _EPOCH.toordinal()

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets>'
    "</workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
    '<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'styles" Target="styles.xml"/></Relationships>'
)
# Style 0: general; 1: date and time; 2: date (custom number formats 164 and 165).
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _text(value: str) -> str:
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    return f'<c t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def _serial(value: datetime) -> float:
    """Excel's date serial (days since 1899-12-30) of a naive or aware date-time, its wall-clock reading."""
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return value.toordinal() - _EPOCH_ORDINAL + seconds / 86400


def cell(value: Any) -> str:
    """One cell's XML (an empty string for None: the next cell simply follows)."""
    if value is None:
        return "<c/>"
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is bool:
        return f'<c t="b"><v>{int(value)}</v></c>'
    if kind is int or kind is float:
        return f"<c><v>{value!r}</v></c>" if value == value and abs(value) != float("inf") else "<c/>"
    if isinstance(value, datetime):
        return f'<c s="1"><v>{_serial(value)!r}</v></c>'
    if isinstance(value, date):
        return f'<c s="2"><v>{value.toordinal() - _EPOCH_ORDINAL}</v></c>'
    if isinstance(value, Decimal):
        return f"<c><v>{value}</v></c>" if value.is_finite() else "<c/>"
    return _text(str(value))


class Sheet:
    """A sheet being written: :meth:`append` rows in order. Only one sheet of a book is open at a time."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._buffer: list[str] = []
        self._out.write(_SHEET_HEAD.encode())

    def append(self, row: Iterable[Any]) -> None:
        self._buffer.append("<row>" + "".join([cell(v) for v in row]) + "</row>")
        if len(self._buffer) >= 500:
            self.flush()

    def flush(self) -> None:
        self._out.write("".join(self._buffer).encode())
        self._buffer.clear()

    def close(self) -> None:
        self.flush()
        self._out.write(_SHEET_TAIL.encode())
        self._out.close()


class Book:
    """A workbook written to ``path``: sheets are declared up front, then written one after the other."""

    def __init__(self, path: Path, sheet_names: list[str], *, compresslevel: int = 1) -> None:
        # Level 1: the XML compresses about 10x anyway; higher levels cost more time than they save bytes.
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self._names = sheet_names
        self._open: Sheet | None = None

    def sheet(self, name: str) -> Sheet:
        if self._open is not None:
            self._open.close()
        n = self._names.index(name) + 1
        self._open = Sheet(self._zip.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True))
        return self._open

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None
        names = self._names
        self._zip.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=i + 1) for i in range(len(names)))),
        )
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        sheets = "".join(
            f'<sheet name="{escape(s, {chr(34): "&quot;"})}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
            for i, s in enumerate(names)
        )
        self._zip.writestr("xl/workbook.xml", _WORKBOOK.format(sheets=sheets))
        rels = "".join(
            f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(names))
        )
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(rels=rels))
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.close()
