from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crm.kit.search import exact_key, index_tokens, normalise_text, query_tokens


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

    def test_phones_give_their_last_four_digits_and_an_exact_key(self) -> None:
        tokens = set(index_tokens([], phones=["13812341234", "010-88886666"]))
        assert {"1234", "=13812341234", "6666", "88886666", "=01088886666"} <= tokens

    def test_full_width_input_is_normalised(self) -> None:
        assert normalise_text("ＡＢＣ１２３") == "abc123"

    def test_exact_key_of_a_phone_ignores_separators(self) -> None:
        assert exact_key("138 1234 1234") == "=13812341234"

    @given(st.text(alphabet="华为技术有限公司北京上海科技张三李四", min_size=1, max_size=12), st.data())
    def test_every_substring_of_indexed_chinese_is_findable_by_tokens(self, text: str, data: st.DataObject) -> None:
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        assert set(query_tokens(text[start:end])) <= set(index_tokens([text]))
