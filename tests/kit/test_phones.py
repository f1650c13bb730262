from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.kit.phones import mask_phone, normalise_phone

MOBILE_PREFIXES = ["130", "135", "138", "139", "150", "158", "177", "186", "188", "199"]


class TestNormalisePhone:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("13812345678", "13812345678"),
            ("+86 138-1234-5678", "13812345678"),
            ("0086 13812345678", "13812345678"),
            ("１３８１２３４５６７８", "13812345678"),  # full-width digits typed in a Chinese IME
            ("010-12345678", "010-12345678"),
            ("(0755) 8888 6666", "0755-88886666"),
            ("02112345678", "021-12345678"),
        ],
    )
    def test_accepts_chinese_mobiles_and_landlines_in_common_spellings(self, raw: str, expected: str) -> None:
        assert normalise_phone(raw) == expected

    @pytest.mark.parametrize("raw", ["", "12345", "1381234567", "+1 650 253 0000", "abc", "13812345678 ext. 12"])
    def test_rejects_what_is_not_a_mainland_number(self, raw: str) -> None:
        assert normalise_phone(raw) is None

    @given(
        prefix=st.sampled_from(MOBILE_PREFIXES),
        rest=st.text(alphabet="0123456789", min_size=8, max_size=8),
        separator=st.sampled_from(["", " ", "-"]),
        country=st.sampled_from(["", "+86 ", "0086", "+86-"]),
    )
    def test_every_spelling_of_a_mobile_normalises_to_its_eleven_digits(
        self, prefix: str, rest: str, separator: str, country: str
    ) -> None:
        raw = f"{country}{prefix}{separator}{rest[:4]}{separator}{rest[4:]}"
        assert normalise_phone(raw) == prefix + rest

    @given(st.text(max_size=30))
    def test_normalising_is_idempotent_and_never_raises(self, raw: str) -> None:
        once = normalise_phone(raw)
        if once is not None:
            assert normalise_phone(once) == once


class TestMaskPhone:
    def test_masks_the_middle_four_digits_of_a_mobile(self) -> None:
        assert mask_phone("13812341234") == "138****1234"

    def test_keeps_area_code_and_last_four_of_a_landline(self) -> None:
        assert mask_phone("010-12345678") == "010-****5678"

    @given(st.sampled_from(MOBILE_PREFIXES), st.text(alphabet="0123456789", min_size=8, max_size=8))
    def test_a_masked_mobile_shows_only_prefix_and_last_four(self, prefix: str, rest: str) -> None:
        masked = mask_phone(prefix + rest)
        assert masked == f"{prefix}****{rest[-4:]}"
