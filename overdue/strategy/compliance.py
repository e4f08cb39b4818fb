"""The compliance audit's rules on simulated contacts (0 violations expected).

Each contact a simulated process made becomes the `AuditedReceipt` the audit would read from
Postgres had the contact been real (the same instant, zone, jurisdiction and policy, the
account's SMS and call tasks of the 7 days up to it, its opt-out by then), and
`overdue.compliance_audit.Auditor` checks it with its own rules: contact hours, rest days,
caps, consent, cease-contact and disputes. The checks of a receipt's own bookkeeping (recorded
window and caps, recorded local time, the ledger row's instant) have nothing to check here: a
simulation writes no receipts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from overdue.compliance_audit import Auditor
from overdue.store.compliance_reads import AuditedReceipt
from overdue.strategy.portfolio import PortfolioAccount
from overdue.strategy.timeline import Path
from workflows.policy import Policy

BOOKKEEPING = frozenset(
    {"local_time", "instant", "no_contact", "policy_unknown", "window_mismatch", "caps_mismatch"}
)
WEEK = timedelta(days=7)


class ContactAudit:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.auditor = Auditor({(policy.id, policy.version): policy})
        # A receipt's findings by everything they depend on: paths that share a beginning
        # (most do) share its contacts' receipts.
        self._seen: dict[tuple[object, ...], tuple[str, ...]] = {}

    def violations(self, path: Path, account: PortfolioAccount) -> Counter[str]:
        """Rule -> how many of the path's contacts break it."""
        texts = [c.at for c in path.contacts if c.channel == "sms"]
        calls = [c.at for c in path.contacts if c.channel == "call_task"]
        opted_out = [ev.at for ev in path.timeline if ev.kind == "opt_out"]
        found: Counter[str] = Counter()
        made = [(c.at, c.channel, c.kind, c.stage_id, "stage") for c in path.contacts]
        made += [(t.at, "call_task", None, t.stage_id, "requested") for t in path.tasks]
        for at, channel, kind, stage_id, basis in made:
            sms_made, calls_made = _week_to(texts, at), _week_to(calls, at)
            stopped = _before(opted_out, at)
            where = (account.time_zone, account.jurisdiction)
            key = (*where, at, channel, kind, stage_id, basis, *sms_made, 0, *calls_made, stopped)
            rules = self._seen.get(key)
            if rules is None:
                receipt = self._receipt(account, at, channel, kind, stage_id, basis, stopped)
                made_then = replace(receipt, sms_made=sms_made, calls_made=calls_made)
                checked = self.auditor.check(made_then)
                rules = self._seen[key] = tuple(
                    v.rule for v in checked if v.rule not in BOOKKEEPING
                )
            found.update(rules)
        return found

    def _receipt(
        self,
        account: PortfolioAccount,
        at: datetime,
        channel: str,
        kind: str | None,
        stage_id: str,
        basis: str,
        stopped: bool,
    ) -> AuditedReceipt:
        """The receipt the audit would read had the contact been real."""
        return AuditedReceipt(
            id=0,
            contact_key=f"{account.account_id}/sim/{stage_id}",
            account_id=account.account_id,
            channel=channel,
            stage_id=stage_id,
            basis=basis,
            notify_kind=kind,
            at=at,
            time_zone=account.time_zone,
            local_time=at.astimezone(ZoneInfo(account.time_zone)).replace(tzinfo=None),
            jurisdiction=account.jurisdiction,
            window_start=None,
            window_end=None,
            calendar_rule=None,
            sms_per_day=None,
            sms_per_week=None,
            calls_per_day=None,
            calls_per_7_days=None,
            sms_consent="opted_out" if stopped else "granted",
            policy_id=self.policy.id,
            policy_version=self.policy.version,
            ledger_status="sent",
            ledger_at=at,
            task_at=at,
            sent_at=at if channel == "sms" else None,
            sms_made=[],
            calls_made=[],
            dial_at=None,
            dials_made=[],
            dials_unanswered=[],
            last_conversation=None,
            opted_out_then=stopped,
            ceased_then=False,
            disputes_then=0,
        )


def _before(times: list[datetime], at: datetime) -> bool:
    return any(t <= at for t in times)


def _week_to(times: list[datetime], at: datetime) -> list[datetime]:
    return [t for t in times if at - WEEK < t <= at]
