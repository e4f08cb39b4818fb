"""Every `workflow.patched` id the account workflow uses: what each changed, and when it can go.

`workflow.patched(id)` keeps a running workflow on the code its history was recorded with: it
is true for a new workflow (and writes a marker into its history), and on replay only where the
history has that marker. Markers are matched in order, so a patch is never renamed, reused or
dropped while a workflow whose history carries it may still be replayed (run, or queried after
it closed): a marker the code no longer asks about fails the replay (TMPRL1100). Each id a
workflow meets also costs it one billed upsert of `TemporalChangeVersion`, which is why one
release's changes share one id.

A process started on a release that already carried an id (`OverdueAccountInput.release`,
`GIVEN_SINCE` below) never asks it: `patched` answers true without a marker. Only processes
from before that release pay for the marker, and only they can need an old branch.

Retiring an id takes two releases (docs/operations.md, "Retiring a patch id"):

1. **Deprecate**: once no workflow that started before the id's release is open or still
   queried (the retention period after the last one closed; check with a list query on
   `StartTime`), delete the old branch and call `workflow.deprecate_patch(id)` where
   `patched(id)` was. The histories in tests/histories still replay then (checked for the
   first three ids below: the old branches issue the same commands when no payment lands during a
   contact, and no recorded history uses a `process_start` policy).
2. **Remove**: once no workflow that ran a release still calling `patched(id)` is open or still
   queried, delete the `deprecate_patch` call too. The histories recorded with the marker
   (`call_task_given_up_on_resolution`, `sms_withheld_for_a_payment_in_flight`,
   `sms_withheld_partial_payment_sent_again`) must be re-recorded first: their markers are not
   marked deprecated, so they would stop replaying.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

GIVE_UP_CONTACTS_ON_RESOLUTION = "give-up-contacts-on-resolution"
GIVE_UP_AFTER_THE_ATTEMPT = "give-up-after-the-attempt-under-way"
ANCHOR_AT_EXECUTION_START = "anchor-at-execution-start"
# One id per release: each id a workflow meets costs a billed TemporalChangeVersion upsert.
HARDENING_2026_12 = "hardening-2026-12"
# Where each change of that release asks it (both read the one marker).
AUDIT_RECEIVED_EVENTS = HARDENING_2026_12
PARK_ON_UNEXPECTED_ERROR = HARDENING_2026_12
# Issue 14 (compliance), one id for the release. Stage validity asks it (workflows/
# overdue_account.py, _decide); other changes of that release that alter what an existing
# workflow does share it.
COMPLIANCE_2026_12 = "compliance-2026-12"
STAGE_VALIDITY = COMPLIANCE_2026_12
# Issues 16-18 (desk, self-service, strategy), one id for the release.
DESK_2026_12 = "desk-2026-12"
AUDIT_EVENTS_DURING_CHORES = DESK_2026_12

# The code releases a starter stamps on a new process (`OverdueAccountInput.release`); 0 is
# every input from before the field. A process started on release R runs R's code from its
# first task, so every id R already carried is true for it without asking: no marker in its
# history, no billed `TemporalChangeVersion` upsert. Only processes from before R ask (and
# replay what they answered). An id added later names the first release that takes it as given.
COST_2026_12 = 1  # issue 19: search attributes on transitions only (workflows/publishing.py)
CLOSING_2026_12 = 2  # issue 19: a finished account's audit and cancel in one activity (closing.py)
# issue 19: the start input and the carried record name their policy by digest
# (workflows/policy_shelf.py); an older worker cannot read such an input, hence the release.
POLICY_BY_DIGEST_2026_12 = 3
# issue 19: the end's `close_process` is a local activity, run in the workflow task that
# finished the account (workflows/closing.py): no round trip through the server between a
# payment in full and the process's end. The commands change, hence the release.
LOCAL_CLOSE_2026_12 = 4
RELEASES = {
    0: "before cost-2026-12",
    COST_2026_12: "cost-2026-12",
    CLOSING_2026_12: "closing-2026-12",
    POLICY_BY_DIGEST_2026_12: "policy-by-digest-2026-12",
    LOCAL_CLOSE_2026_12: "local-close-2026-12",
}
GIVEN_SINCE: dict[str, int] = {
    GIVE_UP_CONTACTS_ON_RESOLUTION: COST_2026_12,
    GIVE_UP_AFTER_THE_ATTEMPT: COST_2026_12,
    ANCHOR_AT_EXECUTION_START: COST_2026_12,
    HARDENING_2026_12: COST_2026_12,
    COMPLIANCE_2026_12: COST_2026_12,
    DESK_2026_12: COST_2026_12,  # shipped in the same release as cost-2026-12
}


def patched(patch_id: str, started_on: int | None = None) -> bool:
    """`workflow.patched(patch_id)`, asked only by a process started before a release that
    carried the id. `started_on`: the input's release (default: the running workflow's
    `started_on_release`, for code that has no input at hand)."""
    if started_on is None:
        started_on = int(getattr(workflow.instance(), "started_on_release", 0))
    if started_on >= GIVEN_SINCE.get(patch_id, len(RELEASES)):
        return True
    return workflow.patched(patch_id)


@dataclass(frozen=True)
class Patch:
    id: str
    since: str  # the commit that brought it in
    changed: str  # what `patched(id)` true does that the old branch does not
    asked: str  # where the workflow asks, which decides where its marker lands in a history
    deprecate_when: str
    remove_when: str


PATCHES: tuple[Patch, ...] = (
    Patch(
        id=GIVE_UP_CONTACTS_ON_RESOLUTION,
        since="8f7d46e",
        changed="An SMS or notice still running or retrying when the account resolves is given "
        "up (its activity cancelled, the stage not contacted) instead of awaited to its end, "
        "so a customer who has paid gets no reminder from a provider outage's retries.",
        asked="every SMS and notice attempt, after GIVE_UP_AFTER_THE_ATTEMPT "
        "(workflows/contact_attempt.py, MESSAGES)",
        deprecate_when="no workflow started before 8f7d46e is open or queried",
        remove_when="no workflow started before the deprecating release is open or queried, "
        "and the three recorded histories with its marker are re-recorded",
    ),
    Patch(
        id=GIVE_UP_AFTER_THE_ATTEMPT,
        since="3706849 (the call-task gate since 49a102e)",
        changed="Call tasks are given up on resolution too, and every contact given up waits "
        "for its attempt under way to end (WAIT_CANCELLATION_COMPLETED instead of TRY_CANCEL): "
        "nothing it does lands after the process closed or after its call tasks were cancelled.",
        asked="every contact attempt: for SMS and notices first, to choose the cancellation "
        "type; for call tasks as their give-up gate (workflows/contact_attempt.py, CALL_TASKS)",
        deprecate_when="no workflow started before 3706849 is open or queried",
        remove_when="no workflow started before the deprecating release is open or queried, "
        "and the three recorded histories with its marker are re-recorded",
    ),
    Patch(
        id=ANCHOR_AT_EXECUTION_START,
        since="3706849",
        changed="A `process_start` policy counts its stages from the execution's start instead "
        "of its first workflow task's, which a worker outage or backlog delays.",
        asked="once, in the first run (a carried record keeps its anchor), and only by "
        "`process_start` policies (workflows/overdue_account.py, _process_start): other "
        "policies' histories never carry it",
        deprecate_when="no workflow with a `process_start` policy started before 3706849 is "
        "open or queried (only demo and benchmark policies use that anchor)",
        remove_when="no `process_start` workflow started before the deprecating release is "
        "open or queried; no recorded history carries this marker",
    ),
    Patch(
        id=HARDENING_2026_12,
        since="issue 13 (hardening), 2026-12",
        changed="(1) Payments, hardship reports, disputes and cease-contact requests new to the "
        "workflow are handed to the `record_received_events` activity, which records those that "
        "reached it without the API (actor `temporal-direct`) in reported_events and the audit "
        "trail: one activity (one billed action) per pass of the run loop that received any. "
        "(2) An exception that is not a deliberate Temporal failure, raised by the run loop, "
        "the decision code or a signal or update handler, parks the account "
        "(`workflows/parking.py`: state `parked`, a reason code in the status, the "
        "`OverdueState` search attribute and the current details) until `resume_by_ops` or an "
        "event, instead of failing the workflow task again and again.",
        asked="(1) by the run loop, only when events new to the workflow wait to be recorded "
        "(_audit_received_events); (2) only when such an exception is caught (_may_park). A "
        "workflow that meets neither never carries the marker; a workflow wedged by an older "
        "release asks on its first task under this one, and parks",
        deprecate_when="no workflow started before this release is open or queried, and none "
        "whose history holds a failed workflow task from before it (a list query on "
        "`OverdueState` and the failed-task count)",
        remove_when="the deprecating release has run everywhere, and the recorded histories "
        "that carry the marker (`events_audited`, `parked_on_a_total_beyond_int64`) are "
        "re-recorded",
    ),
    Patch(
        id=COMPLIANCE_2026_12,
        since="issue 14 (compliance), 2026-12",
        changed="Stage validity (workflows/stage_validity.py): a due stage whose end has come "
        "(`until`; a pre-due stage ends at the due date by default) is passed over as expired "
        "instead of acting, also on catch-up and after a pause; the policy's `written_notice` "
        "is never skipped by catch-up while unsent, acts before a call stage that would act "
        "without it, and while it cannot go the call stage is suppressed "
        "(`no_written_notice: ...`).",
        asked="by the run loop, only when the decision under the new rules differs from the "
        "one under the old (`decisions.next_step` against `next_step_before_compliance`, both "
        "pure): a workflow that never meets a difference (a start before the pre-due stage, "
        "no written notice in its policy, no call before it) never carries the marker. Once "
        "asked, the answer holds for the rest of the run",
        deprecate_when="no workflow started before this release is open or queried; the "
        "history recorded on the old rules (`late_start_day_after_due_before_compliance`, by "
        "3743d66) goes with the old branch: no workflow runs those rules any more",
        remove_when="the deprecating release has run everywhere, and the recorded histories "
        "that carry the marker (`late_start_day_after_due`) are re-recorded",
    ),
    Patch(
        id=DESK_2026_12,
        since="issues 16-18 (desk, self-service, strategy), 2026-12-03",
        changed="Events that reach the workflow while the run loop's chores run (the audit "
        "activity of earlier events, a task cancellation, a requested task) are handed to the "
        "audit activity in the same pass, before the loop waits again; before, they waited "
        "for the next wake, which a disputed or paused account may not have for days.",
        asked="by the run loop, only when events are still waiting to be recorded at the end "
        "of its chores (_do_chores): a workflow that never receives an event during its "
        "chores never carries the marker",
        deprecate_when="no workflow started before this release is open or queried",
        remove_when="the deprecating release has run everywhere, and the recorded history "
        "that carries the marker (`events_audited_during_chores`) is re-recorded",
    ),
)

# Changes that needed no id (issue 13): `SmsConsentChanged.version` (a stale consent change is
# ignored) and `OverdueAccountInput.bill_id` (the bill a process started with counts as seen)
# act only on fields that no recorded history carries, so every history replays the old
# behaviour unchanged; a signal or input with them can only come from the new API.

# Ids that were used and are gone. Never use one again: a history that carries it would take
# the new code's meaning. `give-up-call-tasks-on-resolution` was asked by call tasks in
# 3706849 only and dropped, without deprecation, for GIVE_UP_AFTER_THE_ATTEMPT in 49a102e: a
# workflow that ran 3706849 and created a call task cannot replay on later code.
RETIRED: tuple[str, ...] = ("give-up-call-tasks-on-resolution",)
