"""The inbound keyword parser: whole-message keywords, any case, spacing or width."""

from __future__ import annotations

import pytest

from api.sms_keywords import InboundKind, classify_inbound


@pytest.mark.parametrize(
    "body",
    [
        "STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "Cancel", "END", "quit!",
        "REVOKE", "OPT OUT", "opt  out", "optout", "退订", " 退订。", "TD", "td", "T", "t",
        "\uff33\uff34\uff2f\uff30", "\uff34\uff24",  # full-width STOP, TD
        "Stop\n",
    ],
)  # fmt: skip
def test_opt_out(body: str) -> None:
    assert classify_inbound(body) is InboundKind.OPT_OUT


@pytest.mark.parametrize("body", ["START", "start", " Start ", "UNSTOP"])
def test_opt_in(body: str) -> None:
    assert classify_inbound(body) is InboundKind.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "help?", "Info", "帮助"])
def test_help(body: str) -> None:
    assert classify_inbound(body) is InboundKind.HELP


@pytest.mark.parametrize(
    "body",
    ["please stop calling me", "Stop it", "I paid", "STOP STOP", "TDD", "停止", "", "startup"],
)
def test_anything_else_is_a_reply_for_an_agent(body: str) -> None:
    assert classify_inbound(body) is InboundKind.REPLY
