"""What agents and backends tell the workflow about the customer, beyond the debt: whether
they are vulnerable (and why, as a category), and the times and channels they said not to use.

Single-argument messages for the workflow's updates, and the state the record keeps. No free
text: a note the person typed stays in Postgres (`free_texts`), the message carries its id.
Pure: no Temporal, no I/O.
"""

from __future__ import annotations

import itertools
from datetime import datetime, time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from workflows.durations import LocalTime
from workflows.messages import Message, text_id_field

# Enough for "weekdays at lunch, weekday evenings, Sunday mornings" and a few more; a list
# longer than this is not something a customer said on the phone.
MAX_INCONVENIENT_TIMES = 8
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# An inconvenient time ending at this instant lasts until local midnight.
UNTIL_MIDNIGHT = time.max
RefusableChannel = Literal["sms", "call"]


class VulnerabilityCategory(StrEnum):
    ELDERLY = "elderly"
    DISABILITY = "disability"
    ILLNESS = "illness"
    BEREAVEMENT = "bereavement"
    FINANCIAL = "financial"


class VulnerabilityChange(Message):
    """Mark a customer vulnerable (with a category) or clear it: an agent's or a backend's."""

    actor: str = Field(min_length=1, max_length=64)
    vulnerable: bool
    category: VulnerabilityCategory | None = Field(
        default=None, description="Required when marking; none when clearing."
    )
    text_id: str | None = text_id_field()

    @model_validator(mode="after")
    def _category_matches(self) -> VulnerabilityChange:
        problem = category_problem(self.vulnerable, self.category)
        if problem:
            raise ValueError(problem)
        return self


class VulnerabilityState(BaseModel):
    """Why and since when the customer is treated as vulnerable (None category: flagged by the
    backend when the process started, before categories existed)."""

    category: VulnerabilityCategory | None
    since: datetime
    actor: str


class InconvenientTime(Message):
    """Local hours, on some weekdays (0 Monday .. 6 Sunday), when the customer said contact is
    inconvenient: start inclusive, end exclusive; an end of 23:59:59.999999 means midnight."""

    weekdays: tuple[int, ...] = Field(min_length=1, max_length=7)
    start: LocalTime
    end: LocalTime

    @field_validator("weekdays")
    @classmethod
    def _days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 or d > 6 for d in days):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        if len(set(days)) != len(days):
            raise ValueError("a weekday is repeated")
        return tuple(sorted(days))

    @model_validator(mode="after")
    def _not_empty(self) -> InconvenientTime:
        if self.end <= self.start:
            raise ValueError(f"the range {self.label()} is empty: its end must be after its start")
        return self

    def label(self) -> str:
        days = ",".join(WEEKDAY_NAMES[d] for d in self.weekdays)
        end = "24:00" if self.end == UNTIL_MIDNIGHT else self.end.strftime("%H:%M")
        return f"{days} {self.start.strftime('%H:%M')}-{end}"


class ContactPreferences(Message):
    """What the customer said: times not to contact them, channels not to use. Replaces what
    was recorded before; empty lists clear it."""

    actor: str = Field(min_length=1, max_length=64)
    inconvenient_times: tuple[InconvenientTime, ...] = Field(
        default=(), max_length=MAX_INCONVENIENT_TIMES
    )
    refused_channels: tuple[RefusableChannel, ...] = Field(default=(), max_length=2)
    text_id: str | None = text_id_field()

    @model_validator(mode="after")
    def _consistent(self) -> ContactPreferences:
        if len(set(self.refused_channels)) != len(self.refused_channels):
            raise ValueError("a refused channel is repeated")
        problem = overlap_problem(self.inconvenient_times)
        if problem:
            raise ValueError(problem)
        return self


class PreferencesState(BaseModel):
    """The customer's stated preferences in force, who recorded them and when."""

    inconvenient_times: tuple[InconvenientTime, ...] = ()
    refused_channels: tuple[RefusableChannel, ...] = ()
    since: datetime
    actor: str


def category_problem(vulnerable: bool, category: VulnerabilityCategory | None) -> str | None:
    if vulnerable and category is None:
        choices = ", ".join(c.value for c in VulnerabilityCategory)
        return f"a category is required to mark a customer vulnerable: one of {choices}"
    if not vulnerable and category is not None:
        return "clearing vulnerability takes no category"
    return None


def overlap_problem(times: tuple[InconvenientTime, ...]) -> str | None:
    """Why these ranges are refused (two share a weekday and overlap), or None."""
    for a, b in itertools.combinations(times, 2):
        shared = sorted(set(a.weekdays) & set(b.weekdays))
        if shared and a.start < b.end and b.start < a.end:
            return (
                f"inconvenient times {a.label()} and {b.label()} overlap on "
                f"{WEEKDAY_NAMES[shared[0]]}: merge them into one range"
            )
    return None
