"""Twilio webhook requests: the form they carry, accepted only with a valid signature.

Twilio signs the full URL it called plus the sorted POST parameters with the account's Auth
Token (`X-Twilio-Signature`). Behind a proxy the URL we see is not the one Twilio called, so
the signature is checked against OVERDUE_PUBLIC_BASE_URL + path (+ query), with the SDK's
RequestValidator. Anything unsigned, wrongly signed or unparseable gets 403 before any change.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import Request
from twilio.request_validator import RequestValidator

from api.problems import Problem
from overdue.settings import Settings

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def public_request_url(settings: Settings, request: Request) -> str:
    """The URL Twilio called, as configured: the public base, our path, our query."""
    query = request.url.query
    return f"{settings.public_url}{request.url.path}" + (f"?{query}" if query else "")


async def verified_form(request: Request, settings: Settings) -> dict[str, str]:
    """The webhook's form parameters, after its signature checked out."""
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not token:
        logger.warning("twilio webhook refused: OVERDUE_TWILIO_AUTH_TOKEN is not set")
        raise _forbidden("this API has no Twilio Auth Token to check signatures with")
    if not signature:
        logger.warning("twilio webhook refused: no signature", extra={"path": request.url.path})
        raise _forbidden(f"the {SIGNATURE_HEADER} header is missing")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type != FORM_CONTENT_TYPE:
        raise _forbidden(f"a signed Twilio webhook is {FORM_CONTENT_TYPE}, not {content_type!r}")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise _forbidden("the body is not a valid form") from None
    params = dict(pairs)
    if len(params) != len(pairs):
        raise _forbidden("the form repeats a field, which Twilio never does")
    if not RequestValidator(token).validate(
        public_request_url(settings, request), params, signature
    ):
        logger.warning("twilio webhook refused: bad signature", extra={"path": request.url.path})
        raise _forbidden(f"the {SIGNATURE_HEADER} header does not match this request")
    return params


def _forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)
