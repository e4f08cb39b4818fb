"""The README's "One account's journey" walkthrough, run as written, at several local hours.

The shell blocks of that section are read from README.md and run with bash against one
`overdue dev` stack on the default policy, once per local hour (one account per hour, all at
the same time). Only what a test cannot avoid is changed: the API port, the account id, and
the customer's zone (`Asia/Shanghai`) for a zone where it is the wanted hour now
(`tests/clock.py`). The dev stack's state folder is `.state` in the folder the commands run
in, so `.state/dev-api-key` is read as written.

What each hour must show is what the README's table says (its rows are checked to be there):
before 08:00 nothing yet (the day-one SMS waits for 08:00), 08:00 to 08:59 the day-one SMS and
app notice, 09:00 to 21:59 the day-one SMS (the written notice) then the day-two call task (the
app notice skipped), from 22:00 nothing until the day-one SMS at 08:00. At every hour the
pre-due SMS is passed over as expired. After the payment: resolved, the call task (if any)
cancelled.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from overdue.policy_files import load_policy
from tests.clock import local_today, zone_where_it_is
from tests.integration.support import eventually
from tests.workers.test_devstack import dev_env, overdue_dev  # noqa: F401 (dev_env: fixture)
from workflows.calendars import is_rest_day
from workflows.names import workflow_id

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTION = "## One account's journey"
# The README's values that a test run has to change (each must appear in the section).
README_PORT = "localhost:8000"
README_ACCOUNT = "A-1001"
README_ZONE = "Asia/Shanghai"
HOURS = (3, 8, 9, 12, 21, 22, 23)
DEFAULT_POLICY = load_policy(ROOT / "policies" / "default.yaml")
# The rows of the README's table of what happens first, by the customer's local hour.
ROWS = {
    "before 08:00": range(0, 8),
    "08:00 to 08:59": range(8, 9),
    "09:00 to 21:59": range(9, 22),
    "22:00 or later": range(22, 24),
}
# A workflow decides within a second or two of its start; starting this close to the top of
# the hour, the local hour could change under it.
HOUR_MARGIN = timedelta(seconds=15)


@dataclass(frozen=True)
class Walkthrough:
    """The section's shell blocks, by what they do."""

    setup: list[str]  # `export ...` blocks, in effect for every later block
    start: str  # PUT .../overdue
    look: str  # GET .../contacts and the status
    pay: str  # POST .../payments (and the status after it)
    timeline: str  # GET .../timeline


def readme_walkthrough() -> Walkthrough:
    text = README.read_text(encoding="utf-8")
    begin = text.find(f"\n{SECTION}")
    assert begin >= 0, f"README.md has no section starting {SECTION!r}"
    end = text.find("\n## ", begin + 1)
    section = text[begin : end if end > 0 else len(text)]
    for token in (README_PORT, README_ACCOUNT, README_ZONE, ".state/dev-api-key"):
        assert token in section, f"the walkthrough no longer mentions {token!r}: update the test"
    for row in ROWS:
        assert f"\n| {row} |" in section, f"no table row {row!r} in the walkthrough"
    blocks: list[str] = re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", section, re.S | re.M)
    setup = [b for b in blocks if all(ln.startswith("export ") for ln in b.strip().split("\n"))]
    rest = [b for b in blocks if b not in setup]

    def one(what: str, marker: str) -> str:
        found = [b for b in rest if marker in b]
        assert len(found) == 1, f"expected one block that {what} ({marker!r}); got {found}"
        return found[0]

    start = one("starts the process", "/overdue")
    look = one("reads the contact ledger", "/contacts")
    pay = one("reports the payment", "/payments")
    timeline = one("reads the timeline", "/timeline")
    assert setup, "the walkthrough exports no API key"
    order = [start, look, pay, timeline]
    assert rest == order, f"the walkthrough's blocks changed: {rest}; update the test"
    return Walkthrough(setup=setup, start=start, look=look, pay=pay, timeline=timeline)


def json_documents(output: str) -> list[Any]:
    """The JSON answers of a block's curl calls, printed one after the other."""
    decoder = json.JSONDecoder()
    documents, at = [], 0
    while at < len(output):
        if output[at].isspace():
            at += 1
            continue
        document, at = decoder.raw_decode(output, at)
        documents.append(document)
    return documents


