"""Alibaba Cloud's V3 request signature (ACS3-HMAC-SHA256), checked as the gateway checks it.

Written from the published algorithm, not from the SDK, so a test that sends through the SDK
checks the SDK against the specification:

    Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;...>,
                   Signature=hex(HMAC-SHA256(secret, "ACS3-HMAC-SHA256\\n" + hex(SHA256(C))))

where C = method \\n path \\n canonical query \\n canonical headers \\n signed headers \\n
hex(SHA256(body)); the canonical query is the parameters sorted by name, values
percent-encoded (RFC 3986, `~` unreserved); canonical headers are `name:value\\n`, lower-case,
sorted, for the signed headers, which must include host and every x-acs-* header.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

ALGORITHM = "ACS3-HMAC-SHA256"
REQUIRED_SIGNED = frozenset(
    {
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    }
)
MAX_CLOCK_SKEW = timedelta(minutes=15)
_AUTHORIZATION = re.compile(
    rf"^{ALGORITHM} Credential=(?P<key_id>[^,]+),SignedHeaders=(?P<signed>[a-z0-9;-]+),"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


class SignatureProblem(Exception):
    """Why a request's signature does not hold: `code` is the gateway's error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def check(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    now: datetime | None = None,
) -> str:
    """The AccessKey ID that signed the request; SignatureProblem when it does not hold.
    `headers` must be keyed in lower case."""
    found = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if found is None:
        raise SignatureProblem(400, "MissingAuthorization", "no ACS3-HMAC-SHA256 Authorization")
    secret = secrets.get(found["key_id"])
    if secret is None:
        raise SignatureProblem(404, "InvalidAccessKeyId.NotFound", "unknown AccessKey ID")
    signed = found["signed"].split(";")
    missing = REQUIRED_SIGNED - set(signed)
    if missing or signed != sorted(signed):
        raise SignatureProblem(400, "IncompleteSignature", f"unsigned: {sorted(missing)}")
    payload = hashlib.sha256(body).hexdigest()
    if headers.get("x-acs-content-sha256") != payload:
        raise SignatureProblem(400, "IncompleteSignature", "x-acs-content-sha256 is not the body's")
    _check_date(headers.get("x-acs-date", ""), now or datetime.now(UTC))
    canonical = "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query(query),
            "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed),
            ";".join(signed),
            payload,
        ]
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(
        secret.encode(), f"{ALGORITHM}\n{digest}".encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, found["signature"]):
        raise SignatureProblem(400, "SignatureDoesNotMatch", "the signature does not match")
    return found["key_id"]


def canonical_query(query: Mapping[str, str]) -> str:
    return "&".join(f"{name}={quote(query[name], safe='~')}" for name in sorted(query))


def _check_date(value: str, now: datetime) -> None:
    try:
        stamp = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureProblem(400, "InvalidTimeStamp.Format", "x-acs-date") from None
    if abs(now - stamp) > MAX_CLOCK_SKEW:
        raise SignatureProblem(400, "InvalidTimeStamp.Expired", "x-acs-date is too far off")
