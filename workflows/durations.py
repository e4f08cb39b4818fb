"""Durations and local times as policies write them ('1d', '-3d', '2h30m', '08:00').

Pure parsing for the policy model; no I/O.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator

_SHORT_DURATION = re.compile(
    r"^(?P<sign>[+-]?)(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$"
)


def parse_duration(value: Any) -> Any:
    """Accept '1d', '-3d', '2h30m', '45s' (and ISO 8601, which is how the model serialises)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or isinstance(value, int | float):
        raise ValueError("write a duration with a unit, like '1d', '-3d', '12h' or '90s'")
    if isinstance(value, str):
        match = _SHORT_DURATION.match(value.strip())
        if match and any(match.group(unit) for unit in "dhms"):
            parts = {unit: int(match.group(unit) or 0) for unit in "dhms"}
            delta = timedelta(
                days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]
            )
            return -delta if match.group("sign") == "-" else delta
    return value  # ISO 8601 ('P1D', '-P3D') is left to pydantic, which names the error


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

_ISO_DURATION = re.compile(r"^[+-]?P", re.IGNORECASE)


def parse_grace(value: Any) -> Any:
    """A duration of 0 or more: the short form or ISO 8601; anything else is refused here, with
    the examples, rather than with pydantic's parser message."""
    parsed = parse_duration(value)
    if isinstance(parsed, timedelta):
        return parsed
    if isinstance(parsed, str) and _ISO_DURATION.match(parsed.strip()):
        return parsed
    raise ValueError(f"write a duration with a unit, like '6h', '60s' or '0s'; got {value!r}")


def not_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError(f"must be 0 or more, like '6h', '60s' or '0s'; got {duration_text(value)}")
    return value


Grace = Annotated[timedelta, BeforeValidator(parse_grace), AfterValidator(not_negative)]


def duration_text(value: timedelta) -> str:
    """A duration in the short form policies use: '6h', '-1h30m', '2d', '0s'."""
    sign = "-" if value < timedelta(0) else ""
    magnitude = abs(value)
    days, rest = divmod(magnitude.days * 86_400 + magnitude.seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    fraction = f"{magnitude.microseconds / 1e6:f}".rstrip("0")[1:] if magnitude.microseconds else ""
    parts = ((days, "d"), (hours, "h"), (minutes, "m"))
    text = "".join(f"{n}{u}" for n, u in parts if n)
    if secs or fraction or not text:
        text += f"{secs}{fraction}s"
    return sign + text


def parse_local_time(value: Any) -> Any:
    """'08:00' or '8:30' (YAML may also hand over minutes since midnight for 08:00)."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError("write a local time in quotes, like '08:00'")
    return value


LocalTime = Annotated[time, BeforeValidator(parse_local_time)]


NEXT_STAGE = "next_stage"


def parse_until(value: Any) -> Any:
    """`next_stage`, or a duration as offsets are written ('0d', '5d', '36h')."""
    if value == NEXT_STAGE:
        return value
    parsed = parse_duration(value)
    if isinstance(parsed, timedelta) or (
        isinstance(parsed, str) and _ISO_DURATION.match(parsed.strip())
    ):
        return parsed  # ISO 8601 ('P5D') is how the model serialises; pydantic parses it
    raise ValueError(
        f"write a duration from the due date, like '0d' or '5d', or 'next_stage'; got {value!r}"
    )


StageEnd = Annotated[timedelta | Literal["next_stage"], BeforeValidator(parse_until)]
