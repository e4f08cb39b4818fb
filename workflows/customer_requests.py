"""Agents' and backends' requests about the customer (vulnerability, stated preferences) as
validators and appliers of the workflow's updates. Pure: no Temporal, no I/O.

A validator raises `RequestRejected` with what to correct, and then nothing changes; the
applier records who and when in the record, and a short note in its history (categories and
counts only: what people typed stays in Postgres).
"""

from __future__ import annotations

from datetime import datetime

from workflows.account import RequestRejected
from workflows.customer_state import (
    ContactPreferences,
    PreferencesState,
    VulnerabilityChange,
    VulnerabilityState,
    category_problem,
    overlap_problem,
)
from workflows.preferences import convenient_weekdays
from workflows.types import AccountRecord


def _require_open(record: AccountRecord) -> None:
    if record.finished:
        raise RequestRejected(f"the account is {record.state.value}; nothing more can be recorded")


def validate_vulnerability(
    record: AccountRecord, change: VulnerabilityChange, now: datetime
) -> None:
    _require_open(record)
    problem = category_problem(change.vulnerable, change.category)
    if problem:
        raise RequestRejected(problem)
    current = record.vulnerability
    if change.vulnerable and current is not None and current.category == change.category:
        raise RequestRejected(
            f"the customer is already marked vulnerable ({change.category}) since {current.since}"
        )
    if not change.vulnerable and not record.vulnerable:
        raise RequestRejected("the customer is not marked vulnerable")


def apply_vulnerability(record: AccountRecord, change: VulnerabilityChange, now: datetime) -> None:
    if change.vulnerable:
        record.vulnerable = True
        record.vulnerability = VulnerabilityState(
            category=change.category, since=now, actor=change.actor
        )
        record.note(f"marked vulnerable ({change.category}) by {change.actor}")
    else:
        record.vulnerable = False
        record.vulnerability = None
        record.note(f"vulnerability cleared by {change.actor}")


def validate_preferences(record: AccountRecord, prefs: ContactPreferences, now: datetime) -> None:
    _require_open(record)
    problem = overlap_problem(prefs.inconvenient_times)
    if problem:
        raise RequestRejected(problem)
    if len(set(prefs.refused_channels)) != len(prefs.refused_channels):
        raise RequestRejected("a refused channel is repeated")
    window = record.policy.window_for(record.jurisdiction)
    if prefs.inconvenient_times and not convenient_weekdays(
        prefs.inconvenient_times, window.start, window.end
    ):
        raise RequestRejected(
            f"the inconvenient times cover the whole contact window "
            f"({window.start:%H:%M}-{window.end:%H:%M}) on every day: no contact could be made; "
            f"refuse the channels instead"
        )


def apply_preferences(record: AccountRecord, prefs: ContactPreferences, now: datetime) -> None:
    if not prefs.inconvenient_times and not prefs.refused_channels:
        record.preferences = None
        record.note(f"contact preferences cleared by {prefs.actor}")
        return
    record.preferences = PreferencesState(
        inconvenient_times=prefs.inconvenient_times,
        refused_channels=prefs.refused_channels,
        since=now,
        actor=prefs.actor,
    )
    refused = ", ".join(prefs.refused_channels) or "none"
    record.note(
        f"contact preferences set by {prefs.actor}: "
        f"{len(prefs.inconvenient_times)} inconvenient time(s), refused channels: {refused}"
    )
