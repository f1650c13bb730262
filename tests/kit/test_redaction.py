"""A person's identifiers are found in the ways people write them, and only those are blanked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import JSON, String, literal, select
from sqlalchemy.orm import Session

from crm.kit.dialects import regexp_replace_all
from crm.kit.redaction import MARKER, needles

PERSON = needles(["张三丰", "Zhang.SF@wudang.example", "武当张三丰太极馆"], ["13811112222", "010-12345678"])


class TestWrittenForms:
    @pytest.mark.parametrize(
        "written",
        [
            "13811112222",
            "138 1111 2222",
            "138-1111-2222",
            "138.1111.2222",
            "+86 13811112222",
            "+8613811112222",
            "0086 138-1111-2222",
            "(+86) 138 1111 2222",
            "１３８１１１１２２２２",  # full-width, typed with a Chinese input method
            "010-12345678",
            "(010) 1234 5678",
            "01012345678",
            "+86 10 12345678",
            "zhang.sf@WUDANG.example",
        ],
    )
    def test_a_phone_or_email_as_people_write_it_is_blanked_the_rest_kept(self, written: str) -> None:
        assert PERSON.sub(f"请联系{written}。") == f"请联系{MARKER}。"

    @pytest.mark.parametrize("other", ["913811112222", "138111122223", "13811112223", "010-12345679", "1381111"])
    def test_another_number_that_contains_or_resembles_the_digits_stays(self, other: str) -> None:
        assert PERSON.sub(f"订单 {other}") == f"订单 {other}"

    def test_a_company_named_after_the_person_is_blanked_whole(self) -> None:
        assert PERSON.sub("武当张三丰太极馆与张三丰") == f"{MARKER}与{MARKER}"

    def test_no_identifiers_change_nothing(self) -> None:
        nobody = needles([None, "", MARKER], [None])
        assert not nobody
        assert nobody.sub("张三丰 13811112222") == "张三丰 13811112222"

    @given(
        before=st.text(alphabet="，。 abc张王李", max_size=8),
        after=st.text(alphabet="，。 abc张王李", max_size=8),
        rest=st.text(alphabet="0123456789", min_size=8, max_size=8),
        separator=st.sampled_from(["", " ", "-"]),
        country=st.sampled_from(["", "+86 ", "0086", "+86-", "86"]),
    )
    def test_every_spelling_of_a_mobile_is_blanked(
        self, before: str, after: str, rest: str, separator: str, country: str
    ) -> None:
        phone = "139" + rest
        written = country + separator.join([phone[:3], phone[3:7], phone[7:]])
        found = needles(phones=[phone])
        blanked = found.sub(before + written + after)
        assert rest[-4:] not in blanked.replace(before, "", 1)
        assert blanked.endswith(MARKER + after)


class TestJsonValues:
    def test_strings_keys_and_a_phone_stored_as_a_number_are_blanked(self) -> None:
        value = {"张三丰": ["由张三丰介绍", 13811112222, 5, True, None], "rows": 2}
        assert PERSON.value(value) == {MARKER: [f"由{MARKER}介绍", MARKER, 5, True, None], "rows": 2}


# The database reads the expression as Python does: one text per row, blanked in SQL.
SAMPLES = [
    "张三丰要求升级 13811112222",
    "+86 138-1111-2222 或 (010) 1234 5678",
    "ZHANG.SF@WUDANG.EXAMPLE 来信",
    "订单 913811112222 与 010-12345679",
    "武当张三丰太极馆",
    "",
]


class TestInTheDatabase:
    @pytest.mark.parametrize("text", SAMPLES)
    def test_sql_blanks_a_text_exactly_as_python_does(self, session: Session, text: str) -> None:
        blanked = session.scalar(select(regexp_replace_all(literal(text, String), PERSON.pattern, MARKER)))
        assert blanked == PERSON.sub(text)

    @pytest.mark.parametrize("text", [t for t in SAMPLES if PERSON.found_in(t)])
    def test_every_text_that_names_the_person_is_a_candidate_as_text_and_as_json(
        self, session: Session, text: str
    ) -> None:
        assert session.scalar(select(PERSON.mentioned(literal(text, String)))) is True
        document = literal({"note": text}, JSON)
        assert session.scalar(select(PERSON.mentioned(document, json_text=True))) is True

    def test_a_replacement_is_taken_literally(self, session: Session) -> None:
        replaced = session.scalar(select(regexp_replace_all(literal("a1b", String), "[0-9]", "&$0")))
        assert replaced == "a&$0b"
        with pytest.raises(ValueError, match="backslash"):
            regexp_replace_all(literal("a1b", String), "[0-9]", "\\1")

    def test_nothing_stays_nothing(self, session: Session) -> None:
        assert session.scalar(select(regexp_replace_all(literal(None, String), PERSON.pattern, MARKER))) is None
