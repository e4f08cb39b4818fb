"""Segment counting: GSM-7 (160 / 153 septets, extension characters count double) or UCS-2
(70 / 67 code units, surrogate pairs never split)."""

from __future__ import annotations

import pytest

from overdue.sms_segments import count_segments, is_gsm7


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        ("€" * 80, "GSM-7", 1, 160),  # extension table: two septets each
        ("€" + "a" * 159, "GSM-7", 2, 161),
        # 306 septets fit two segments, but "{" (escape + brace) would straddle septets 153
        # and 154: it opens segment two, and the last "a" needs a third.
        ("a" * 152 + "{" + "a" * 152, "GSM-7", 3, 306),
        ("Ça coute 12,50 £ à Zürich; Ñandu ¿si?", "GSM-7", 1, 37),
        ("您" * 70, "UCS-2", 1, 70),
        ("您" * 71, "UCS-2", 2, 71),
        ("您" * 134, "UCS-2", 2, 134),
        ("您" * 135, "UCS-2", 3, 135),
        ("a" * 69 + "ê", "UCS-2", 1, 70),  # ê is not in GSM-7: the whole message is UCS-2
        ("😀" * 35, "UCS-2", 1, 70),  # surrogate pairs: two units each
        # The pair would straddle units 67 and 68, so it opens the second segment and the
        # last 66 units need a third (a naive count says 2).
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3, 134),
    ],
)
def test_segments(text: str, encoding: str, segments: int, units: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.segments, counted.units) == (encoding, segments, units)


def test_the_default_policy_messages() -> None:
    en = (
        "Hello Zhang Wei, your payment of 1234.56 CNY was due on 2026-11-20. Please pay at your "
        "earliest convenience, or reply HELP if you need support. Reply STOP to opt out."
    )
    assert (count_segments(en).encoding, count_segments(en).segments) == ("GSM-7", 2)
    zh = "张伟您好，您于2026-11-20到期的1234.56CNY账单尚未还款，请尽快还款。回复TD退订。"  # noqa: RUF001
    assert (count_segments(zh).encoding, count_segments(zh).segments) == ("UCS-2", 1)


def test_gsm7_alphabet_edges() -> None:
    assert is_gsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n\r")
    assert is_gsm7("^{}\\[~]|€\f")
    assert not is_gsm7("`")  # the backtick is not in GSM 03.38
    assert not is_gsm7("\x1b")  # the escape itself is not a character
