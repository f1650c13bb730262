from __future__ import annotations

import pytest

from crm.kit.i18n import negotiate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("fr-FR, en;q=0.5", "en"),
        ("de", "zh"),
        ("en;q=0.2, zh-TW;q=0.8", "zh"),
    ],
)
def test_language_follows_accept_language_with_chinese_by_default(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected
