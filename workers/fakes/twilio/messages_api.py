"""The rules of Twilio's Messages API the fake answers by: what a create is refused for, how a
list is filtered and paged, what an error answer looks like, Basic authentication."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from aiohttp import web

from workers.fakes.twilio.resources import FakeMessage, error_body

MAX_BODY = 1600
DEFAULT_TO = "+15005550006"  # the number inbound messages are addressed to
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

CREATE_ERRORS = {
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21211: "The 'To' number {to} is not a valid phone number.",
}


def error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(error_body(status, code, message), status=status)


def not_found(path: str) -> web.Response:
    return error(404, 20404, f"The requested resource {path} was not found")


def basic_auth_matches(header: str, expected: str) -> bool:
    """Whether an Authorization header is Basic with `expected` ('sid:token')."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        return base64.b64decode(encoded, validate=True).decode() == expected
    except (binascii.Error, UnicodeDecodeError):
        return False


def create_refusal(
    to: str, from_: str | None, service: str | None, body: str, create_errors: Mapping[str, int]
) -> web.Response | None:
    """Twilio's answer to a create it refuses (`create_errors`: numbers set to fail), else None."""
    if not to:
        return error(400, 21604, "A 'To' phone number is required.")
    if not E164.fullmatch(to):
        return error(400, 21211, CREATE_ERRORS[21211].format(to=to))
    if from_ is None and service is None:
        return error(400, 21603, "A 'From' phone number is required.")
    if not body:
        return error(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY:
        return error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    if to in create_errors:
        code = create_errors[to]
        return error(400, code, CREATE_ERRORS.get(code, "Invalid request").format(to=to))
    return None


def paging(query: Mapping[str, str]) -> tuple[int, int] | web.Response:
    """(page size, page number) from a list request, or the answer to bad ones."""
    try:
        page_size = int(query.get("PageSize", "50"))
        page = int(query.get("Page", "0"))
    except ValueError:
        return error(400, 20001, "PageSize and Page must be integers")
    if not 1 <= page_size <= 1000 or page < 0:
        return error(400, 20001, "PageSize must be 1 to 1000 and Page 0 or more")
    return page_size, page


def list_page(
    messages: Iterable[FakeMessage], query: Mapping[str, str], path: str, page_size: int, page: int
) -> web.Response:
    """One page of the messages the list's filters choose, newest first, as Twilio pages."""
    chosen = [
        m
        for m in messages
        if _matches(m, query.get("To"), query.get("From"))
        and _sent_in(m, query.get("DateSent"), query.get("DateSent<"), query.get("DateSent>"))
    ]
    items = chosen[page * page_size : (page + 1) * page_size]
    filters = {k: v for k, v in query.items() if k not in {"Page", "PageSize", "PageToken"}}

    def page_uri(number: int) -> str:
        params = {**filters, "PageSize": str(page_size), "Page": str(number)}
        return f"{path}?{urlencode(params)}"

    more = (page + 1) * page_size < len(chosen)
    return web.json_response(
        {
            "messages": [m.resource() for m in items],
            "end": page * page_size + max(len(items) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": page * page_size,
            "uri": page_uri(page),
        }
    )


def _matches(message: FakeMessage, to: str | None, from_: str | None) -> bool:
    return (to is None or message.to == to) and (from_ is None or message.from_ == from_)


def _sent_in(message: FakeMessage, on: str | None, before: str | None, after: str | None) -> bool:
    """Twilio's DateSent filters compare the sent date: an unsent message never matches one."""
    if on is None and before is None and after is None:
        return True
    if message.date_sent is None:
        return False
    day = message.date_sent.date().isoformat()
    return (
        (on is None or day == on[:10])
        and (before is None or day <= before[:10])
        and (after is None or day >= after[:10])
    )
