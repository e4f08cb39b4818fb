from __future__ import annotations

import pytest

from workflows.currencies import format_minor, minor_unit_exponent


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(123456, "CNY", "1234.56"), (5, "USD", "0.05"), (1500, "JPY", "1500"), (1234, "KWD", "1.234")],
)
def test_format_minor(amount: int, currency: str, text: str) -> None:
    assert format_minor(amount, currency) == text


def test_unknown_currency_is_rejected() -> None:
    with pytest.raises(ValueError, match="not an ISO 4217"):
        minor_unit_exponent("XXX")
