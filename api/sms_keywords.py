"""What an inbound SMS asks for: opt out, opt back in, help, or a reply for an agent.

The whole message is the keyword, as carriers and Twilio treat it: case, surrounding
punctuation and whitespace do not matter (full-width letters count as their ASCII forms), so
"stop", " Stop. ", "OPT OUT" and a full-width "TD" all match. Any other text is a reply an
agent reads; `classify_message` tells, among replies, the requests to stop texting ("please
stop texting me", "别再发短信了": `overdue/revocation_rules.py`), which stop SMS at once
pending an agent's confirmation.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from overdue.revocation_rules import ReplyKind, classify_reply


class InboundKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    REPLY = "reply"
    REVOCATION_REQUEST = "revocation_request"  # a reply asking to stop texting


# US TCPA revocation words and Twilio's defaults, plus the Chinese 退订 ("unsubscribe") and its
# pinyin initials TD / T, which Chinese senders print as the opt-out instruction.
OPT_OUT_KEYWORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "退订",
        "TD",
        "T",
    }
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO", "帮助"})

# After NFKC, full-width punctuation is ASCII; the ideographic stop, comma and curly quotes stay.
_PUNCTUATION = ".,!?;:'\"()[]\u3002\u3001\u201c\u201d\u2018\u2019"


def normalize(body: str) -> str:
    text = unicodedata.normalize("NFKC", body).upper()
    text = "".join(text.split())  # whitespace-insensitive: "OPT OUT" is "OPTOUT"
    return text.strip(_PUNCTUATION)


def classify_inbound(body: str) -> InboundKind:
    keyword = normalize(body)
    if keyword in OPT_OUT_KEYWORDS:
        return InboundKind.OPT_OUT
    if keyword in OPT_IN_KEYWORDS:
        return InboundKind.OPT_IN
    if keyword in HELP_KEYWORDS:
        return InboundKind.HELP
    return InboundKind.REPLY


def classify_message(body: str) -> InboundKind:
    """The exact keywords first, as carriers treat them; then a reply's revocation rules."""
    kind = classify_inbound(body)
    if kind is InboundKind.REPLY and classify_reply(body) is ReplyKind.REVOCATION_REQUEST:
        return InboundKind.REVOCATION_REQUEST
    return kind
