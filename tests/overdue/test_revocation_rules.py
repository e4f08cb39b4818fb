# ruff: noqa: RUF001 -- Chinese replies use full-width punctuation on purpose.
"""The free-text revocation classifier (overdue/revocation_rules.py) and how the inbound webhook
combines it with the exact keywords (api/sms_keywords.classify_message)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.sms_keywords import (
    HELP_KEYWORDS,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    InboundKind,
    classify_inbound,
    classify_message,
)
from overdue.revocation_rules import ReplyKind, builtin_rules, classify_reply, parse_rules

REVOCATIONS_EN = [
    "please stop texting me",
    "Stop texting me!",
    "stop sending me these messages",
    "Stop the texts please",
    "Don't text me",
    "don\u2019t text me again",  # a curly apostrophe, as phones type it
    "do not send me any more texts",
    "I don't want your messages",
    "no more messages",
    "NO MORE SMS",
    "remove me from your list",
    "take me off this list",
    "unsubscribe me",
    "Please opt me out",
    "I revoke my consent",
    "leave me alone",
    "Stop it",
    "stop, I already paid",
    "quit texting me",
]
REVOCATIONS_ZH = [
    "别再发短信了",
    "不要再发短信",
    "请不要再给我发信息",
    "停止发送",
    "停止短信",
    "别发了",
    "拒收",
    "我要退订",
    "退订短信谢谢",
    "取消短信通知",
    "不想再收到短信",
    "请勿再发",
    "别 再 发 了",  # spaces between Chinese characters
    "请不要再打扰我",
]
FULL_WIDTH = [
    "\uff33\uff34\uff2f\uff30\u3000\uff54\uff45\uff58\uff54\uff49\uff4e\uff47\u3000\uff4d\uff45",
    "\uff55\uff4e\uff53\uff55\uff42\uff53\uff43\uff52\uff49\uff42\uff45 \uff4d\uff45",
    "别再发短信了！",  # full-width exclamation mark
]
NOT_REVOCATIONS = [
    # negations
    "don't stop",
    "Please don't stop texting me, it helps",
    "I do not want to unsubscribe",
    "keep texting me the reminders",
    "不要停",
    "不要停止发送",
    "别停，继续发",
    "不要退订",
    "继续发吧",
    # unrelated replies
    "I will pay tomorrow",
    "I'll stop by the branch on Friday",
    "please stop calling me",
    "what is my balance?",
    "End of the month I can pay 500",
    "Can I pay on the 15th?",
    "我明天还款",
    "可以分期吗",
    "已经还了",
    "",
]


@pytest.mark.parametrize("body", REVOCATIONS_EN + REVOCATIONS_ZH + FULL_WIDTH)
def test_requests_to_stop_texting_are_revocation_requests(body: str) -> None:
    assert classify_reply(body) is ReplyKind.REVOCATION_REQUEST
    assert classify_message(body) is InboundKind.REVOCATION_REQUEST


@pytest.mark.parametrize("body", NOT_REVOCATIONS)
def test_negations_and_other_replies_stay_replies(body: str) -> None:
    assert classify_reply(body) is ReplyKind.REPLY
    assert classify_message(body) is InboundKind.REPLY


@pytest.mark.parametrize(
    ("keywords", "kind"),
    [
        (OPT_OUT_KEYWORDS, InboundKind.OPT_OUT),
        (OPT_IN_KEYWORDS, InboundKind.OPT_IN),
        (HELP_KEYWORDS, InboundKind.HELP),
    ],
)
def test_exact_keywords_keep_their_path(keywords: frozenset[str], kind: InboundKind) -> None:
    for keyword in keywords:
        assert classify_message(keyword) is kind
        assert classify_message(f" {keyword.lower()}. ") is kind


@given(st.text(max_size=300))
def test_classification_never_raises_and_keywords_keep_their_kind(body: str) -> None:
    exact = classify_inbound(body)
    kind = classify_message(body)
    if exact is not InboundKind.REPLY:
        assert kind is exact
    else:
        assert kind in (InboundKind.REPLY, InboundKind.REVOCATION_REQUEST)
    assert classify_reply(body) in ReplyKind


@given(st.sampled_from(sorted(OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS)), st.data())
def test_a_keyword_in_any_case_or_width_keeps_its_kind(keyword: str, data: st.DataObject) -> None:
    to_full_width = {c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    wide = data.draw(st.booleans())
    spelled = "".join(to_full_width.get(c, c) for c in keyword) if wide else keyword.lower()
    assert classify_message(spelled) is classify_inbound(keyword)


def test_every_language_has_rules_and_a_malformed_table_is_refused() -> None:
    assert {rules.language for rules in builtin_rules()} == {"en", "zh"}
    assert all(rules.revocation and rules.negation for rules in builtin_rules())
    for bad in ([], {}, {"en": ["stop"]}, {"en": {"revocation": "stop"}}):
        with pytest.raises(ValueError):
            parse_rules(bad)
    custom = parse_rules({"fr": {"revocation": ["arr[eê]tez"], "negation": []}})
    assert classify_reply("Arrêtez les SMS", custom) is ReplyKind.REVOCATION_REQUEST
