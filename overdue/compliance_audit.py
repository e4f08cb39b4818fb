"""`overdue compliance audit`: every compliance receipt re-checked against the rules.

Independent of the code that made the contacts: it does not call the decision core
(workflows/decisions.py, contact_rules.py) nor trust the receipt's own verdicts. It recomputes
the local time from the UTC instant and the zone, takes the window and caps from the policy
file of the receipt's id and version, counts SMS and calls from the ledger, and reads consent,
cease-contact requests and disputes from what Postgres recorded by that instant
(overdue/store/compliance_reads.py). Its rules are its own small table, written from the
policy's documentation (docs/policies.md, docs/compliance.md), not imported.

Every receipt is one contact; every ledger row that made a contact must have one. Reads go a
page at a time, so memory stays bounded however many receipts there are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from overdue.policy_files import PolicyFileError, read_policy
from overdue.store import compliance_reads
from overdue.store.compliance_reads import AuditedReceipt
from overdue.store.receipts import NOT_MADE
from workflows.calendars import RestDayChannel
from workflows.policy import Policy

PAGE = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Notices the customer receives directly: they keep contact hours. Notices a cease-contact
# request stops (a letter too). Other kinds are the lender's own steps.
WINDOWED_NOTICES = frozenset({"app_notice", "email"})
CEASE_STOPS_NOTICES = frozenset({"app_notice", "email", "letter"})
CALL_CHANNELS = frozenset({"call_task", "dial"})
SATURDAY = 5


@dataclass(frozen=True)
class Violation:
    account_id: str
    contact_key: str
    rule: str
    details: str


@dataclass
class Summary:
    receipts: int = 0
    ledger_rows: int = 0
    violations: Counter[str] = field(default_factory=Counter)


PolicyKey = tuple[str, int]


def load_policies(files: Iterable[Path]) -> tuple[dict[PolicyKey, Policy], list[str]]:
    """The policies in `files` by (id, version), and a line for each file that is not one."""
    policies: dict[PolicyKey, Policy] = {}
    problems: list[str] = []
    for file in files:
        try:
            policy = read_policy(file)
        except PolicyFileError as err:
            problems.append(f"{file}: not a usable policy ({len(err.problems)} problem(s))")
            continue
        policies.setdefault((policy.id, policy.version), policy)
    return policies, problems


Finding = tuple[str, str]  # (rule, details)


class Auditor:
    """The checks of one receipt. `policies` are the known policies by (id, version)."""

    def __init__(self, policies: dict[PolicyKey, Policy]) -> None:
        self._policies = policies

    def check(self, r: AuditedReceipt) -> list[Violation]:
        zone = _zone(r.time_zone)
        if zone is None:
            return [Violation(r.account_id, r.contact_key, "local_time", "unknown time zone")]
        local = r.at.astimezone(zone)
        found: list[Finding] = []
        if local.replace(tzinfo=None) != r.local_time:
            found.append(("local_time", f"recorded {r.local_time}, recomputed {_clock(local)}"))
        found += _contact_row(r)
        policy = self._policies.get((r.policy_id or "", r.policy_version or 0))
        if policy is None:
            found.append(("policy_unknown", f"{r.policy_id!r} version {r.policy_version!r}"))
        # A contact that never reached the customer (withheld, blocked, refused) breaks no
        # contact rule.
        if r.ledger_status not in NOT_MADE:
            found += _window(r, policy, local)
            found += _caps(r, policy, zone, local)
            found += _state(r, policy)
        return [Violation(r.account_id, r.contact_key, rule, text) for rule, text in found]


def _contact_row(r: AuditedReceipt) -> list[Finding]:
    """The receipt's instant is its contact's: the ledger row's (SMS, notice) or the task's."""
    if r.channel == "dial":  # its own table (dial_attempts)
        made_at = r.dial_at
        if made_at is None:
            return [("no_contact", "no dial attempt row for this receipt")]
        if made_at != r.at:
            return [("instant", f"receipt at {r.at.isoformat()}, dial at {made_at.isoformat()}")]
        return []
    made_at = r.task_at if r.channel == "call_task" else r.ledger_at
    if made_at is None:
        return [("no_contact", f"no {r.channel} row for this receipt")]
    if made_at != r.at:
        return [("instant", f"receipt at {r.at.isoformat()}, contact at {made_at.isoformat()}")]
    return []


def _expects_window(r: AuditedReceipt) -> bool:
    if r.channel == "sms":
        return r.basis != "requested"  # the self-service code: the borrower asked that minute
    if r.channel in CALL_CHANNELS:
        return r.basis != "requested"  # a requested task keeps the window when it is claimed
    return r.notify_kind in WINDOWED_NOTICES


def _window(r: AuditedReceipt, policy: Policy | None, local: datetime) -> list[Finding]:
    recorded = (r.window_start, r.window_end)
    expected: tuple[time | None, time | None] = recorded  # unknown policy: the best there is
    found: list[Finding] = []
    if policy is not None and not _expects_window(r):
        expected = (None, None)
    elif policy is not None:
        rules = policy.contact_windows
        window = rules.get((r.jurisdiction or "").upper(), rules["default"])
        expected = (window.start, window.end)
        rest = _rest_day_rule(r, policy, local.date())
        if rest == "none":
            found.append(("rest_day", f"{local.date()} is a rest day: no {r.channel} on it"))
        elif isinstance(rest, tuple):
            expected = rest
    if recorded != expected:
        found.append(("window_mismatch", f"recorded {_span(recorded)}, policy {_span(expected)}"))
    start, end = expected
    if start is not None and end is not None and not start <= local.time() < end:
        found.append(("outside_window", f"{_clock(local)} local, window {_span(expected)}"))
    if r.sent_at is not None and start is not None and end is not None:
        # An SMS retried through a provider outage reaches the provider later than its
        # receipt: that instant must keep the window too.
        sent = r.sent_at.astimezone(local.tzinfo)
        if not start <= sent.time() < end:
            found.append(("sent_outside_window", f"at the provider {_clock(sent)} local"))
    return found


def _rest_day_rule(
    r: AuditedReceipt, policy: Policy, day: date
) -> tuple[time | None, time | None] | str | None:
    """On a rest day of the customer's calendar: the channel's hours then, or 'none' (no
    contact). None on a working day or without a calendar. Read from the policy's dates:
    its blackout and rest days, Saturdays and Sundays unless named working days."""
    calendars = policy.calendars
    calendar = calendars.get((r.jurisdiction or "").upper(), calendars.get("default"))
    if calendar is None:
        return None
    weekend = day.weekday() >= SATURDAY and day not in calendar.working_days
    if not (weekend or day in calendar.rest_days or day in calendar.blackout_days):
        return None
    channel: RestDayChannel = (
        "call" if r.channel in CALL_CHANNELS else "sms" if r.channel == "sms" else "notify"
    )
    rule = calendar.on_rest_days.get(channel, "none")
    return "none" if isinstance(rule, str) else (rule.start, rule.end)


def _caps(
    r: AuditedReceipt, policy: Policy | None, zone: ZoneInfo, local: datetime
) -> list[Finding]:
    """SMS and calls counted from the ledger (not the receipt's counts) against the caps."""
    recorded = (r.sms_per_day, r.sms_per_week, r.calls_per_day, r.calls_per_7_days)
    limits = recorded
    found: list[Finding] = []
    if policy is not None:
        caps = policy.caps
        limits = (caps.sms_per_day, caps.sms_per_week, caps.calls_per_day, caps.calls_per_7_days)
        if recorded != limits:
            found.append(("caps_mismatch", f"recorded {recorded}, policy {limits}"))
    if r.channel == "dial":
        return found + _dial_caps(r, policy, zone)
    if r.channel == "sms" and r.basis != "requested":
        made, per_day, per_week, what = r.sms_made, limits[0], limits[1], "SMS"
    elif r.channel in CALL_CHANNELS and r.basis != "requested":
        made, per_day, per_week, what = r.calls_made, limits[2], limits[3], "calls"
    else:
        return found
    today = sum(1 for t in made if t.astimezone(zone).date() == local.date())
    week = sum(1 for t in made if r.at - timedelta(days=7) < t <= r.at)
    if per_day is not None and today > per_day:
        found.append(("over_cap", f"{today} {what} on {local.date()} (local), cap {per_day}"))
    if per_week is not None and week > per_week:
        found.append(("over_cap", f"{week} {what} in the 7 days to it, cap {per_week}"))
    return found


def _dial_caps(r: AuditedReceipt, policy: Policy | None, zone: ZoneInfo) -> list[Finding]:
    """An agent's dial, counted from the number's dial attempts (CBA: unanswered attempts per
    local day; Reg F §1006.14(b): calls in 7 days and the quiet period after a conversation)."""
    if policy is None or r.dial_at is None:
        return []
    caps, at = policy.caps, r.dial_at
    day = at.astimezone(zone).date()
    unanswered = sum(1 for t in r.dials_unanswered if t.astimezone(zone).date() == day)
    week = len(r.dials_made)
    found: list[Finding] = []
    if unanswered > caps.calls_per_day:
        cap = caps.calls_per_day
        found.append(("over_cap", f"{unanswered} unanswered dials on {day}, cap {cap}"))
    if week > caps.calls_per_7_days:
        found.append(("over_cap", f"{week} dials in 7 days, cap {caps.calls_per_7_days}"))
    quiet = timedelta(days=caps.call_quiet_days_after_conversation)
    if r.last_conversation is not None and at < r.last_conversation + quiet:
        found.append(("quiet_period", f"a conversation at {r.last_conversation.isoformat()}"))
    return found


def _state(r: AuditedReceipt, policy: Policy | None) -> list[Finding]:
    """Consent, cease-contact and disputes as Postgres recorded them by the instant."""
    if r.basis == "requested":
        return []  # a review or a callback an event asked for: not a reminder
    found: list[Finding] = []
    if r.channel == "sms" and (r.opted_out_then or r.sms_consent == "opted_out"):
        found.append(("sms_without_consent", "the number had opted out of SMS"))
    if r.ceased_then and _cease_stops(r, policy):
        found.append(("after_cease", "a cease-contact request was recorded before it"))
    if r.disputes_then:
        found.append(("during_dispute", f"{r.disputes_then} dispute(s) open at the instant"))
    channel = _consent_channel(r)
    if policy is not None and channel in _consent_required(policy, r.jurisdiction):
        if r.consent_then is not True:
            held = "withdrawn" if r.consent_then is False else "never recorded"
            found.append(("no_consent", f"{channel} needs recorded consent; it was {held}"))
    return found


def _consent_channel(r: AuditedReceipt) -> str | None:
    if r.channel == "sms":
        return "sms"
    if r.channel in CALL_CHANNELS:
        return "call"
    return r.notify_kind


def _consent_required(policy: Policy, jurisdiction: str | None) -> set[str]:
    """The policy's `consent_required` for the jurisdiction (docs/policies.md)."""
    rules = policy.consent_required
    key = (jurisdiction or "default").upper()
    channels = rules.get(key) if key in rules else rules.get("default", ())
    return {str(c) for c in channels or ()}


def _cease_stops(r: AuditedReceipt, policy: Policy | None) -> bool:
    if r.channel == "sms":
        return True
    if r.channel in CALL_CHANNELS:
        return not (policy is not None and policy.calls_after_cease)
    return r.notify_kind in CEASE_STOPS_NOTICES


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _span(window: tuple[time | None, time | None]) -> str:
    start, end = window
    return "none" if start is None or end is None else f"{start:%H:%M:%S}-{end:%H:%M:%S}"


def _clock(local: datetime) -> str:
    return f"{local:%Y-%m-%d %H:%M:%S}"


async def audit(
    conn: asyncpg.Connection,
    policies: dict[PolicyKey, Policy],
    *,
    since: datetime | None = None,
    summary: Summary | None = None,
) -> AsyncIterator[Violation]:
    """Every violation among the receipts and ledger rows since `since` (all: None), in time
    order; `summary` (if given) is filled as it goes."""
    tally = summary if summary is not None else Summary()
    auditor = Auditor(policies)
    start = (since or EPOCH, 0)
    after: tuple[datetime, int] | None = start
    while after is not None:
        page = await compliance_reads.receipts_page(conn, after=after, limit=PAGE)
        for receipt in page:
            tally.receipts += 1
            for violation in auditor.check(receipt):
                tally.violations[violation.rule] += 1
                yield violation
        after = (page[-1].at, page[-1].id) if len(page) == PAGE else None
    after = start
    while after is not None:
        missing, scanned, after = await compliance_reads.unreceipted_page(
            conn, after=after, limit=PAGE
        )
        tally.ledger_rows += scanned
        for row in missing:
            tally.violations["missing_receipt"] += 1
            yield Violation(
                row.account_id,
                row.idempotency_key,
                "missing_receipt",
                f"{row.channel} contact ({row.status}) at {row.created_at.isoformat()} has none",
            )
