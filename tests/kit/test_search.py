from __future__ import annotations

import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from crm.kit.search import (
    email_token,
    exact_key,
    index_tokens,
    last4_token,
    normalise_text,
    phone_token,
    query_tokens,
)


class TestTokens:
    def test_chinese_text_is_indexed_as_unigrams_and_bigrams(self) -> None:
        tokens = set(index_tokens(["华为技术"]))
        assert {"华", "为", "技", "术", "华为", "为技", "技术"} <= tokens

    def test_a_two_character_query_is_one_bigram(self) -> None:
        assert query_tokens("华为") == ["华为"]

    def test_a_single_character_query_is_its_unigram(self) -> None:
        assert query_tokens("张") == ["张"]

    def test_latin_words_are_indexed_by_prefix_and_queried_whole(self) -> None:
        assert {"z", "zh", "zhang"} <= set(index_tokens(["Zhang.San@Example.com"]))
        assert query_tokens("ZHANG") == ["zhang"]

    def test_phones_give_blinded_tokens_of_the_number_its_local_part_and_last_four_digits(self) -> None:
        tokens = set(index_tokens([], phones=["13812341234", "010-88886666"]))
        expected = {phone_token("13812341234"), last4_token("1234"), phone_token("01088886666")}
        expected |= {phone_token("88886666"), last4_token("6666")}
        assert tokens == expected

    def test_no_digit_or_letter_of_a_phone_or_email_is_indexed_in_clear(self) -> None:
        tokens = index_tokens([], phones=["13812341234"], emails=["zhang.san@example.com"])
        assert all(t.startswith("#") and len(t) == 17 for t in tokens)
        assert not any(part in "".join(tokens) for part in ("1234", "138", "zhang", "example"))

    def test_blinded_tokens_differ_by_purpose(self) -> None:
        assert phone_token("13812341234") != last4_token("13812341234")
        assert email_token("a@b.cn") == email_token(" A@B.CN ")

    def test_full_width_input_is_normalised(self) -> None:
        assert normalise_text("ＡＢＣ１２３") == "abc123"

    def test_exact_key_of_a_phone_ignores_separators_and_the_country_code(self) -> None:
        assert exact_key("138 1234 1234") == exact_key("+86 138-1234-1234") == phone_token("13812341234")
        assert exact_key("(010) 8888 6666") == phone_token("010-88886666")

    def test_exact_key_of_an_email_is_its_blinded_token_and_of_a_code_the_code(self) -> None:
        assert exact_key("Zhang@Example.com") == email_token("zhang@example.com")
        assert exact_key("C00000042") == "=c00000042"

    @given(st.text(alphabet="华为技术有限公司北京上海科技张三李四", min_size=1, max_size=12), st.data())
    def test_every_substring_of_indexed_chinese_is_findable_by_tokens(self, text: str, data: st.DataObject) -> None:
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        assert set(query_tokens(text[start:end])) <= set(index_tokens([text]))


# Every ideograph unicodedata knows: named "CJK UNIFIED IDEOGRAPH-…" or "CJK COMPATIBILITY IDEOGRAPH-…".
IDEOGRAPH_NAMES = ("CJK UNIFIED IDEOGRAPH-", "CJK COMPATIBILITY IDEOGRAPH-")
EXTENSION_B_TO_G = st.characters(min_codepoint=0x20000, max_codepoint=0x3134A).filter(
    lambda ch: unicodedata.name(ch, "").startswith(IDEOGRAPH_NAMES)
)


class TestEveryIdeograph:
    def test_extension_b_characters_are_tokens_of_their_own_and_join_their_neighbours(self) -> None:
        assert {"𠀀", "𪚥", "𠀀𪚥", "𪚥贸", "贸易"} <= set(index_tokens(["𠀀𪚥贸易"]))
        assert query_tokens("𪚥") == ["𪚥"]
        assert query_tokens("𠀀𪚥") == ["𠀀𪚥"]

    def test_every_ideograph_unicodedata_names_is_a_token(self) -> None:
        missed = [
            hex(point)
            for point in range(sys.maxunicode + 1)
            if unicodedata.name(chr(point), "").startswith(IDEOGRAPH_NAMES)
            and query_tokens(chr(point)) != [normalise_text(chr(point))]
        ]
        assert missed == []

    def test_extensions_unknown_to_this_python_are_tokens_too(self) -> None:
        # Extension H (Unicode 15.0) and I (15.1) lie in planes 3 and 2.
        for point in (0x31350, 0x323AF, 0x2EBF0, 0x2EE5D):
            assert query_tokens(chr(point)) == [chr(point)]

    @given(st.text(st.sampled_from("华为技术有限公司") | EXTENSION_B_TO_G, min_size=1, max_size=12), st.data())
    def test_every_substring_of_text_with_any_ideograph_is_findable_by_tokens(
        self, text: str, data: st.DataObject
    ) -> None:
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        assert set(query_tokens(text[start:end])) <= set(index_tokens([text]))
        assert "".join(query_tokens(text[start:end])) != ""
