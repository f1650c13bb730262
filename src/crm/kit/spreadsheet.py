"""Files people open in a spreadsheet (CSV, XLSX): every export writes its cells through here,
so that text from the database never runs as a formula (CSV or formula injection).

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@``, and tab or
carriage return at the start shift what follows into that place. Following OWASP's CSV
injection guidance, such text cells are neutralised and keep their visible text:

* in CSV, a single quote is put in front (the only marker CSV has);
* in XLSX, the cell is written as a string with Excel's own "quote prefix" style, the flag
  Excel sets when a person types ``'=…``: it shows the text unchanged and stays text when edited.

The full-width forms (＝ ＋ － ＠, by NFKC) and a formula behind leading blanks count too: no
version of every spreadsheet program in use (WPS is common in China) can be shown never to
fold or trim them on import, and a needless quote on such rare text costs little.

Numbers stay numbers: a negative amount is a number cell, never quoted. Only text is changed.
"""

from __future__ import annotations

import csv
import io
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_STARTS = frozenset("=+-@")
SHIFTING_STARTS = frozenset("\t\r")
CSV_BOM = "\ufeff"  # Excel reads a UTF-8 CSV as UTF-8 (Chinese intact) only with it
CHUNK = 64 * 1024


def runs_as_formula(text: str) -> bool:
    """A spreadsheet could take ``text`` for a formula (or shift one into place)."""
    if text[:1] in SHIFTING_STARTS:
        return True
    head = text.lstrip()[:1]
    return bool(head) and unicodedata.normalize("NFKC", head)[:1] in FORMULA_STARTS


def csv_cell(value: Any) -> Any:
    """The value as a CSV cell: empty for None, text neutralised, anything else as it is."""
    if value is None:
        return ""
    if isinstance(value, str) and runs_as_formula(value):
        return "'" + value
    return value


def csv_rows(rows: Iterable[Sequence[Any]], *, bom: bool = False) -> bytes:
    """Rows as UTF-8 CSV (with the BOM first, for the first chunk of a file)."""
    buffer = io.StringIO()
    if bom:
        buffer.write(CSV_BOM)
    csv.writer(buffer).writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode()


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    # XML cannot hold most control characters; openpyxl would raise mid-file and leave it broken.
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not runs_as_formula(text):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl binds a str starting with "=" as a formula
    cell.quotePrefix = True
    return cell


def xlsx_file(title: str, header: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]]) -> Iterator[bytes]:
    """A one-sheet workbook of ``header`` and the rows of ``batches``, written without holding
    the rows in memory, then yielded in chunks."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append([_xlsx_cell(sheet, v) for v in header])
    for rows in batches:
        for row in rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk
