from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from crm.kit.spreadsheet import csv_cell, csv_rows, runs_as_formula, xlsx_file


def _read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _read_xlsx(rows: list[list[object]]) -> Worksheet:
    data = b"".join(xlsx_file("表", ["列"], [rows]))
    sheet = load_workbook(io.BytesIO(data)).active
    assert isinstance(sheet, Worksheet)
    return sheet


class TestWhatRunsAsAFormula:
    @pytest.mark.parametrize(
        "text",
        [
            "=1+1",
            "+1",
            "-1+2",
            "@SUM(A1)",
            "\t=1",
            "\rabc",
            "\tplain",
            "＝1+1",
            "＋1",
            "－1",
            "＠A1",
            " =1+1",
            "\u3000=1",
        ],
    )
    def test_text_starting_a_formula_or_shifting_one_into_place_is_caught(self, text: str) -> None:
        assert runs_as_formula(text)

    @pytest.mark.parametrize("text", ["", " ", "华为", "A=1", "1-2", "'=1", "(010) 8888", "—破折号"])
    def test_ordinary_text_is_not(self, text: str) -> None:
        assert not runs_as_formula(text)


class TestCsv:
    def test_a_formula_gets_a_leading_single_quote_and_keeps_its_text(self) -> None:
        [[cell]] = _read_csv(csv_rows([['=HYPERLINK("http://x","y")']]))
        assert cell == '\'=HYPERLINK("http://x","y")'

    def test_numbers_and_empty_cells_are_left_as_they_are(self) -> None:
        assert [csv_cell(v) for v in (Decimal("-5.00"), -3, None, "华为")] == [Decimal("-5.00"), -3, "", "华为"]
        assert _read_csv(csv_rows([[Decimal("-5.00"), -3, None]])) == [["-5.00", "-3", ""]]

    def test_the_first_chunk_carries_the_bom(self) -> None:
        assert csv_rows([["a"]], bom=True).startswith("\ufeff".encode())
        assert not csv_rows([["a"]]).startswith("\ufeff".encode())

    @given(st.text())
    def test_every_text_reads_back_as_itself_behind_at_most_one_quote_and_never_as_a_formula(self, text: str) -> None:
        [[cell]] = _read_csv(csv_rows([[text]]))
        assert cell == ("'" + text if runs_as_formula(text) else text)
        assert not runs_as_formula(cell)


class TestXlsx:
    def test_a_formula_is_a_string_cell_with_the_quote_prefix_and_its_text_unchanged(self) -> None:
        cell = _read_xlsx([['=HYPERLINK("http://x","y")']]).cell(2, 1)
        assert (cell.value, cell.data_type, cell.quotePrefix) == ('=HYPERLINK("http://x","y")', "s", True)

    def test_a_negative_number_stays_a_number(self) -> None:
        sheet = _read_xlsx([[Decimal("-5")], [-3]])
        assert [(sheet.cell(r, 1).value, sheet.cell(r, 1).data_type) for r in (2, 3)] == [(-5, "n"), (-3, "n")]

    @given(st.text(st.characters(codec="utf-8"), min_size=1, max_size=30))
    def test_no_text_becomes_a_formula(self, text: str) -> None:
        cell = _read_xlsx([[text]]).cell(2, 1)
        kept = ILLEGAL_CHARACTERS_RE.sub("", text)
        assert cell.data_type != "f"
        # XML reads every line break back as \n.
        assert cell.value == (kept.replace("\r\n", "\n").replace("\r", "\n") or None)
        assert cell.quotePrefix == (bool(kept) and runs_as_formula(kept))