@dataclass
class Customer:
    """One run of the walkthrough: an account whose customer's local hour is `hour` now."""

    hour: int
    zone: str
    today: date  # the customer's, when the walkthrough starts
    account: str
    walk: Walkthrough
    port: str
    cwd: Path

    def script(self, block: str) -> str:
        body = (
            block.replace(README_PORT, f"localhost:{self.port}")
            .replace(README_ACCOUNT, self.account)
            .replace(README_ZONE, self.zone)
        )
        return "\n".join([*self.walk.setup, body])

    async def run(self, block: str) -> list[Any]:
        shell = await asyncio.create_subprocess_exec(
            "bash",
            "-e",
            "-c",
            self.script(block),
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await shell.communicate()
        assert shell.returncode == 0, f"{self}: exit {shell.returncode}\n{err.decode()}"
        return json_documents(out.decode())

    def local(self, at: str) -> datetime:
        return datetime.fromisoformat(at).astimezone(ZoneInfo(self.zone))

    def __str__(self) -> str:
        return f"{self.account} ({self.zone}, local hour {self.hour})"


async def started(customer: Customer) -> dict[str, Any]:
    first: dict[str, Any]
    (first,) = await customer.run(customer.walk.start)
    assert first.get("created") is True, f"{customer}: {first}"
    # "the same call again answers 200 with the same run and sends nothing more"
    (again,) = await customer.run(customer.walk.start)
    assert again["created"] is False and again["run_id"] == first["run_id"], again
    return first


async def settled(customer: Customer) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Contacts and status once the workflow waits for its next action (it acted first)."""

    async def waiting() -> bool:
        _, status = await customer.run(customer.walk.look)
        return bool(status.get("next_action"))

    await eventually(waiting, within=20)
    # Once more: the block reads the ledger before the status, and the workflow may have
    # acted between the two reads of the first look.
    ledger, status = await customer.run(customer.walk.look)
    return ledger["contacts"], status


def rest_day(day: date) -> bool:
    """A rest day in the default policy's CN calendar (weekends, holidays, not 调休 days)."""
    return is_rest_day(DEFAULT_POLICY.calendars, "CN", day)


def working_day_rows_apply(customer: Customer) -> bool:
    """The table's rows are for working days: today, and tomorrow for the 22:00 row."""
    tomorrow = customer.today + timedelta(days=1)
    return not rest_day(customer.today) and (customer.hour < 22 or not rest_day(tomorrow))


def check_rest_day(customer: Customer, contacts: list[dict[str, Any]], action: Any) -> None:
    """The README's rest-day sentence: SMS and app notices only 10:00-17:59, calls wait for a
    working day. (Which branch runs depends on the date; both are checked exactly.)"""
    where = f"{customer}: contacts {contacts}, next {action}"
    for contact in contacts:
        at = customer.local(contact["created_at"])
        if rest_day(at.date()):
            assert contact["channel"] != "call_task", where
            assert clock_time(10) <= at.time() < clock_time(18), where
    next_at = customer.local(action["at"])
    if rest_day(next_at.date()):
        assert not action["stage_id"].endswith("call"), where
        assert clock_time(10) <= next_at.time() < clock_time(18), where
    else:
        assert clock_time(8) <= next_at.time() < clock_time(22), where


def check_first_actions(
    customer: Customer, contacts: list[dict[str, Any]], status: dict[str, Any]
) -> None:
    """What the README's table says happens at the customer's local hour."""
    hour, today = customer.hour, customer.today
    due = date.fromisoformat(status["due_date"])
    assert due == today - timedelta(days=2), status
    made = sorted((c["channel"], c["stage_id"]) for c in contacts)
    action = status["next_action"]
    next_at = customer.local(action["at"])
    where = f"{customer}: contacts {made}, next {action}, skipped {status['stages_skipped']}"
    if not working_day_rows_apply(customer):
        check_rest_day(customer, contacts, action)
    elif hour in ROWS["before 08:00"]:
        # nothing yet: the day-one SMS and app notice wait for 08:00
        assert made == [], where
        assert action["stage_id"] == "d1_sms", where
        assert (next_at.date(), next_at.time()) == (today, clock_time(8)), where
    elif hour in ROWS["08:00 to 08:59"]:
        # the day-one SMS and app notice at once; the call task at 09:00
        assert made == [("notify", "d1_app_notice"), ("sms", "d1_sms")], where
        assert action["stage_id"] == "d2_call", where
        assert (next_at.date(), next_at.time()) == (today, clock_time(9)), where
        assert status["stage"] == "d1_app_notice", where
    elif hour in ROWS["09:00 to 21:59"]:
        # the day-one SMS (the written notice) at once, then the call task; the notice skipped
        assert made == [("call_task", "d2_call"), ("sms", "d1_sms")], where
        assert "d1_app_notice" in status["stages_skipped"], where
        assert "d1_sms" not in status["stages_skipped"], where
        assert status["stage"] == "d2_call", where
        assert action["stage_id"] == "d7_sms", where
        assert (next_at.date(), next_at.time()) == (due + timedelta(days=7), clock_time(10))
    else:
        # nothing tonight: the day-one SMS waits for 08:00 tomorrow (the call task follows it)
        assert made == [], where
        assert action["stage_id"] == "d1_sms", where
        tomorrow = today + timedelta(days=1)
        assert (next_at.date(), next_at.time()) == (tomorrow, clock_time(8)), where
    # "due soon" is false once the due date has begun: passed over as expired at every hour
    assert status["stages_skipped"][:1] == ["d_minus_3_sms"], where
    assert ("sms", "d_minus_3_sms") not in made, where
    statuses = {(c["stage_id"], c["status"]) for c in contacts}
    assert all(c["status"] in {"sent", "delivered", "task_created"} for c in contacts), statuses


async def paid(customer: Customer, temporal: Client, contacts: list[dict[str, Any]]) -> None:
    """Pay the bill: resolved, any open call task cancelled, nothing more sent."""
    accepted, status = await customer.run(customer.walk.pay)
    assert accepted["status"] == "accepted", accepted
    assert status["state"] == "resolved" and status["balance_minor"] == 0, status
    handle = temporal.get_workflow_handle(workflow_id(customer.account))

    async def completed() -> bool:
        description = await handle.describe()
        return description.status == WorkflowExecutionStatus.COMPLETED

    await eventually(completed, within=20)
    (timeline,) = await customer.run(customer.walk.timeline)
    kinds = [e["kind"] for e in timeline["entries"]]
    assert "payment.reported" in kinds, f"{customer}: {kinds}"
    cancelled = [e for e in timeline["entries"] if e["kind"] == "call_task.cancelled"]
    had_call_task = any(c["channel"] == "call_task" for c in contacts)
    assert had_call_task == (
        customer.hour in ROWS["09:00 to 21:59"] and working_day_rows_apply(customer)
    ), f"{customer}: {contacts}"
    assert len(cancelled) == had_call_task, f"{customer}: {kinds}"
    if cancelled:
        assert cancelled[0]["details"]["reason"] == "account resolved", cancelled
    ledger, final = await customer.run(customer.walk.look)
    assert final["state"] == "resolved" and final["next_action"] is None, final
    assert ledger["contacts"] == contacts, f"{customer}: sent after the payment: {ledger}"


async def wait_clear_of_the_hour() -> None:
    """Start no walkthrough in the last seconds of an hour (minutes are the same in every
    zone used: whole-hour offsets)."""
    now = datetime.now(UTC)
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if next_hour - now < HOUR_MARGIN:
        await asyncio.sleep((next_hour - now).total_seconds() + 1)


async def test_the_readme_walkthrough_says_what_happens_at_every_hour(
    dev_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    if shutil.which("curl") is None:
        pytest.fail("the README's walkthrough uses curl, which is not installed on this machine")
    began = time.monotonic()
    walk = readme_walkthrough()
    # `.state` in the folder the commands run in, as in the project: the key path as written.
    dev_env["OVERDUE_STATE_DIR"] = str(tmp_path / ".state")
    for name in ("OVERDUE_POLICY_FILE", "OVERDUE_DEV_FAKE_TWILIO", "OVERDUE_SMS_SENDER"):
        dev_env.pop(name, None)  # the default policy and sender, as `make run` has them
    async with overdue_dev(dev_env, tmp_path):
        ready = time.monotonic() - began
        temporal = await Client.connect(f"127.0.0.1:{dev_env['OVERDUE_TEMPORAL_PORT']}")
        await wait_clear_of_the_hour()
        customers = [
            Customer(
                hour=hour,
                zone=(zone := zone_where_it_is(hour)),
                today=local_today(zone),
                account=f"{README_ACCOUNT}-h{hour:02d}",
                walk=walk,
                port=dev_env["OVERDUE_API_PORT"],
                cwd=tmp_path,
            )
            for hour in HOURS
        ]
        await asyncio.gather(*(started(c) for c in customers))
        looks = await asyncio.gather(*(settled(c) for c in customers))
        for customer, (contacts, status) in zip(customers, looks, strict=True):
            check_first_actions(customer, contacts, status)
            made = sorted((c["stage_id"], c["status"]) for c in contacts)
            action = status["next_action"]
            print(f"{customer}: {made}, next {action['stage_id']} at {action['at']}")
        paying = [paid(c, temporal, look[0]) for c, look in zip(customers, looks, strict=True)]
        await asyncio.gather(*paying)
        walked = time.monotonic() - began
    took = time.monotonic() - began
    # pytest's timeout (pyproject.toml) bounds the whole test; this shows where the time went.
    print(f"stack ready at {ready:.1f} s, walkthroughs done at {walked:.1f} s, all {took:.1f} s")
